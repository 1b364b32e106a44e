import Foundation
import Testing
import LaueCore
import LaueDefects
import LaueScan

/// The GND-density lower bound from orientation gradients (issue 15.6): on a crystal bent at a known
/// rate, the map equals the curvature over the Burgers vector computed here from trigonometry.
@Suite struct GradientGNDTests {
    let lco = try! Material.builtin("LiCoO2")

    /// A rotation by `degrees` about `axis` (lab frame) applied to `u`.
    func turned(_ u: Mat3, _ degrees: Double, about axis: Vec3) -> Mat3 {
        Quaternion(axis: axis, angle: degrees * Double.pi / 180).matrix * u
    }

    @Test func bentCrystalGivesItsCurvatureOverB() throws {
        let (columns, rows, step, perStep) = (6, 3, 0.5, 0.05)        // 0.05° per 0.5 µm along x, none along y
        let start = Quaternion(axis: Vec3(0.3, -0.5, 0.8).normalized, angle: 0.7).matrix
        let threeFold = Quaternion(axis: LinearAlgebra.nearestRotation(start) * (lco.B0 * Vec3(0, 0, 1)).normalized, angle: 2 * Double.pi / 3).matrix
        var cells: [Mat3?] = []
        for j in 0..<rows {
            for i in 0..<columns {
                var u = turned(start, perStep * Double(i), about: Vec3(0, 1, 0))
                // The same orientation written with another symmetry equivalent (120° about c): still 0.05°.
                if (i + j) % 2 == 1 { u = u * LinearAlgebra.nearestRotation(start).transposed * threeFold.transposed * LinearAlgebra.nearestRotation(start) }
                cells.append(u)
            }
        }
        // The last column is another grain, 10° away: a boundary, left out of the gradient.
        for j in 0..<rows { cells[j * columns + columns - 1] = turned(start, 10, about: Vec3(1, 0, 0)) }
        let a = OrientationAnalytics(orientations: cells, columns: columns, rows: rows, material: lco, step: (step, step))
        let b = GNDDensity.shortestTranslation(lco)
        #expect(abs(b - 2.8156) < 1e-3)
        let expected = (perStep * Double.pi / 180) / (step * 1e-6) / (b * 1e-10)
        for j in 0..<rows {
            for i in 0..<(columns - 1) {
                let v = a.gndGradient[j * columns + i]
                #expect(abs(v - expected) <= 1e-6 * expected, "cell (\(i), \(j)): \(v), expected \(expected)")
            }
            // The other grain is uniform (its cells agree with each other along y) and the 10° boundary is
            // left out: no gradient there (with the boundary it would be 200 times the bend).
            #expect(a.gndGradient[j * columns + columns - 1] < 1e-6 * expected, "\(a.gndGradient[j * columns + columns - 1])")
        }
        // Without steps there is no gradient.
        let noSteps = OrientationAnalytics(orientations: cells, columns: columns, rows: rows, material: lco).gndGradient
        #expect(noSteps.allSatisfy { $0.isNaN })
    }

    /// Bent along both axes: the bound adds the two curvatures in quadrature.
    @Test func twoDirectionsAddInQuadrature() {
        let (columns, rows, sx, sy) = (4, 4, 0.5, 1.0)
        var cells: [Mat3?] = []
        for j in 0..<rows { for i in 0..<columns {
            cells.append(turned(turned(.identity, 0.02 * Double(i), about: Vec3(0, 0, 1)), 0.03 * Double(j), about: Vec3(1, 0, 0)))
        } }
        cells[5] = nil                                               // a cell not indexed
        let a = OrientationAnalytics(orientations: cells, columns: columns, rows: rows, material: lco, step: (sx, sy))
        let b = GNDDensity.shortestTranslation(lco) * 1e-10
        let kx = 0.02 * Double.pi / 180 / (sx * 1e-6), ky = 0.03 * Double.pi / 180 / (sy * 1e-6)
        let expected = (kx * kx + ky * ky).squareRoot() / b
        #expect(a.gndGradient[5].isNaN)
        // Cells whose neighbours are all indexed: within 1 % (rotations about two axes do not commute exactly).
        for p in [10, 15] {
            #expect(abs(a.gndGradient[p] - expected) <= 0.01 * expected, "cell \(p): \(a.gndGradient[p]), expected \(expected)")
        }
    }
}
