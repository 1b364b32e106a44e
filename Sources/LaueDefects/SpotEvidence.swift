import Foundation
import LaueCore
import LauePeaks
import LaueIndexing

/// What one indexed spot says about the lattice rotations in the beam: its shape (second moments and
/// major-axis profile) and how it moves under a lattice rotation (the Jacobian M, pixels per degree).
public struct SpotEvidence: Sendable {
    /// Index into the pattern's peak list.
    public var peakIndex: Int
    public var hkl: HKL
    /// Observed position (LaueTools pixel convention) and integrated intensity.
    public var x: Double
    public var y: Double
    public var intensity: Double
    /// Second moments of the spot, pixels^2.
    public var covariance: Sym2
    public var streak: StreakMetrics
    /// d(x, y) = M r for a small lattice rotation r (degrees, lab frame): rows (dx/dr, dy/dr).
    public var jacobian: (dx: Vec3, dy: Vec3)
    /// Per-spot reading of the shape (set by the classifier).
    public var label: SpotLabel = .unclassified

    public init(peakIndex: Int, hkl: HKL, x: Double, y: Double, intensity: Double, covariance: Sym2, streak: StreakMetrics,
                jacobian: (dx: Vec3, dy: Vec3), label: SpotLabel = .unclassified) {
        self.peakIndex = peakIndex; self.hkl = hkl; self.x = x; self.y = y; self.intensity = intensity
        self.covariance = covariance; self.streak = streak; self.jacobian = jacobian; self.label = label
    }

    /// Pixel displacement of this spot for a rotation `r` (degrees, lab frame).
    public func displacement(_ r: Vec3) -> (x: Double, y: Double) {
        (jacobian.dx.dot(r), jacobian.dy.dot(r))
    }

    /// Pixels per degree of rotation about the unit axis `n` (lab frame).
    public func sensitivity(to n: Vec3) -> Double {
        let d = displacement(n)
        return (d.x * d.x + d.y * d.y).squareRoot()
    }

    /// Gathers the evidence of the usable reflections of `grain`: indexed, unsaturated, away from the frame
    /// edge and from other peaks, strongest first, at most `limit`. A reflection with a family (its main
    /// peak and the sub-spots of the grain's sub-orientations, `SubgrainSearch`) reads as all its spots
    /// together; reflections in `incomplete` (a sub-spot expected but not found) are left out. Spots of
    /// the coarse pass (`Peak.coarse`) take part only when fewer than `coarseEvidenceBelow` others do.
    public static func gather(peaks: [Peak], grain: Grain, predictor: SpotPredictor, limit: Int = 30,
                              families: [Int: [Int]] = [:], incomplete: Set<Int> = [], psfSigma: Double = 1,
                              coarseEvidenceBelow: Int = 12, faintNeighbour: Double = 0) -> [SpotEvidence] {
        let degree = Double.pi / 180
        var out: [SpotEvidence] = []
        var candidates: [(IndexedSpot, StreakMetrics, Double)] = []
        for s in grain.spots where s.peakIndex >= 0 && s.peakIndex < peaks.count && !incomplete.contains(s.peakIndex) {
            let members = families[s.peakIndex] ?? [s.peakIndex]
            let usable = members.allSatisfy { k in k >= 0 && k < peaks.count && !peaks[k].saturated && !peaks[k].edge }
            guard usable else { continue }
            if let merged = ReflectionFamily.combine(members, peaks: peaks, psfSigma: psfSigma) {
                guard !ReflectionFamily.overlapsOthers(members, peaks: peaks, ignoringBelow: faintNeighbour), merged.intensity > 0 else { continue }
                candidates.append((s, merged.streak, merged.intensity))
            } else {
                let p = peaks[s.peakIndex]
                // A family reduced to its main spot (its other spots too weak to count) is overlapped only
                // by spots outside the family.
                let overlapped = (members.count > 1 || p.overlapping)
                    && ReflectionFamily.overlapsOthers(members, peaks: peaks, ignoringBelow: faintNeighbour)
                guard !overlapped, p.intensity > 0 else { continue }
                candidates.append((s, p.streak, p.intensity))
            }
        }
        candidates.sort { $0.2 > $1.2 }
        // Coarse-pass spots (faint, their shape a noisy moment estimate) only when the others are few.
        let sharp = candidates.filter { c in !(families[c.0.peakIndex] ?? [c.0.peakIndex]).contains { peaks[$0].coarse } }
        if sharp.count >= coarseEvidenceBelow { candidates = sharp }
        for (s, streak, intensity) in candidates.prefix(limit) {
            guard let j = predictor.jacobian(s.hkl, orientation: grain.orientation) else { continue }
            let p = peaks[s.peakIndex]
            let c = streak.covariance
            out.append(SpotEvidence(peakIndex: s.peakIndex, hkl: s.hkl, x: p.x, y: p.y, intensity: intensity,
                                    covariance: Sym2(c.xx, c.xy, c.yy), streak: streak,
                                    jacobian: (j.dx * degree, j.dy * degree)))
        }
        return out
    }
}

/// A symmetric 2x2 matrix (xx, xy, yy).
public struct Sym2: Sendable, Equatable {
    public var xx: Double
    public var xy: Double
    public var yy: Double
    public init(_ xx: Double, _ xy: Double, _ yy: Double) { self.xx = xx; self.xy = xy; self.yy = yy }
    public var trace: Double { xx + yy }
    /// Frobenius norm.
    public var norm: Double { (xx * xx + 2 * xy * xy + yy * yy).squareRoot() }
    public static func - (a: Sym2, b: Sym2) -> Sym2 { Sym2(a.xx - b.xx, a.xy - b.xy, a.yy - b.yy) }
}
