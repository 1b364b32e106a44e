import Foundation
import LaueCore
import LauePeaks

/// The spots of one reflection taken together: its main spot and the sub-spots that sub-grains put beside
/// it (`SubgrainSearch` families). Their second moments combine exactly as a mixture; their sub-peaks,
/// projected on the combined major axis, form the reflection's sub-peak profile (sub-peaks of different
/// spots are fully resolved: dip 0).
enum ReflectionFamily {
    /// Spots holding less than this share of their family's intensity (moment weight) stay out of it: weak
    /// satellites (a small sub-grain a fraction of a degree away, 2-6 % as bright) are reported by the peak
    /// search but are not a tilt boundary. The weakest sub-grain of a simulated stack (weights 0.6-1.4,
    /// up to five) holds 0.097.
    static let minimumShare = 0.08

    /// Streak metrics and intensity of the family of peaks `members` (main peak first); nil when the
    /// members hold one spot only (its own metrics stand).
    static func combine(_ members: [Int], peaks: [Peak], psfSigma: Double) -> (streak: StreakMetrics, intensity: Double)? {
        var seen = Set<Int>()
        var spots: [Peak] = []
        var intensity = 0.0
        for k in members where k >= 0 && k < peaks.count {
            intensity += peaks[k].intensity
            if seen.insert(peaks[k].spot).inserted { spots.append(peaks[k]) }
        }
        let all = spots.reduce(0) { $0 + max($1.streak.weight, 0) }
        guard all > 0 else { return nil }
        spots = spots.filter { $0.streak.weight >= minimumShare * all }
        guard spots.count > 1 else { return nil }
        // Mixture of the spots' moments.
        let total = spots.reduce(0) { $0 + max($1.streak.weight, 0) }
        guard total > 0 else { return nil }
        var mx = 0.0, my = 0.0
        for p in spots { mx += p.streak.weight * p.streak.centre.x; my += p.streak.weight * p.streak.centre.y }
        mx /= total; my /= total
        var xx = 0.0, xy = 0.0, yy = 0.0
        for p in spots {
            let c = p.streak.covariance, w = p.streak.weight / total
            let ex = p.streak.centre.x - mx, ey = p.streak.centre.y - my
            xx += w * (c.xx + ex * ex); xy += w * (c.xy + ex * ey); yy += w * (c.yy + ey * ey)
        }
        let e = LinearAlgebra.symmetricEigen2(xx, xy, yy)
        let major = e.large, minor = max(e.small, 1e-6), angle = e.angle
        let u = (x: cos(angle * .pi / 180), y: sin(angle * .pi / 180))
        // Sub-peaks of every spot, placed in the plane, projected on the combined axis.
        struct Sub { var t: Double; var height: Double; var width: Double; var spot: Int; var order: Int }
        var subs: [Sub] = []
        for (n, p) in spots.enumerated() {
            let s = p.streak, e = s.direction
            // Section width along u of the spot's Gaussian equivalent, relative to along its own axis.
            let c = s.covariance
            let det = max(c.xx * c.yy - c.xy * c.xy, 1e-12)
            func inverseQuadratic(_ v: (x: Double, y: Double)) -> Double { (c.yy * v.x * v.x - 2 * c.xy * v.x * v.y + c.xx * v.y * v.y) / det }
            let scale = (inverseQuadratic(e) / max(inverseQuadratic(u), 1e-12)).squareRoot()
            for k in 0..<s.profile.count {
                let x = s.centre.x + s.profile.positions[k] * e.x, y = s.centre.y + s.profile.positions[k] * e.y
                let width = k < s.profile.widths.count ? s.profile.widths[k] * scale : 0
                subs.append(Sub(t: (x - mx) * u.x + (y - my) * u.y, height: s.profile.heights[k], width: width, spot: n, order: k))
            }
        }
        subs.sort { $0.t < $1.t }
        var dips: [Double] = [], seps: [Double] = []
        for k in 1..<max(subs.count, 1) {
            let a = subs[k - 1], b = subs[k]
            seps.append(b.t - a.t)
            // Neighbours of one spot keep that spot's dip; of different spots, fully resolved.
            if a.spot == b.spot, abs(a.order - b.order) == 1 {
                dips.append(spots[a.spot].streak.profile.dipRatios[min(a.order, b.order)])
            } else {
                dips.append(0)
            }
        }
        let main = spots[0].streak
        var profile = SubpeakProfile(count: subs.count, positions: subs.map(\.t), heights: subs.map(\.height), separations: seps,
                                     dipRatios: dips, widths: subs.map(\.width), kurtosis: 0, crossWidth: main.profile.crossWidth)
        if profile.count == 0 { profile = main.profile }
        let psf2 = psfSigma * psfSigma
        let streak = StreakMetrics(covariance: (xx, xy, yy), lambdaMajor: major, lambdaMinor: minor, angle: angle,
                                   aspectRatio: (major / minor).squareRoot(), length: (12 * max(major - psf2, 0)).squareRoot(),
                                   width: (12 * max(minor - psf2, 0)).squareRoot(), profile: profile, centre: (mx, my), weight: total)
        return (streak, intensity)
    }

    /// Whether a spot of the family meets a spot outside it (`StreakMetrics.overlap`, as the peak
    /// search's overlap flag) that has at least `fraction` of its intensity: a much fainter neighbour
    /// (a fragment at a streak's end, a weak satellite) takes few of its pixels.
    static func overlapsOthers(_ members: [Int], peaks: [Peak], ignoringBelow fraction: Double = 0) -> Bool {
        let spots = Set(members.filter { $0 >= 0 && $0 < peaks.count }.map { peaks[$0].spot })
        var others: [Int: Peak] = [:]
        for p in peaks where !spots.contains(p.spot) && others[p.spot] == nil { others[p.spot] = p }
        for k in members where k >= 0 && k < peaks.count {
            let a = peaks[k]
            for b in others.values where b.intensity >= fraction * a.intensity && StreakMetrics.overlap(a.streak, b.streak) { return true }
        }
        return false
    }
}
