import Foundation

/// A 3x3 matrix of doubles stored by rows.
public struct Mat3: Hashable, Sendable, CustomStringConvertible {
    public var r0: Vec3
    public var r1: Vec3
    public var r2: Vec3

    @inlinable public init(rows r0: Vec3, _ r1: Vec3, _ r2: Vec3) {
        self.r0 = r0; self.r1 = r1; self.r2 = r2
    }

    @inlinable public init(columns c0: Vec3, _ c1: Vec3, _ c2: Vec3) {
        self.init(rows: Vec3(c0.x, c1.x, c2.x), Vec3(c0.y, c1.y, c2.y), Vec3(c0.z, c1.z, c2.z))
    }

    /// From nine values in row-major order.
    public init(_ m: [Double]) {
        precondition(m.count == 9, "Mat3 needs 9 values")
        self.init(rows: Vec3(m[0], m[1], m[2]), Vec3(m[3], m[4], m[5]), Vec3(m[6], m[7], m[8]))
    }

    /// From nested rows.
    public init(_ rows: [[Double]]) {
        precondition(rows.count == 3 && rows.allSatisfy { $0.count == 3 }, "Mat3 needs 3x3 values")
        self.init(rows: Vec3(rows[0]), Vec3(rows[1]), Vec3(rows[2]))
    }

    public static let identity = Mat3(rows: .unitX, .unitY, .unitZ)
    public static let zero = Mat3(rows: .zero, .zero, .zero)

    public static func diagonal(_ a: Double, _ b: Double, _ c: Double) -> Mat3 {
        Mat3(rows: Vec3(a, 0, 0), Vec3(0, b, 0), Vec3(0, 0, c))
    }

    @inlinable public subscript(i: Int, j: Int) -> Double {
        get { i == 0 ? r0[j] : (i == 1 ? r1[j] : r2[j]) }
        set {
            if i == 0 { r0[j] = newValue } else if i == 1 { r1[j] = newValue } else { r2[j] = newValue }
        }
    }

    @inlinable public func column(_ j: Int) -> Vec3 { Vec3(r0[j], r1[j], r2[j]) }
    @inlinable public var transposed: Mat3 { Mat3(columns: r0, r1, r2) }
    /// Row-major values.
    public var flat: [Double] { r0.array + r1.array + r2.array }
    public var rows: [[Double]] { [r0.array, r1.array, r2.array] }

    @inlinable public var determinant: Double { r0.dot(r1.cross(r2)) }
    @inlinable public var trace: Double { r0.x + r1.y + r2.z }

    /// Inverse, or nil when singular.
    public var inverse: Mat3? {
        let det = determinant
        guard abs(det) > 1e-300 else { return nil }
        // Columns of the inverse are the cross products of rows divided by det.
        let c0 = r1.cross(r2) / det, c1 = r2.cross(r0) / det, c2 = r0.cross(r1) / det
        return Mat3(columns: c0, c1, c2)
    }

    @inlinable public static func * (m: Mat3, v: Vec3) -> Vec3 { Vec3(m.r0.dot(v), m.r1.dot(v), m.r2.dot(v)) }
    @inlinable public static func * (a: Mat3, b: Mat3) -> Mat3 {
        let c0 = b.column(0), c1 = b.column(1), c2 = b.column(2)
        return Mat3(rows: Vec3(a.r0.dot(c0), a.r0.dot(c1), a.r0.dot(c2)),
                    Vec3(a.r1.dot(c0), a.r1.dot(c1), a.r1.dot(c2)),
                    Vec3(a.r2.dot(c0), a.r2.dot(c1), a.r2.dot(c2)))
    }
    @inlinable public static func * (a: Mat3, s: Double) -> Mat3 { Mat3(rows: a.r0 * s, a.r1 * s, a.r2 * s) }
    @inlinable public static func + (a: Mat3, b: Mat3) -> Mat3 { Mat3(rows: a.r0 + b.r0, a.r1 + b.r1, a.r2 + b.r2) }
    @inlinable public static func - (a: Mat3, b: Mat3) -> Mat3 { Mat3(rows: a.r0 - b.r0, a.r1 - b.r1, a.r2 - b.r2) }

    /// Outer product u v^T.
    public static func outer(_ u: Vec3, _ v: Vec3) -> Mat3 { Mat3(rows: v * u.x, v * u.y, v * u.z) }

    /// Largest absolute element difference.
    public func maxAbsDifference(_ o: Mat3) -> Double {
        zip(flat, o.flat).map { abs($0 - $1) }.max() ?? 0
    }

    public var description: String { "[\(r0), \(r1), \(r2)]" }
}
