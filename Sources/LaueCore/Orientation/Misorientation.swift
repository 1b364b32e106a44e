import Foundation

/// Orientation comparisons that respect crystal symmetry.
///
/// An orientation U maps the Cartesian crystal frame of B0 to the LaueTools lab frame
/// (q_lab = U * B0 * hkl). U and U * S describe the same crystal for every proper rotation S of the
/// Laue group, so the misorientation angle is min over S of angle(U1^T U2 S).
public enum Misorientation {
    /// Misorientation angle in degrees between two orientation matrices (UB matrices are reduced to
    /// their nearest rotations first), using the proper Laue rotations `symmetry` (Cartesian frame).
    public static func angle(_ a: Mat3, _ b: Mat3, symmetry: [Mat3]) -> Double {
        let (angle, _) = minimal(a, b, symmetry: symmetry)
        return angle
    }

    /// Misorientation angle in degrees and the symmetry operator that realises it: a * S is the
    /// equivalent of `a` closest to `b`.
    public static func minimal(_ a: Mat3, _ b: Mat3, symmetry: [Mat3]) -> (degrees: Double, operator: Mat3) {
        let ra = LinearAlgebra.nearestRotation(a), rb = LinearAlgebra.nearestRotation(b)
        let delta = ra.transposed * rb
        // The smallest angle has the largest trace; the angle itself comes from the quaternion,
        // which stays accurate near zero where acos(trace) does not.
        var bestTrace = -Double.infinity, bestOp = Mat3.identity
        let ops = symmetry.isEmpty ? [Mat3.identity] : symmetry
        for s in ops {
            let t = (s.transposed * delta).trace
            if t > bestTrace { bestTrace = t; bestOp = s }
        }
        let angle = Quaternion(matrix: bestOp.transposed * delta).angle
        return (angle * 180 / .pi, bestOp)
    }

    /// The symmetry-equivalent of `a` closest to `reference`.
    public static func closestEquivalent(of a: Mat3, to reference: Mat3, symmetry: [Mat3]) -> Mat3 {
        a * minimal(a, reference, symmetry: symmetry).operator
    }

    /// Misorientation axis (lab frame) and angle in degrees between two orientations, after symmetry.
    public static func axisAngle(_ a: Mat3, _ b: Mat3, symmetry: [Mat3]) -> (axis: Vec3, degrees: Double) {
        let a2 = closestEquivalent(of: a, to: b, symmetry: symmetry)
        let ra = LinearAlgebra.nearestRotation(a2), rb = LinearAlgebra.nearestRotation(b)
        let (axis, angle) = Rotation.axisAngle(of: rb * ra.transposed)
        return (axis, angle * 180 / .pi)
    }
}

extension Material {
    /// Misorientation angle in degrees between two orientation matrices of this material.
    public func misorientation(_ a: Mat3, _ b: Mat3) -> Double {
        Misorientation.angle(a, b, symmetry: symmetryRotations)
    }
}
