import Foundation
import LaueCore
import LaueDefects

/// Orientation analytics of a scan on its raster (docs/scan-pipeline.md, "Orientation analytics"),
/// every misorientation the smallest over the crystal's symmetry:
/// - **KAM** (kernel average misorientation) of a cell: the mean misorientation to its first
///   neighbours (left, right, above, below) that are indexed and closer than `kamThreshold`
///   (neighbours across a grain boundary are left out); NaN without such a neighbour.
/// - **Grains**: cells joined through first neighbours misoriented by less than `grainThreshold`
///   (connected components), numbered from 0 in raster order of their first cell.
/// - **GROD** (grain reference orientation deviation) of a cell: its misorientation to the mean
///   orientation of its grain.
/// - **GND density from orientation gradients** (a lower bound under stated conditions): with the
///   lattice curvature κ_ij = ∂θ_i/∂x_j measured along the map's two axes (θ the rotation to the first
///   neighbours closer than `kamThreshold`; the gradient along the surface normal, into the sample, is
///   unknown and taken as 0), the Nye tensor α = κᵀ − tr(κ) I has ‖α‖_F² = ‖κ‖_F² + tr(κ)² ≥ ‖κ‖_F²,
///   and dislocations of densities ρ_k with Burgers vectors b_k give ‖α‖_F ≤ Σ ρ_k |b_k|, so
///   ρ ≥ √(κ_x² + κ_y²) / b, κ_x (κ_y) the misorientation angle per length to the neighbours along x
///   (y), averaged over the two sides. Frame-free: it needs neither the map axes in the crystal's frame
///   nor the sample tilt. It is a lower bound when b is the longest Burgers vector present (with the
///   shortest lattice translation, the default, it is the density of dislocations of that Burgers
///   vector: LiCoO2's basal a/3<11-20>; longer ones lower it by b/b_long), when x_um/y_um are distances
///   on the sample surface (a projected stage step inflates κ), and above the noise floor: misorientation
///   angles are positive, so orientation noise σ adds about √2·σ per step (compare with an undeformed
///   region of the same scan).
public struct OrientationAnalytics: Sendable {
    /// KAM threshold, degrees (MTEX's and orix's usual 5°).
    public static let defaultKAMThreshold = 5.0
    /// Grain-boundary threshold, degrees.
    public static let defaultGrainThreshold = 5.0

    public struct Grain: Sendable {
        public var id: Int
        public var cells: [Int]
        /// Mean orientation (a rotation, symmetry-aware average of the grain's cells).
        public var meanOrientation: Mat3
        public var meanGROD: Double
        public var maximumGROD: Double
    }

    public var columns: Int
    public var rows: Int
    /// Per cell (row-major), degrees; NaN where not indexed or without a neighbour below the threshold.
    public var kam: [Double]
    /// Per cell, the grain number; -1 where not indexed.
    public var grainID: [Int]
    /// Per cell, degrees; NaN where not indexed.
    public var grod: [Double]
    public var grains: [Grain]
    /// Per cell, m⁻²: the lower bound of the GND density from orientation gradients; NaN where not
    /// indexed, without a neighbour closer than the KAM threshold, or without steps.
    public var gndGradient: [Double]

    /// - Parameters:
    ///   - orientations: per cell (row-major) the orientation matrix, nil where not indexed.
    ///   - step: the raster's steps along x and y, µm (0 or NaN: that direction has no neighbours).
    ///   - burgers: Burgers vector length, Å (default: the material's shortest lattice translation).
    public init(orientations: [Mat3?], columns: Int, rows: Int, material: Material,
                kamThreshold: Double = defaultKAMThreshold, grainThreshold: Double = defaultGrainThreshold,
                step: (x: Double, y: Double) = (.nan, .nan), burgers: Double? = nil) {
        self.columns = columns; self.rows = rows
        let n = columns * rows
        let rotations = orientations.map { $0.map(LinearAlgebra.nearestRotation) }
        let symmetry = material.symmetryRotations
        // Misorientation of each cell to its right and lower neighbour (nil: one of them not indexed).
        var right = [Double?](repeating: nil, count: n), down = [Double?](repeating: nil, count: n)
        for p in 0..<n {
            guard let a = rotations[p] else { continue }
            let (i, j) = (p % columns, p / columns)
            if i + 1 < columns, let b = rotations[p + 1] { right[p] = Misorientation.angle(a, b, symmetry: symmetry) }
            if j + 1 < rows, let b = rotations[p + columns] { down[p] = Misorientation.angle(a, b, symmetry: symmetry) }
        }
        // KAM.
        kam = [Double](repeating: .nan, count: n)
        for p in 0..<n where rotations[p] != nil {
            let (i, j) = (p % columns, p / columns)
            let near = [i > 0 ? right[p - 1] : nil, right[p], j > 0 ? down[p - columns] : nil, down[p]].compactMap { $0 }
                .filter { $0 < kamThreshold }
            if !near.isEmpty { kam[p] = near.reduce(0, +) / Double(near.count) }
        }
        gndGradient = OrientationAnalytics.gradientGND(right: right, down: down, columns: columns, rows: rows, threshold: kamThreshold,
                                                       step: step, burgers: burgers ?? GNDDensity.shortestTranslation(material))
        // Grains: union-find over neighbour pairs below the threshold.
        var parent = Array(0..<n)
        func find(_ x: Int) -> Int { var x = x; while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }; return x }
        func join(_ a: Int, _ b: Int) { let (ra, rb) = (find(a), find(b)); if ra != rb { parent[max(ra, rb)] = min(ra, rb) } }
        for p in 0..<n {
            if let d = right[p], d < grainThreshold { join(p, p + 1) }
            if let d = down[p], d < grainThreshold { join(p, p + columns) }
        }
        grainID = [Int](repeating: -1, count: n)
        var idOfRoot: [Int: Int] = [:]
        var members: [[Int]] = []
        for p in 0..<n where rotations[p] != nil {
            let root = find(p)
            let id = idOfRoot[root] ?? { let k = members.count; idOfRoot[root] = k; members.append([]); return k }()
            grainID[p] = id
            members[id].append(p)
        }
        // GROD against each grain's mean orientation.
        grod = [Double](repeating: .nan, count: n)
        grains = []
        for (id, cells) in members.enumerated() {
            let mean = OrientationStatistics.mean(cells.map { rotations[$0]! }, material: material) ?? rotations[cells[0]]!
            var sum = 0.0, worst = 0.0
            for p in cells {
                let d = Misorientation.angle(rotations[p]!, mean, symmetry: symmetry)
                grod[p] = d; sum += d; worst = max(worst, d)
            }
            grains.append(Grain(id: id, cells: cells, meanOrientation: mean, meanGROD: sum / Double(cells.count), maximumGROD: worst))
        }
    }

    /// The GND-density lower bound of every cell from the misorientations (degrees) to its right and
    /// lower neighbours (see the type's documentation).
    static func gradientGND(right: [Double?], down: [Double?], columns: Int, rows: Int, threshold: Double,
                            step: (x: Double, y: Double), burgers: Double) -> [Double] {
        let n = columns * rows
        var out = [Double](repeating: .nan, count: n)
        guard burgers > 0 else { return out }
        let radians = Double.pi / 180
        /// Mean curvature (rad/m) over the available sides closer than the threshold; nil without one.
        func curvature(_ sides: [Double?], _ length: Double) -> Double? {
            guard length.isFinite, length > 0 else { return nil }
            let near = sides.compactMap { $0 }.filter { $0 < threshold }
            guard !near.isEmpty else { return nil }
            return near.reduce(0, +) / Double(near.count) * radians / (length * 1e-6)
        }
        for p in 0..<n {
            let (i, j) = (p % columns, p / columns)
            // Only indexed cells have misorientations (a side is nil when either cell is not indexed).
            let kx = curvature([i > 0 ? right[p - 1] : nil, right[p]], step.x)
            let ky = curvature([j > 0 ? down[p - columns] : nil, down[p]], step.y)
            guard kx != nil || ky != nil else { continue }
            out[p] = ((kx ?? 0) * (kx ?? 0) + (ky ?? 0) * (ky ?? 0)).squareRoot() / (burgers * 1e-10)
        }
        return out
    }
}
