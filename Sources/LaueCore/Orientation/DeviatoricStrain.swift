import Foundation

/// The deviatoric strain held in a refined orientation matrix (LaueTools' UB, q = UB B0 hkl), by polar
/// decomposition UB = R S: S (symmetric) stretches the reciprocal basis in the Cartesian crystal frame of
/// B0, so the direct lattice is stretched by S⁻¹ and the direct-space strain is S⁻¹ − I. Its deviatoric
/// part is what a white beam measures (the volume change needs the energy of one spot). LaueTools' "deviatoric
/// strain in direct crystal frame" of a `.fit` is the same tensor (its UB gives it to the printed digits).
public struct DeviatoricStrain: Sendable, Equatable {
    /// Direct-space deviatoric strain in the Cartesian crystal frame of B0 (traceless, symmetric).
    public var crystal: Mat3
    /// The same tensor in the LaueTools lab frame: R · crystal · Rᵀ.
    public var lab: Mat3
    /// The rotation of the polar decomposition (the orientation without the strain).
    public var rotation: Mat3

    /// Decomposes `ub`; nil when it is singular or not a proper transformation.
    public init?(orientation ub: Mat3) {
        let (values, vectors) = LinearAlgebra.symmetricEigen(ub.transposed * ub)
        guard values.count == 3, values.allSatisfy({ $0 > 0 && $0.isFinite }), ub.determinant > 0 else { return nil }
        var s = Mat3.zero, sInverse = Mat3.zero
        for (l, v) in zip(values, vectors) {
            s = s + Mat3.outer(v, v) * l.squareRoot()
            sInverse = sInverse + Mat3.outer(v, v) * (1 / l.squareRoot())
        }
        let r = ub * sInverse
        var e = sInverse - Mat3.identity
        e = e - Mat3.identity * (e.trace / 3)
        crystal = e
        rotation = r
        lab = r * e * r.transposed
    }

    /// Components (xx, yy, zz, yz, xz, xy) of a symmetric tensor.
    public static func components(_ m: Mat3) -> [Double] {
        [m[0, 0], m[1, 1], m[2, 2], (m[1, 2] + m[2, 1]) / 2, (m[0, 2] + m[2, 0]) / 2, (m[0, 1] + m[1, 0]) / 2]
    }

    /// The symmetric tensor of components (xx, yy, zz, yz, xz, xy).
    public static func tensor(_ c: [Double]) -> Mat3 {
        Mat3(rows: Vec3(c[0], c[5], c[4]), Vec3(c[5], c[1], c[3]), Vec3(c[4], c[3], c[2]))
    }

    /// Von Mises equivalent strain sqrt(2/3 e:e) (frame independent), as LaueTools reports it.
    public var equivalent: Double {
        var sum = 0.0
        for i in 0..<3 { for j in 0..<3 { sum += crystal[i, j] * crystal[i, j] } }
        return (2.0 / 3.0 * sum).squareRoot()
    }
}
