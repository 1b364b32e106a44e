import Foundation
import Testing
import LaueCore

@Suite struct LatticeTests {
    @Test func b0MatchesLaueTools() {
        // Values printed by LaueTools CrystalParameters.calc_B_RR.
        let hex = Lattice.hexagonal(a: 2.8156, c: 14.0516).B0
        let expectedHex = Mat3([[0.4101081610951, 0.2050540805475, 0], [0, 0.3551640858076, 0], [0, 0, 0.07116627287996]])
        #expect(hex.maxAbsDifference(expectedHex) < 1e-12)
        let tri = Lattice(a: 4.1, b: 5.2, c: 6.3, alpha: 80, beta: 95, gamma: 105).B0
        let expectedTri = Mat3([[0.252755369586, 0.050073285301, 0.007159450066],
                                [0, 0.19527434844, -0.027988409636], [0, 0, 0.15873015873]])
        #expect(tri.maxAbsDifference(expectedTri) < 1e-11)
        #expect(Lattice.cubic(5.6575).B0.maxAbsDifference(Mat3.identity * (1 / 5.6575)) < 1e-15)
    }

    @Test func dSpacingAndDirectBasis() {
        let lat = Lattice.hexagonal(a: 2.8156, c: 14.0516)
        #expect(abs(lat.dSpacing(HKL(0, 0, 3)) - 14.0516 / 3) < 1e-12)
        #expect(abs(lat.dSpacing(HKL(1, 1, 0)) - 2.8156 / 2) < 1e-12)
        let prod = lat.directBasis.transposed * lat.B0
        #expect(prod.maxAbsDifference(.identity) < 1e-12)
        #expect(throws: LaueError.self) { try Lattice(a: -1, b: 1, c: 1, alpha: 90, beta: 90, gamma: 90).validate() }
    }
}

@Suite struct OrientationTests {
    @Test func quaternionRoundTrip() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let q = Quaternion.random(using: &rng)
            let m = q.matrix
            #expect(abs(m.determinant - 1) < 1e-12)
            let back = Quaternion(matrix: m)
            #expect(back.matrix.maxAbsDifference(m) < 1e-12)
        }
        let r = Rotation.matrix(axis: Vec3(1, 2, 3), angle: 0.7)
        let (axis, angle) = Rotation.axisAngle(of: r)
        #expect(abs(angle - 0.7) < 1e-12)
        #expect((axis - Vec3(1, 2, 3).normalized).length < 1e-12)
    }

    @Test func cubicMisorientation() throws {
        let ge = try Material.builtin("Ge")
        #expect(ge.symmetryRotations.count == 24)
        var rng = SystemRandomNumberGenerator()
        let u = Quaternion.random(using: &rng).matrix
        for s in ge.symmetryRotations { #expect(ge.misorientation(u, u * s) < 1e-6) }
        let tilt10 = Rotation.matrix(axis: Vec3(0, 0, 1), angle: 10 * .pi / 180)
        #expect(abs(ge.misorientation(u, tilt10 * u) - 10) < 1e-9)
        // Sigma-3 twin: 60 deg about <111>.
        let twin = u * Rotation.matrix(axis: Vec3(1, 1, 1), angle: .pi / 3)
        #expect(abs(ge.misorientation(u, twin) - 60) < 1e-9)
        // 90 deg about a cube axis is a symmetry of the crystal.
        #expect(ge.misorientation(u, u * Rotation.matrix(axis: Vec3(1, 0, 0), angle: .pi / 2)) < 1e-6)
        // The largest cubic disorientation is 62.8 deg.
        for _ in 0..<100 {
            let v = Quaternion.random(using: &rng).matrix
            #expect(ge.misorientation(u, v) <= 62.81)
        }
    }

    @Test func trigonalAndHexagonalMisorientation() throws {
        let lco = try Material.builtin("LiCoO2"), gan = try Material.builtin("GaN")
        var rng = SystemRandomNumberGenerator()
        let u = Quaternion.random(using: &rng).matrix
        let c = Vec3(0, 0, 1)   // c axis in the Cartesian crystal frame of B0
        let r60 = u * Rotation.matrix(axis: c, angle: .pi / 3)
        let r120 = u * Rotation.matrix(axis: c, angle: 2 * .pi / 3)
        #expect(abs(lco.misorientation(u, r60) - 60) < 1e-9)   // -3m: 60 deg about c is the twin
        #expect(lco.misorientation(u, r120) < 1e-6)
        #expect(gan.misorientation(u, r60) < 1e-6)             // 6/mmm: symmetric
        for s in lco.symmetryRotations {
            #expect(abs(s.determinant - 1) < 1e-12)
            #expect((s * s.transposed).maxAbsDifference(.identity) < 1e-12)
        }
    }

    /// A user's or a file's orientation matrix: rotations and strained rotations pass; NaN, zero,
    /// improper and grossly distorted matrices are refused with the reason.
    @Test func orientationMatrixValidation() throws {
        let r = Rotation.matrix(rotationVector: Vec3(0.3, -0.2, 1.1))
        try OrientationMatrix.validate(r)
        try OrientationMatrix.validate(r * Mat3(rows: Vec3(1.001, 0.0002, 0), Vec3(0.0002, 0.999, 0), Vec3(0, 0, 1.0005)))
        for bad in [Mat3.zero, r * Mat3.diagonal(1, 1, -1), r * 2, Mat3(rows: Vec3(.nan, 0, 0), .unitY, .unitZ),
                    Mat3(rows: Vec3(1e308, 0, 0), .unitY, .unitZ)] {
            #expect(throws: LaueError.self) { try OrientationMatrix.validate(bad) }
        }
    }

    @Test func nearestRotationOfAStrainedMatrix() {
        let r = Rotation.matrix(axis: Vec3(0.3, -1, 0.2), angle: 1.1)
        let strained = r * Mat3(rows: Vec3(1.001, 0.0002, 0), Vec3(0.0002, 0.999, 0), Vec3(0, 0, 1.0005))
        let n = LinearAlgebra.nearestRotation(strained)
        #expect(Rotation.angle(of: n * r.transposed) < 2e-4)
        #expect(abs(n.determinant - 1) < 1e-12)
    }
}
