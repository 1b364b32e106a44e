import Foundation

/// Unit cell parameters: lengths in angstrom, angles in degrees.
public struct Lattice: Hashable, Sendable, CustomStringConvertible {
    public var a, b, c: Double
    public var alpha, beta, gamma: Double

    public init(a: Double, b: Double, c: Double, alpha: Double, beta: Double, gamma: Double) {
        self.a = a; self.b = b; self.c = c
        self.alpha = alpha; self.beta = beta; self.gamma = gamma
    }

    public static func cubic(_ a: Double) -> Lattice { Lattice(a: a, b: a, c: a, alpha: 90, beta: 90, gamma: 90) }
    public static func hexagonal(a: Double, c: Double) -> Lattice {
        Lattice(a: a, b: a, c: c, alpha: 90, beta: 90, gamma: 120)
    }

    public var parameters: [Double] { [a, b, c, alpha, beta, gamma] }

    /// Checks that lengths are positive and angles form a valid cell.
    /// Cell edges a crystal can have, angstrom (the smallest known cells are about 2 A, the largest
    /// protein cells about 1000 A): outside, the lattice is a typo, and matrices built from it overflow.
    public static let lengthRange: ClosedRange<Double> = 0.5...10_000

    public func validate() throws {
        guard [a, b, c].allSatisfy({ Lattice.lengthRange.contains($0) }) else {
            throw LaueError(.invalidArgument, "lattice lengths must lie within \(Lattice.lengthRange.lowerBound)-\(Lattice.lengthRange.upperBound) angstrom: \(a) \(b) \(c)")
        }
        guard [alpha, beta, gamma].allSatisfy({ $0 > 0 && $0 < 180 }), volume.isFinite, volume > 0 else {
            throw LaueError(.invalidArgument, "lattice angles do not form a cell: \(alpha) \(beta) \(gamma)")
        }
    }

    /// Direct cell volume in cubic angstrom.
    public var volume: Double {
        let (ca, cb, cg) = (cos(alpha * .pi / 180), cos(beta * .pi / 180), cos(gamma * .pi / 180))
        return a * b * c * (1 + 2 * ca * cb * cg - ca * ca - cb * cb - cg * cg).squareRoot()
    }

    /// Reciprocal lattice parameters (a*, b*, c* in 1/angstrom, no 2 pi; angles in degrees).
    public var reciprocal: Lattice {
        let d = Double.pi / 180
        let (sa, sb, sg) = (sin(alpha * d), sin(beta * d), sin(gamma * d))
        let (ca, cb, cg) = (cos(alpha * d), cos(beta * d), cos(gamma * d))
        let v = volume
        return Lattice(a: b * c * sa / v, b: a * c * sb / v, c: a * b * sg / v,
                       alpha: acos((cb * cg - ca) / (sb * sg)) / d,
                       beta: acos((ca * cg - cb) / (sa * sg)) / d,
                       gamma: acos((ca * cb - cg) / (sa * sb)) / d)
    }

    /// LaueTools' B0 (`CrystalParameters.calc_B_RR`, Busing & Levy 1967): upper triangular, columns are
    /// a*, b*, c* in an orthonormal crystal frame, so that q = B0 * hkl in 1/angstrom (no 2 pi).
    public var B0: Mat3 {
        let d = Double.pi / 180
        let r = reciprocal
        return Mat3(rows: Vec3(r.a, r.b * cos(r.gamma * d), r.c * cos(r.beta * d)),
                    Vec3(0, r.b * sin(r.gamma * d), -r.c * sin(r.beta * d) * cos(alpha * d)),
                    Vec3(0, 0, r.c * sin(r.beta * d) * sin(alpha * d)))
    }

    /// Direct basis vectors a, b, c as the columns of a matrix in the same Cartesian frame as B0
    /// (so that directBasis^T * B0 = identity).
    public var directBasis: Mat3 {
        B0.inverse!.transposed
    }

    /// Interplanar spacing of (hkl) in angstrom.
    public func dSpacing(_ hkl: HKL) -> Double {
        1 / (B0 * hkl.vector).length
    }

    public var description: String {
        String(format: "a=%.4f b=%.4f c=%.4f alpha=%.2f beta=%.2f gamma=%.2f", a, b, c, alpha, beta, gamma)
    }
}
