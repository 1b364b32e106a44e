import Foundation

/// A space-group operation x' = W x + t on fractional coordinates, with an integer matrix W and a
/// translation t kept exactly in twelfths (every crystallographic translation is a multiple of 1/12).
public struct SymmetryOperation: Hashable, Sendable, CustomStringConvertible {
    /// Rotation part, row-major.
    public var rotation: [Int]
    /// Translation in units of 1/12, each component reduced to 0..<12.
    public var translation12: [Int]

    public init(rotation: [Int], translation12: [Int] = [0, 0, 0]) {
        precondition(rotation.count == 9 && translation12.count == 3)
        self.rotation = rotation
        self.translation12 = translation12.map { (($0 % 12) + 12) % 12 }
    }

    public static let identity = SymmetryOperation(rotation: [1, 0, 0, 0, 1, 0, 0, 0, 1])

    public var determinant: Int {
        let r = rotation
        return r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) + r[2] * (r[3] * r[7] - r[4] * r[6])
    }

    /// Translation as fractions of the cell edges.
    public var translation: Vec3 {
        Vec3(Double(translation12[0]) / 12, Double(translation12[1]) / 12, Double(translation12[2]) / 12)
    }

    /// The rotation part as a real matrix (acting on fractional coordinates).
    public var rotationMatrix: Mat3 { Mat3(rotation.map(Double.init)) }

    /// Applies the operation to fractional coordinates.
    public func apply(_ p: Vec3) -> Vec3 { rotationMatrix * p + translation }

    /// self * other: apply `other` first.
    public static func * (a: SymmetryOperation, b: SymmetryOperation) -> SymmetryOperation {
        var r = [Int](repeating: 0, count: 9), t = a.translation12
        for i in 0..<3 {
            for j in 0..<3 {
                r[i * 3 + j] = (0..<3).reduce(0) { $0 + a.rotation[i * 3 + $1] * b.rotation[$1 * 3 + j] }
                t[i] += a.rotation[i * 3 + j] * b.translation12[j]
            }
        }
        return SymmetryOperation(rotation: r, translation12: t)
    }

    /// The same operation with its rotation negated (composition with the inversion).
    var inverted: SymmetryOperation {
        SymmetryOperation(rotation: rotation.map { -$0 }, translation12: translation12)
    }

    /// Coordinate triplet such as "-y,x-y,z+1/3".
    public var description: String {
        let names = ["x", "y", "z"]
        return (0..<3).map { i -> String in
            var s = ""
            for j in 0..<3 where rotation[i * 3 + j] != 0 {
                let v = rotation[i * 3 + j]
                let sign: String = v < 0 ? "-" : (s.isEmpty ? "" : "+")
                let factor: String = abs(v) == 1 ? "" : String(abs(v))
                s += sign + factor + names[j]
            }
            let t = translation12[i]
            if t != 0 {
                // Reduce t/12 to lowest terms.
                var g = 12, num = t
                for p in [2, 2, 3] where num % p == 0 && g % p == 0 { num /= p; g /= p }
                s += "+" + String(num) + "/" + String(g)
            }
            return s
        }.joined(separator: ",")
    }
}
