import Foundation
import LaueCore

/// The rotation axis of a one-axis defect from the directions of its streaks or splittings.
///
/// A rotation about n moves spot i along M_i n, so the observed major axis e_i is parallel to M_i n:
/// e_i-perpendicular . (M_i n) = 0, one linear equation per streaked spot. The axis is the unit vector
/// that best satisfies all of them (smallest eigenvector of the weighted normal matrix). Exact for
/// split spots, where the direction is sharp even when the moments are not.
public struct RotationAxisFit: Sendable {
    /// Unit axis, lab frame (sign arbitrary).
    public var axis: Vec3
    /// Intensity-weighted median angle between observed and predicted streak directions, degrees.
    public var medianAngle: Double
    /// Per spot (same order as the input): angle between observed and predicted directions, degrees;
    /// nil where the spot is too round to have a direction.
    public var angles: [Double?]
    /// Smallest over second-smallest eigenvalue of the normal matrix: near 0 when the axis is well
    /// determined.
    public var conditioning: Double

    /// Spots whose aspect ratio is below `minimumAspect` carry no direction and are skipped.
    public static func fit(_ spots: [SpotEvidence], minimumAspect: Double = 1.3, initial: Vec3? = nil) -> RotationAxisFit? {
        var normal = [Double](repeating: 0, count: 9)
        var used = 0
        for s in spots where s.streak.aspectRatio >= minimumAspect {
            let e = s.streak.direction
            let perp = (x: -e.y, y: e.x)
            let (p, q) = s.jacobian
            var r = p * perp.x + q * perp.y
            let scale = (p.dot(p) + q.dot(q)).squareRoot()
            guard scale > 0 else { continue }
            r = r * (1 / scale)
            let anisotropy = 1 - s.streak.lambdaMinor / max(s.streak.lambdaMajor, 1e-12)
            let w = s.intensity.squareRoot() * anisotropy
            for i in 0..<3 { for j in 0..<3 { normal[i * 3 + j] += w * r[i] * r[j] } }
            used += 1
        }
        guard used >= 2 else { return nil }
        let (values, vectors) = LinearAlgebra.symmetricEigen(normal, n: 3)
        var axis = Vec3(vectors[2][0], vectors[2][1], vectors[2][2]).normalized
        if let i = initial, axis.dot(i) < 0 { axis = axis * -1 }
        let angles = spots.map { s -> Double? in
            guard s.streak.aspectRatio >= minimumAspect else { return nil }
            return directionMismatch(s, axis: axis)
        }
        var pairs: [(Double, Double)] = []
        for (s, a) in zip(spots, angles) { if let a { pairs.append((a, s.intensity.squareRoot())) } }
        return RotationAxisFit(axis: axis, medianAngle: weightedMedian(pairs), angles: angles,
                               conditioning: values[1] > 0 ? values[2] / values[1] : 1)
    }

    /// Angle (degrees, 0...90) between a spot's major axis and the direction it would streak in under
    /// a rotation about `axis`.
    public static func directionMismatch(_ s: SpotEvidence, axis: Vec3) -> Double {
        let d = s.displacement(axis)
        let predicted = atan2(d.y, d.x) * 180 / .pi
        var delta = abs(predicted - s.streak.angle).truncatingRemainder(dividingBy: 180)
        if delta > 90 { delta = 180 - delta }
        return delta
    }
}

/// Median of values with weights (value, weight); nan when empty.
func weightedMedian(_ pairs: [(Double, Double)]) -> Double {
    let sorted = pairs.filter { $0.1 > 0 && $0.0.isFinite }.sorted { $0.0 < $1.0 }
    let total = sorted.reduce(0) { $0 + $1.1 }
    guard total > 0 else { return .nan }
    var acc = 0.0
    for (v, w) in sorted {
        acc += w
        if acc >= total / 2 { return v }
    }
    return sorted.last!.0
}
