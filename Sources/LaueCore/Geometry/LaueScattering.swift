import Foundation

/// White-beam Laue scattering in the LaueTools frame (incident beam along +x).
public enum LaueScattering {
    /// Highest photon energy of a band LaueMap accepts, keV. White-beam micro-Laue uses up to ~30 keV
    /// (34-ID-E); the reflection lists grow as the cube of the band's top, and 1,000 keV took gigabytes
    /// and minutes (found by a review), so bands end here.
    public static let maximumBandEnergy = 50.0

    /// The band [low, high] keV, checked: finite, 0 < low < high <= `maximumBandEnergy`; the error
    /// names `what` (an option, a key).
    public static func band(_ low: Double, _ high: Double, what: String) throws -> ClosedRange<Double> {
        guard low.isFinite, high.isFinite, low > 0, high > low, high <= maximumBandEnergy else {
            throw LaueError(.invalidArgument, "\(what) needs MIN,MAX keV with 0 < MIN < MAX <= \(maximumBandEnergy), not \(low),\(high)")
        }
        return low...high
    }

    /// hc in keV * angstrom (CODATA). LaueTools uses 12.398 (3e-5 relative difference).
    public static let hc = 12.398419843320026

    /// For a scattering vector q (1/angstrom, no 2 pi) in the LaueTools frame: the unit scattered
    /// direction kf and the photon energy (keV) that satisfies Bragg's law. Nil when q_x >= 0
    /// (the planes face away from the beam and cannot reflect).
    @inlinable public static func scatter(q: Vec3) -> (kf: Vec3, energy: Double)? {
        guard q.x < 0 else { return nil }
        let q2 = q.lengthSquared
        let energy = hc * q2 / (-2 * q.x)                  // E = hc |q|^2 / (2 |q_x|)
        // kf = ki - 2 (ki . qhat) qhat with ki = (1, 0, 0)
        let s = 2 * q.x / q2
        return (Vec3(1 - s * q.x, -s * q.y, -s * q.z), energy)
    }

    /// Bragg angle theta (degrees) of a scattering vector in the LaueTools frame.
    @inlinable public static func theta(q: Vec3) -> Double {
        asin(max(-1, min(1, -q.x / q.length))) * 180 / .pi
    }

    /// Unit scattering-vector direction (LaueTools frame) of a unit scattered direction kf: q ∝ kf - ki.
    @inlinable public static func qDirection(kf: Vec3) -> Vec3 {
        (kf - Vec3.unitX).normalized
    }
}
