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

    /// LaueTools' sample tilt (`sampletilt`, degrees): the sample surface normal is tilted by this
    /// from the lab z axis towards the incident beam (x), the usual 40° micro-Laue geometry.
    public static let sampleTiltDegrees = 40.0

    /// The tensor in LaueTools' "sample2" frame: z normal to the sample surface, y the lab y, x in the
    /// plane of z and the beam: Pᵀ · lab · P with P the rotation by −tilt about lab y (LaueTools'
    /// `strain_from_crystal_to_sample_frame2` with the rotation part of UB, as its `.fit` "deviatoric
    /// strain in sample2 frame" since 2026-10).
    public func sample(tiltDegrees: Double = DeviatoricStrain.sampleTiltDegrees) -> Mat3 {
        let p = DeviatoricStrain.sampleToLab(tiltDegrees: tiltDegrees)
        return p.transposed * lab * p
    }

    /// P: coordinates in the sample2 frame of a sample tilted by `tiltDegrees` to lab coordinates
    /// (the rotation by −tilt about lab y); the one definition of the sample frame, also used by the
    /// orientation exports.
    public static func sampleToLab(tiltDegrees: Double) -> Mat3 {
        let t = tiltDegrees * .pi / 180
        return Mat3(rows: Vec3(cos(t), 0, -sin(t)), Vec3(0, 1, 0), Vec3(sin(t), 0, cos(t)))
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
