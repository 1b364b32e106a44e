import Foundation

/// Checks on an orientation matrix given by a user or a file (LaueTools' UB: a rotation, possibly with
/// a small deviatoric strain).
public enum OrientationMatrix {
    /// Largest |UᵀU − I| component accepted: a strained UB departs from a rotation by its strain (1e-3),
    /// a wrong matrix by far more.
    public static let maximumDistortion = 0.05

    /// Throws with the reason unless `m` is finite and a proper rotation up to `maximumDistortion`.
    public static func validate(_ m: Mat3) throws {
        guard m.flat.allSatisfy(\.isFinite) else { throw LaueError(.invalidArgument, "orientation matrix holds non-finite values") }
        let g = m.transposed * m
        let off = g.maxAbsDifference(Mat3.identity)
        guard m.determinant > 0, off <= maximumDistortion else {
            throw LaueError(.invalidArgument, String(format: "not an orientation matrix (a rotation): determinant %.3g, |UᵀU − I| up to %.3g", m.determinant, off))
        }
    }
}
