import Foundation
import LaueCore
import LaueIO

/// Orientation maps for texture tools (MTEX, orix, Channel 5): the Oxford Channel Text File (.ctf)
/// of a scan run (docs/scan-pipeline.md, "orientations.ctf").
///
/// Frames. LaueMap's orientation matrix UB (LaueTools' convention, q_lab = UB B0 hkl) takes vectors of
/// LaueTools' Cartesian crystal frame (x ∥ a*, B0 upper triangular) to the lab frame (x along the
/// beam, z up). The .ctf holds Bunge Euler angles (φ1, Φ, φ2, degrees) of the passive rotation g
/// from the sample frame to the standard Cartesian crystal frame of MTEX, orix and diffpy (x ∥ a,
/// z ∥ c*): g = S · Uᵀ · P, with U the rotation nearest to UB, S the change from LaueTools' crystal
/// frame to the standard one (the identity for cubic crystals), and P the sample tilt: the sample
/// frame is the lab frame turned by −tilt about lab y (as LaueTools' sample2 frame; tilt 0: the lab
/// frame itself).
public enum OrientationMapExport {
    /// Oxford's Laue-group code (1 = -1 ... 11 = m-3m) of a space group.
    public static func laueGroupCode(spaceGroup number: Int) -> Int {
        switch number {
        case ...2: return 1
        case ...15: return 2
        case ...74: return 3
        case ...88: return 4
        case ...142: return 5
        case ...148: return 6
        case ...167: return 7
        case ...176: return 8
        case ...194: return 9
        case ...206: return 10
        default: return 11
        }
    }

    /// S: coordinates in LaueTools' crystal frame (x ∥ a*) to the standard frame (x ∥ a, z ∥ c*).
    static func standardFrame(_ lattice: Lattice) -> Mat3 {
        let direct = lattice.directBasis                  // columns a, b, c in LaueTools' frame
        let b0 = lattice.B0
        let e1 = Vec3(direct[0, 0], direct[1, 0], direct[2, 0]).normalized
        let e3 = Vec3(b0[0, 2], b0[1, 2], b0[2, 2]).normalized
        let e2 = e3.cross(e1).normalized
        return Mat3(rows: e1, e2, e3)
    }

    /// The passive rotation g (sample frame -> standard crystal frame) of orientation matrix `ub`.
    public static func sampleToCrystal(_ ub: Mat3, lattice: Lattice, sampleTiltDegrees: Double = 0) -> Mat3 {
        standardFrame(lattice) * LinearAlgebra.nearestRotation(ub).transposed * DeviatoricStrain.sampleToLab(tiltDegrees: sampleTiltDegrees)
    }

    /// Bunge Euler angles (φ1, Φ, φ2) in degrees, φ1 and φ2 in [0, 360), of a rotation matrix g.
    public static func bungeAngles(_ g: Mat3) -> (Double, Double, Double) {
        let degrees = 180 / Double.pi
        let Phi = acos(max(-1, min(1, g[2, 2])))
        var phi1: Double, phi2: Double
        if sin(Phi) > 1e-9 {
            phi1 = atan2(g[2, 0], -g[2, 1]); phi2 = atan2(g[0, 2], g[1, 2])
        } else {                                  // Φ = 0 or 180°: only φ1 ± φ2 is defined; φ2 = 0
            phi1 = atan2(g[0, 1], g[0, 0]); phi2 = 0
        }
        func wrap(_ a: Double) -> Double { let d = (a * degrees).truncatingRemainder(dividingBy: 360); return d < 0 ? d + 360 : d }
        return (wrap(phi1), Phi * degrees, wrap(phi2))
    }

    /// The .ctf of `records` on their raster: one line per cell (x fastest), phase 1 with the Euler
    /// angles where a pattern is indexed, phase 0 with error 3 (no solution) elsewhere.
    public static func ctf(records: [PatternRecord], material: Material, title: String, sampleTiltDegrees: Double = 0) -> String {
        ctf(records: records, materials: [material], title: title, sampleTiltDegrees: sampleTiltDegrees)
    }

    /// The same with several phases: a row's phase number is its material's place in `materials` (from
    /// 1; a row without a recorded phase is of the first), with that phase's lattice.
    public static func ctf(records: [PatternRecord], materials: [Material], title: String, sampleTiltDegrees: Double = 0) -> String {
        let grid = ScanGrid(x: records.map(\.xUm), y: records.map(\.yUm))
        var byCell = [PatternRecord?](repeating: nil, count: grid.rows * grid.columns)
        for (r, c) in zip(records, grid.cells) { if let c { byCell[c.row * grid.columns + c.column] = r } }
        let step = grid.step
        let (sx, sy) = (step.x > 0 ? step.x : 1, step.y > 0 ? step.y : 1)
        let phases = materials.map { m in
            let l = m.lattice, sg = m.spaceGroup.number
            return String(format: "%.4f;%.4f;%.4f\t%.4f;%.4f;%.4f", l.a, l.b, l.c, l.alpha, l.beta, l.gamma)
                + "\t\(m.name)\t\(laueGroupCode(spaceGroup: sg))\t\(sg)"
        }
        var out = """
            Channel Text File
            Prj\t\(title)
            Author\tLaueMap \(LaueMapInfo.version) (Laue microdiffraction)
            JobMode\tGrid
            XCells\t\(grid.columns)
            YCells\t\(grid.rows)
            XStep\t\(String(format: "%.4f", sx))
            YStep\t\(String(format: "%.4f", sy))
            AcqE1\t0
            AcqE2\t0
            AcqE3\t0
            Euler angles refer to Sample Coordinate system (CS0)!\tMag\t0\tCoverage\t100\tDevice\t0\tKV\t0\tTiltAngle\t\(String(format: "%.2f", sampleTiltDegrees))\tTiltAxis\t0
            Phases\t\(materials.count)
            \(phases.joined(separator: "\n"))
            Phase\tX\tY\tBands\tError\tEuler1\tEuler2\tEuler3\tMAD\tBC\tBS

            """
        for row in 0..<grid.rows {
            for column in 0..<grid.columns {
                let (x, y) = (String(format: "%.4f", Double(column) * sx), String(format: "%.4f", Double(row) * sy))
                if let r = byCell[row * grid.columns + column], r.status == .indexed, let ub = r.orientation {
                    let phase = materials.firstIndex { $0.name == r.phase } ?? 0
                    let (a, b, c) = bungeAngles(sampleToCrystal(ub, lattice: materials[phase].lattice, sampleTiltDegrees: sampleTiltDegrees))
                    let quality = Int(((r.confidence ?? 0) * 255).rounded())
                    out += "\(phase + 1)\t\(x)\t\(y)\t\(r.indexedCount ?? 0)\t0\t" + String(format: "%.4f\t%.4f\t%.4f", a, b, c)
                        + "\t0.0000\t\(quality)\t\(quality)\n"
                } else {
                    out += "0\t\(x)\t\(y)\t0\t3\t0.0000\t0.0000\t0.0000\t0.0000\t0\t0\n"
                }
            }
        }
        return out
    }
}
