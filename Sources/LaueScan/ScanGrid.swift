import Foundation
import LaueCore

/// The raster of a scan: the x and y levels of the stage positions (micrometres, ascending) and each
/// pattern's column and row, inferred from the positions as recorded (read-back values with jitter).
///
/// The step is the median distance from each position to its nearest other position (in 2-D: neither
/// read-back jitter, missing rows nor far-off positions change it). Along each axis the sorted
/// positions are split where two neighbours are more than half that step apart (never closer than
/// `levelTolerance`); a level is the median of its members; a gap of k steps between two levels
/// (missing rows or columns) gets k − 1 empty levels, so that the map keeps its geometry (up to
/// `maximumFilledGap`). Jitter up to a quarter of the smaller step keeps every pattern in its cell.
/// Positions that do not form a raster (more cells than `scatterCellsPerPattern` per pattern) are
/// mapped on a square grid of the nearest-neighbour distance (coarser when the extent would need more
/// than that many cells per pattern), each pattern to its nearest cell, with a warning; so are
/// patterns that fall into an occupied cell. A pattern without a finite position (a `failed` row) has
/// no cell.
public struct ScanGrid: Sendable {
    public var xs: [Double]
    public var ys: [Double]
    /// (column, row) per record, in the order given; nil where the position is not finite.
    public var cells: [(column: Int, row: Int)?]
    /// What the inference had to assume (scattered positions, patterns sharing a cell).
    public var warnings: [String] = []

    public var columns: Int { xs.count }
    public var rows: Int { ys.count }

    /// Cells per pattern above which positions are not a raster (and the most a scattered map gets).
    public static let scatterCellsPerPattern = 4
    /// Positions of one axis closer than this are one level whatever the step, micrometres (20 nm:
    /// read-back jitter of piezo stages is 10-50 nm peak to peak; micro-Laue steps are 0.05 µm and more).
    public static let levelTolerance = 0.02
    /// Longest run of missing rows or columns filled with empty levels (farther-off levels stay next
    /// to the raster: a stray position must not make a giant map).
    public static let maximumFilledGap = 64

    /// Flood fill over the raster (scikit-image's `flood`): the points of `candidates` (record
    /// positions) connected to a point of `seeds` through a chain of points, each within `radius` cells
    /// (Chebyshev distance) of the one before and `linked` to it. Seeds are not in the result; points
    /// without a cell are never reached.
    public func flood(from seeds: Set<Int>, through candidates: [Int], radius: Int = 1, linked: (Int, Int) -> Bool) -> Set<Int> {
        var byCell: [Int: [Int]] = [:]
        func add(_ k: Int) { if let c = cells[k] { byCell[c.row * columns + c.column, default: []].append(k) } }
        seeds.forEach(add)
        var open = candidates.filter { !seeds.contains($0) && cells[$0] != nil }
        var reached = Set<Int>()
        while true {
            let now = open.filter { k in
                let c = cells[k]!
                for row in max(0, c.row - radius)...min(rows - 1, c.row + radius) {
                    for column in max(0, c.column - radius)...min(columns - 1, c.column + radius)
                    where (byCell[row * columns + column] ?? []).contains(where: { $0 != k && linked($0, k) }) { return true }
                }
                return false
            }
            guard !now.isEmpty else { return reached }
            now.forEach(add)
            reached.formUnion(now)
            open.removeAll { reached.contains($0) }
        }
    }

    /// - Parameter tolerance: positions closer than this are one level whatever the step (micrometres).
    public init(x: [Double], y: [Double], tolerance: Double = ScanGrid.levelTolerance) {
        let points = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
        let d = points.count > 1 ? ScanGrid.nearestNeighbourDistance(points) : 0
        let split = max(tolerance, d / 2)
        xs = ScanGrid.filled(ScanGrid.levels(points.map(\.0), split: split))
        ys = ScanGrid.filled(ScanGrid.levels(points.map(\.1), split: split))
        let limit = ScanGrid.scatterCellsPerPattern * max(points.count, 1)
        if xs.count * ys.count > limit, points.count > 1 {
            let (xl, xh) = (points.map(\.0).min()!, points.map(\.0).max()!), (yl, yh) = (points.map(\.1).min()!, points.map(\.1).max()!)
            var cell = d > 0 ? d : 1
            while ((xh - xl) / cell + 1) * ((yh - yl) / cell + 1) > Double(limit) { cell *= 2 }
            warnings.append(String(format: "the %d positions do not form a raster (%d x %d levels): mapped by nearest cell on a %.4g µm grid",
                                   points.count, xs.count, ys.count, cell))
            xs = (0...Int(((xh - xl) / cell).rounded())).map { xl + Double($0) * cell }
            ys = (0...Int(((yh - yl) / cell).rounded())).map { yl + Double($0) * cell }
        }
        let (xs, ys) = (self.xs, self.ys)
        cells = zip(x, y).map { $0.isFinite && $1.isFinite ? (ScanGrid.nearest(xs, $0), ScanGrid.nearest(ys, $1)) : nil }
        var seen = Set<Int>(), shared = 0
        for c in cells { if let c, !seen.insert(c.row * xs.count + c.column).inserted { shared += 1 } }
        if shared > 0 { warnings.append("\(shared) patterns fall into a cell already taken (the map shows the last of each cell)") }
    }

    /// Levels of one axis: sorted positions split where neighbours are more than `split` apart, each
    /// level the median of its members.
    static func levels(_ values: [Double], split: Double) -> [Double] {
        let v = values.sorted()
        guard let first = v.first else { return [] }
        var out: [Double] = [], group: [Double] = [first]
        for (a, previous) in zip(v.dropFirst(), v) {
            if a - previous > split { out.append(group[group.count / 2]); group = [] }
            group.append(a)
        }
        out.append(group[group.count / 2])
        return out
    }

    /// `levels` with empty levels inserted where k steps (the median spacing) separate two levels,
    /// for k up to `maximumFilledGap`.
    static func filled(_ levels: [Double]) -> [Double] {
        guard levels.count > 2 else { return levels }
        let gaps = zip(levels.dropFirst(), levels).map { $0 - $1 }.sorted()
        let step = gaps[(gaps.count - 1) / 2]
        guard step > 0 else { return levels }
        var out = [levels[0]]
        for (a, previous) in zip(levels.dropFirst(), levels) {
            let k = Int(((a - previous) / step).rounded())
            if k >= 2, k <= maximumFilledGap { for m in 1..<k { out.append(previous + (a - previous) * Double(m) / Double(k)) } }
            out.append(a)
        }
        return out
    }

    /// Index of the level nearest to `v` (levels ascending, not empty).
    static func nearest(_ levels: [Double], _ v: Double) -> Int {
        var lo = 0, hi = levels.count - 1
        while lo < hi { let m = (lo + hi) / 2; if levels[m] < v { lo = m + 1 } else { hi = m } }
        if lo > 0, v - levels[lo - 1] <= levels[lo] - v { return lo - 1 }
        return lo
    }

    /// Median distance from each point to its nearest other point (positive; 1 when all coincide).
    static func nearestNeighbourDistance(_ p: [(Double, Double)]) -> Double {
        let sorted = p.sorted { $0.0 < $1.0 }
        var d: [Double] = []
        for i in sorted.indices {
            var best = Double.infinity
            var j = i + 1
            while j < sorted.count, sorted[j].0 - sorted[i].0 < best { best = min(best, hypot(sorted[j].0 - sorted[i].0, sorted[j].1 - sorted[i].1)); j += 1 }
            j = i - 1
            while j >= 0, sorted[i].0 - sorted[j].0 < best { best = min(best, hypot(sorted[j].0 - sorted[i].0, sorted[j].1 - sorted[i].1)); j -= 1 }
            if best > 0, best.isFinite { d.append(best) }
        }
        guard !d.isEmpty else { return 1 }
        d.sort()
        return d[d.count / 2]
    }

    /// Step sizes (median spacing), micrometres (0 for a single line).
    public var step: (x: Double, y: Double) {
        func s(_ v: [Double]) -> Double {
            guard v.count > 1 else { return 0 }
            let d = zip(v.dropFirst(), v).map { $0 - $1 }.sorted()
            return d[d.count / 2]
        }
        return (s(xs), s(ys))
    }

    /// A rows x columns map (row-major) with `fill` where no pattern lies.
    public func map(_ values: [Double], fill: Double = .nan) -> [Double] {
        var m = [Double](repeating: fill, count: rows * columns)
        for (v, cell) in zip(values, cells) { if let c = cell { m[c.row * columns + c.column] = v } }
        return m
    }
}

/// Orientation statistics over a scan.
public enum OrientationStatistics {
    /// Mean orientation of rotation matrices (symmetry-aware: each is first re-expressed closest to a
    /// reference, then quaternions are averaged), or nil without any.
    public static func mean(_ orientations: [Mat3], material: Material) -> Mat3? {
        let rotations = orientations.map(LinearAlgebra.nearestRotation)
        guard let reference = rotations.first else { return nil }
        var sum = (w: 0.0, x: 0.0, y: 0.0, z: 0.0)
        let q0 = Quaternion(matrix: reference)
        for u in rotations {
            let (_, s) = Misorientation.minimal(u, reference, symmetry: material.symmetryRotations)
            var q = Quaternion(matrix: u * s)
            if q.w * q0.w + q.x * q0.x + q.y * q0.y + q.z * q0.z < 0 { q = Quaternion(w: -q.w, x: -q.x, y: -q.y, z: -q.z) }
            sum.w += q.w; sum.x += q.x; sum.y += q.y; sum.z += q.z
        }
        let n = (sum.w * sum.w + sum.x * sum.x + sum.y * sum.y + sum.z * sum.z).squareRoot()
        guard n > 0 else { return reference }
        return Quaternion(w: sum.w / n, x: sum.x / n, y: sum.y / n, z: sum.z / n).matrix
    }

    /// Inverse-pole-figure colour (0...1 RGB) of the lab direction `direction` for a crystal in
    /// orientation `u`: cubic standard triangle [001] red, [101] green, [111] blue; hexagonal and
    /// trigonal [0001] red, [2-1-10] green, [10-10] blue (the 6/mmm sector; -3m orientations related by a
    /// 60 degree turn about c share a colour); other systems grey.
    public static func ipfColour(_ u: Mat3, direction: Vec3 = Vec3(0, 0, 1), material: Material) -> (Double, Double, Double) {
        let r = LinearAlgebra.nearestRotation(u)
        return ipfColour(crystalDirection: r.transposed * direction, material: material)
    }

    /// IPF colour of a direction given in the Cartesian crystal frame.
    public static func ipfColour(crystalDirection: Vec3, material: Material) -> (Double, Double, Double) {
        let d = crystalDirection.normalized
        switch material.spaceGroup.crystalSystem {
        case .cubic:
            var v = [abs(d.x), abs(d.y), abs(d.z)].sorted()      // x <= y <= z
            let red = v[2] - v[1], green = v[1] - v[0], blue = v[0]
            v = [red, green, blue]
            let m = max(v[0], v[1], v[2])
            return m > 0 ? (pow(red / m, 0.5), pow(green / m, 0.5), pow(blue / m, 0.5)) : (0, 0, 0)
        case .hexagonal, .trigonal:
            let lat = material.lattice
            let c = lat.cartesian(direction: Vec3(0, 0, 1)).normalized
            let a1 = lat.cartesian(direction: Vec3(1, 0, 0)).normalized
            let a2 = c.cross(a1).normalized
            let theta = acos(min(1, abs(d.dot(c)))) * 180 / .pi                    // 0...90
            var phi = atan2(d.dot(a2), d.dot(a1)) * 180 / .pi
            phi = phi.truncatingRemainder(dividingBy: 60); if phi < 0 { phi += 60 }
            if phi > 30 { phi = 60 - phi }                                            // 0...30
            let t = theta / 90, f = phi / 30
            let red = 1 - t, green = t * (1 - f), blue = t * f
            let m = max(red, green, blue)
            return m > 0 ? (pow(red / m, 0.5), pow(green / m, 0.5), pow(blue / m, 0.5)) : (0, 0, 0)
        default:
            return (0.6, 0.6, 0.6)
        }
    }
}
