import Foundation
import LaueCore
import LaueXANES

/// Synthetic micro-XANES maps of a particle before and after chemical delithiation, with an edge
/// shift that depends on a defect map, on their own grid (step, offset, rotation): the test bed of
/// map normalisation, registration and correlation (docs/xanes.md).
///
/// Spectrum of a pixel with thickness t (the particle indicator sampled at the pixel, 0 outside):
/// mu(E) = 0.3 + 1e-4 (E - E0) + t [J (1/2 + atan((E - E0)/G)/pi) + W / (1 + ((E - E0 - 6)/L)^2)] + noise,
/// J = 1, G = 1.2 eV, W = 0.35, L = 3 eV; noise is Gaussian with SD `noise` x mu (relative to the
/// signal, as counting noise scales with it).
public struct XANESSimulation: Sendable {
    /// The Laue scan grid and, per point, its defect class (nil: outside the particle) and
    /// streaking extent (deg).
    public var laueGrid: MapGrid
    public var classes: [DefectClass?]
    public var streakExtent: [Double]
    /// The XANES grid in its own frame; a XANES point p sits at R(rotation) p + offset in the Laue frame.
    public var xanesGrid: MapGrid
    public var rotationDegrees = 0.0
    public var offsetUm = (x: 0.0, y: 0.0)
    /// 71 energies, 7690-7760 eV in 1 eV steps (a common micro-XANES map grid across the Co K edge).
    public var energies: [Double] = stride(from: 7690.0, through: 7760, by: 1).map { $0 }
    public var edgeBefore = 7722.0
    /// Shift of every particle pixel after delithiation (eV), plus a per-class extra and a term
    /// proportional to the streaking extent.
    public var globalShift = 1.5
    public var classShift: [DefectClass: Double] = [.gnd: 0.8, .tiltBoundaryGND: 0.8, .tiltBoundary: 0.3, .stackingTiltBoundaries: 0.5]
    public var shiftPerDegree = 0.0
    /// An extra shift per Laue point (eV), e.g. a smooth field unrelated to the defects (null tests).
    public var shiftField: [Double]? = nil
    public var noise = 0.01
    public var seed: UInt64 = 1

    public init(laueGrid: MapGrid, classes: [DefectClass?], streakExtent: [Double], xanesGrid: MapGrid) {
        self.laueGrid = laueGrid; self.classes = classes; self.streakExtent = streakExtent; self.xanesGrid = xanesGrid
    }

    /// The XANES frame in the Laue frame: the transform registration should recover.
    public var transform: RigidTransform { RigidTransform(rotationDegrees: rotationDegrees, translationX: offsetUm.x, translationY: offsetUm.y) }

    /// Laue-frame position of XANES pixel (i, j).
    public func laueFrame(column i: Int, row j: Int) -> (x: Double, y: Double) {
        transform.apply(x: xanesGrid.x(i), y: xanesGrid.y(j))
    }

    public struct Result: Sendable {
        public var before: XANESMap
        public var after: XANESMap
        /// Per XANES pixel: thickness (0 outside), the defect class found under it, the true edge
        /// shift after - before (eV, NaN outside).
        public var thickness: [Double]
        public var laueClass: [DefectClass?]
        public var trueShift: [Double]
    }

    public func run() throws -> Result {
        guard classes.count == laueGrid.count, streakExtent.count == laueGrid.count else {
            throw LaueError(.invalidArgument, "defect map: \(classes.count) classes for a \(laueGrid.columns) x \(laueGrid.rows) grid")
        }
        let n = xanesGrid.count, ne = energies.count
        var thickness = [Double](repeating: 0, count: n)
        var under = [DefectClass?](repeating: nil, count: n)
        var shift = [Double](repeating: .nan, count: n)
        for j in 0..<xanesGrid.rows {
            for i in 0..<xanesGrid.columns {
                let p = j * xanesGrid.columns + i
                let (x, y) = laueFrame(column: i, row: j)
                let (u, v) = laueGrid.pixel(x: x, y: y)
                thickness[p] = bilinearIndicator(u, v)
                let iu = Int(u.rounded()), iv = Int(v.rounded())
                guard iu >= 0, iv >= 0, iu < laueGrid.columns, iv < laueGrid.rows, thickness[p] > 0 else { continue }
                let c = classes[iv * laueGrid.columns + iu]
                under[p] = c
                let extent = streakExtent[iv * laueGrid.columns + iu]
                shift[p] = globalShift + (c.flatMap { classShift[$0] } ?? 0) + shiftPerDegree * (extent.isFinite ? extent : 0)
                    + (shiftField?[iv * laueGrid.columns + iu] ?? 0)
            }
        }
        var rng = SeededGenerator(seed: seed)
        func map(_ edgeOf: (Int) -> Double, label: String) throws -> XANESMap {
            var values = [Float](repeating: 0, count: ne * n)
            for p in 0..<n {
                let e0 = edgeOf(p), t = thickness[p]
                for (k, e) in energies.enumerated() {
                    var mu = 0.3 + 1e-4 * (e - edgeBefore)
                    if t > 0 {
                        let step = 0.5 + atan((e - e0) / 1.2) / .pi
                        let line = 0.35 / (1 + pow((e - e0 - 6) / 3, 2))
                        mu += t * (step + line)
                    }
                    values[k * n + p] = Float(mu * (1 + noise * rng.normal()))
                }
            }
            return try XANESMap(energies: energies, grid: xanesGrid, values: values, name: label)
        }
        let before = try map({ _ in edgeBefore }, label: "simulated before")
        let after = try map({ shift[$0].isFinite ? edgeBefore + shift[$0] : edgeBefore + globalShift }, label: "simulated after")
        return Result(before: before, after: after, thickness: thickness, laueClass: under, trueShift: shift)
    }

    /// Particle indicator (classes non-nil) interpolated bilinearly at continuous Laue pixel (u, v).
    func bilinearIndicator(_ u: Double, _ v: Double) -> Double {
        let u0 = Int(floor(u)), v0 = Int(floor(v))
        let fu = u - Double(u0), fv = v - Double(v0)
        func at(_ a: Int, _ b: Int) -> Double {
            guard a >= 0, b >= 0, a < laueGrid.columns, b < laueGrid.rows else { return 0 }
            return classes[b * laueGrid.columns + a] == nil ? 0 : 1
        }
        return (1 - fu) * (1 - fv) * at(u0, v0) + fu * (1 - fv) * at(u0 + 1, v0) + (1 - fu) * fv * at(u0, v0 + 1) + fu * fv * at(u0 + 1, v0 + 1)
    }
}
