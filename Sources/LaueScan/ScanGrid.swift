import Foundation
import LaueCore

/// The raster of a scan: distinct x and y stage positions (micrometres, ascending) and each pattern's
/// column and row. Positions closer than `tolerance` count as one; a pattern without a finite position
/// (a `failed` row) has no cell.
public struct ScanGrid: Sendable {
    public var xs: [Double]
    public var ys: [Double]
    /// (column, row) per record, in the order given; nil where the position is not finite.
    public var cells: [(column: Int, row: Int)?]

    public var columns: Int { xs.count }
    public var rows: Int { ys.count }

    public init(x: [Double], y: [Double], tolerance: Double = 1e-3) {
        func levels(_ v: [Double]) -> [Double] {
            var out: [Double] = []
            for a in v.filter(\.isFinite).sorted() where out.last.map({ a - $0 > tolerance }) ?? true { out.append(a) }
            return out
        }
        xs = levels(x); ys = levels(y)
        func find(_ levels: [Double], _ v: Double) -> Int {
            var lo = 0, hi = levels.count - 1
            while lo < hi { let m = (lo + hi) / 2; if levels[m] < v - tolerance { lo = m + 1 } else { hi = m } }
            return lo
        }
        let (xs, ys) = (self.xs, self.ys)
        cells = zip(x, y).map { $0.isFinite && $1.isFinite ? (find(xs, $0), find(ys, $1)) : nil }
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
