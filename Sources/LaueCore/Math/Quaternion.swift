import Foundation

/// A unit quaternion (w, x, y, z) representing a rotation; `w >= 0` after `canonical`.
public struct Quaternion: Hashable, Sendable, CustomStringConvertible {
    public var w: Double
    public var x: Double
    public var y: Double
    public var z: Double

    public init(w: Double, x: Double, y: Double, z: Double) {
        self.w = w; self.x = x; self.y = y; self.z = z
    }

    /// Rotation by `angle` radians about `axis` (need not be unit).
    public init(axis: Vec3, angle: Double) {
        let n = axis.normalized, s = sin(angle / 2)
        self.init(w: cos(angle / 2), x: n.x * s, y: n.y * s, z: n.z * s)
    }

    /// From a proper rotation matrix (Shepperd's method, stable for every angle).
    public init(matrix m: Mat3) {
        let t = m.trace
        if t > 0 {
            let s = (t + 1).squareRoot() * 2
            self.init(w: 0.25 * s, x: (m[2, 1] - m[1, 2]) / s, y: (m[0, 2] - m[2, 0]) / s, z: (m[1, 0] - m[0, 1]) / s)
        } else if m[0, 0] > m[1, 1] && m[0, 0] > m[2, 2] {
            let s = (1 + m[0, 0] - m[1, 1] - m[2, 2]).squareRoot() * 2
            self.init(w: (m[2, 1] - m[1, 2]) / s, x: 0.25 * s, y: (m[0, 1] + m[1, 0]) / s, z: (m[0, 2] + m[2, 0]) / s)
        } else if m[1, 1] > m[2, 2] {
            let s = (1 + m[1, 1] - m[0, 0] - m[2, 2]).squareRoot() * 2
            self.init(w: (m[0, 2] - m[2, 0]) / s, x: (m[0, 1] + m[1, 0]) / s, y: 0.25 * s, z: (m[1, 2] + m[2, 1]) / s)
        } else {
            let s = (1 + m[2, 2] - m[0, 0] - m[1, 1]).squareRoot() * 2
            self.init(w: (m[1, 0] - m[0, 1]) / s, x: (m[0, 2] + m[2, 0]) / s, y: (m[1, 2] + m[2, 1]) / s, z: 0.25 * s)
        }
        self = normalized.canonical
    }

    public static let identity = Quaternion(w: 1, x: 0, y: 0, z: 0)

    public var norm: Double { (w * w + x * x + y * y + z * z).squareRoot() }
    public var normalized: Quaternion { let n = norm; return Quaternion(w: w / n, x: x / n, y: y / n, z: z / n) }
    /// The same rotation with w >= 0.
    public var canonical: Quaternion { w < 0 ? Quaternion(w: -w, x: -x, y: -y, z: -z) : self }
    public var conjugate: Quaternion { Quaternion(w: w, x: -x, y: -y, z: -z) }

    /// Rotation angle in radians, in [0, pi].
    public var angle: Double { 2 * atan2(Vec3(x, y, z).length, abs(w)) }
    /// Rotation axis (unit), or +z for the identity.
    public var axis: Vec3 {
        let v = Vec3(x, y, z) * (w < 0 ? -1 : 1)
        return v.length > 1e-15 ? v.normalized : .unitZ
    }

    public var matrix: Mat3 {
        let q = normalized
        let (w, x, y, z) = (q.w, q.x, q.y, q.z)
        return Mat3(rows: Vec3(1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)),
                    Vec3(2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)),
                    Vec3(2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)))
    }

    /// Hamilton product: (a * b) rotates by b first, then a.
    public static func * (a: Quaternion, b: Quaternion) -> Quaternion {
        Quaternion(w: a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z,
                   x: a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
                   y: a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
                   z: a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w)
    }

    /// A rotation drawn uniformly from SO(3) (Shoemake 1992) with the given generator.
    public static func random<G: RandomNumberGenerator>(using g: inout G) -> Quaternion {
        let u1 = Double.random(in: 0..<1, using: &g)
        let u2 = Double.random(in: 0..<1, using: &g)
        let u3 = Double.random(in: 0..<1, using: &g)
        let a = (1 - u1).squareRoot(), b = u1.squareRoot()
        return Quaternion(w: a * sin(2 * .pi * u2), x: a * cos(2 * .pi * u2),
                          y: b * sin(2 * .pi * u3), z: b * cos(2 * .pi * u3)).canonical
    }

    public var description: String { "(\(w), \(x), \(y), \(z))" }
}

/// Rotation helpers on matrices.
public enum Rotation {
    /// Matrix of a rotation by `angle` radians about `axis` (Rodrigues).
    public static func matrix(axis: Vec3, angle: Double) -> Mat3 {
        let n = axis.normalized, c = cos(angle), s = sin(angle), t = 1 - c
        return Mat3(rows: Vec3(t * n.x * n.x + c, t * n.x * n.y - s * n.z, t * n.x * n.z + s * n.y),
                    Vec3(t * n.x * n.y + s * n.z, t * n.y * n.y + c, t * n.y * n.z - s * n.x),
                    Vec3(t * n.x * n.z - s * n.y, t * n.y * n.z + s * n.x, t * n.z * n.z + c))
    }

    /// Rotation angle (radians, 0...pi) of a proper rotation matrix.
    public static func angle(of m: Mat3) -> Double {
        Quaternion(matrix: m).angle
    }

    /// Axis and angle (radians) of a proper rotation matrix.
    public static func axisAngle(of m: Mat3) -> (axis: Vec3, angle: Double) {
        let q = Quaternion(matrix: m)
        return (q.axis, q.angle)
    }

    /// Small-rotation vector (axis * angle, radians) of a proper rotation matrix.
    public static func rotationVector(of m: Mat3) -> Vec3 {
        let q = Quaternion(matrix: m)
        return q.axis * q.angle
    }

    /// Matrix from a rotation vector r = axis * angle (radians).
    public static func matrix(rotationVector r: Vec3) -> Mat3 {
        let a = r.length
        return a < 1e-300 ? .identity : matrix(axis: r, angle: a)
    }
}
