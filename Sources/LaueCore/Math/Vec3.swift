import Foundation

/// A 3-vector of doubles. Plain stored fields so that geometry stays fast in debug builds too.
public struct Vec3: Hashable, Sendable, CustomStringConvertible {
    public var x: Double
    public var y: Double
    public var z: Double

    @inlinable public init(_ x: Double, _ y: Double, _ z: Double) {
        self.x = x; self.y = y; self.z = z
    }

    @inlinable public init(_ a: [Double]) {
        precondition(a.count == 3, "Vec3 needs 3 components")
        self.init(a[0], a[1], a[2])
    }

    public static let zero = Vec3(0, 0, 0)
    public static let unitX = Vec3(1, 0, 0)
    public static let unitY = Vec3(0, 1, 0)
    public static let unitZ = Vec3(0, 0, 1)

    @inlinable public subscript(i: Int) -> Double {
        get { i == 0 ? x : (i == 1 ? y : z) }
        set { if i == 0 { x = newValue } else if i == 1 { y = newValue } else { z = newValue } }
    }

    @inlinable public var array: [Double] { [x, y, z] }
    @inlinable public var lengthSquared: Double { x * x + y * y + z * z }
    @inlinable public var length: Double { lengthSquared.squareRoot() }
    @inlinable public var normalized: Vec3 { let n = length; return n > 0 ? self / n : self }

    @inlinable public func dot(_ o: Vec3) -> Double { x * o.x + y * o.y + z * o.z }
    @inlinable public func cross(_ o: Vec3) -> Vec3 {
        Vec3(y * o.z - z * o.y, z * o.x - x * o.z, x * o.y - y * o.x)
    }
    /// Angle to another vector in radians (robust near 0 and pi).
    @inlinable public func angle(to o: Vec3) -> Double {
        atan2(cross(o).length, dot(o))
    }

    @inlinable public static func + (a: Vec3, b: Vec3) -> Vec3 { Vec3(a.x + b.x, a.y + b.y, a.z + b.z) }
    @inlinable public static func - (a: Vec3, b: Vec3) -> Vec3 { Vec3(a.x - b.x, a.y - b.y, a.z - b.z) }
    @inlinable public static prefix func - (a: Vec3) -> Vec3 { Vec3(-a.x, -a.y, -a.z) }
    @inlinable public static func * (a: Vec3, s: Double) -> Vec3 { Vec3(a.x * s, a.y * s, a.z * s) }
    @inlinable public static func * (s: Double, a: Vec3) -> Vec3 { Vec3(a.x * s, a.y * s, a.z * s) }
    @inlinable public static func / (a: Vec3, s: Double) -> Vec3 { Vec3(a.x / s, a.y / s, a.z / s) }
    @inlinable public static func += (a: inout Vec3, b: Vec3) { a = a + b }
    @inlinable public static func -= (a: inout Vec3, b: Vec3) { a = a - b }

    public var description: String { "(\(x), \(y), \(z))" }
}

/// Miller indices (or any integer triple).
public struct HKL: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var h: Int
    public var k: Int
    public var l: Int

    @inlinable public init(_ h: Int, _ k: Int, _ l: Int) { self.h = h; self.k = k; self.l = l }

    @inlinable public var vector: Vec3 { Vec3(Double(h), Double(k), Double(l)) }
    @inlinable public static func * (n: Int, a: HKL) -> HKL { HKL(n * a.h, n * a.k, n * a.l) }
    @inlinable public static prefix func - (a: HKL) -> HKL { HKL(-a.h, -a.k, -a.l) }

    /// Greatest common divisor of |h|, |k|, |l| (0 for 000).
    public var gcd: Int {
        func g(_ a: Int, _ b: Int) -> Int { b == 0 ? a : g(b, a % b) }
        return g(g(abs(h), abs(k)), abs(l))
    }
    /// The primitive direction (indices divided by their gcd) and the order n.
    public var primitive: (hkl: HKL, order: Int) {
        let n = gcd
        return n <= 1 ? (self, 1) : (HKL(h / n, k / n, l / n), n)
    }
    public var isZero: Bool { h == 0 && k == 0 && l == 0 }

    public var description: String { "\(h) \(k) \(l)" }
    public static func < (a: HKL, b: HKL) -> Bool { (a.h, a.k, a.l) < (b.h, b.k, b.l) }
}
