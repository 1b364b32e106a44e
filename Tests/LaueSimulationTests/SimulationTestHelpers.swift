import Foundation
import LaueCore
import LaueSimulation

/// Intensity-weighted moments of a square window (0-based pixel centres), after subtracting `background`.
struct WindowMoments {
    var total: Double
    var cx: Double
    var cy: Double
    var cxx: Double
    var cyy: Double
    var cxy: Double

    init(_ pixels: [Float], width: Int, height: Int, x: Double, y: Double, half: Int, background: Double = 0) {
        var s = 0.0, sx = 0.0, sy = 0.0
        let x0 = Int(x.rounded()), y0 = Int(y.rounded())
        var pts: [(Double, Double, Double)] = []
        for r in max(0, y0 - half)...min(height - 1, y0 + half) {
            for c in max(0, x0 - half)...min(width - 1, x0 + half) {
                let v = max(0, Double(pixels[r * width + c]) - background)
                s += v; sx += v * Double(c); sy += v * Double(r)
                pts.append((Double(c), Double(r), v))
            }
        }
        total = s
        cx = s > 0 ? sx / s : x
        cy = s > 0 ? sy / s : y
        var xx = 0.0, yy = 0.0, xy = 0.0
        for (c, r, v) in pts { xx += v * (c - cx) * (c - cx); yy += v * (r - cy) * (r - cy); xy += v * (c - cx) * (r - cy) }
        cxx = s > 0 ? xx / s : 0; cyy = s > 0 ? yy / s : 0; cxy = s > 0 ? xy / s : 0
    }

    /// Largest and smallest eigenvalues and the major-axis unit vector.
    var principal: (l1: Double, l2: Double, direction: (Double, Double)) {
        let t = (cxx + cyy) / 2, d = (((cxx - cyy) / 2) * ((cxx - cyy) / 2) + cxy * cxy).squareRoot()
        let angle = 0.5 * atan2(2 * cxy, cxx - cyy)
        return (t + d, t - d, (cos(angle), sin(angle)))
    }
}

/// Profile of a window projected on a direction (bins of `step` px), for counting sub-peaks.
func projectedProfile(_ pixels: [Float], width: Int, height: Int, x: Double, y: Double, direction: Vec3,
                      half: Int, band: Double = 2.0, step: Double = 1.0) -> [Double] {
    let n = Int((Double(half) / step).rounded()) * 2 + 1
    var prof = [Double](repeating: 0, count: n)
    let d = Vec3(direction.x, direction.y, 0).normalized
    let x0 = Int(x.rounded()), y0 = Int(y.rounded())
    for r in max(0, y0 - half)...min(height - 1, y0 + half) {
        for c in max(0, x0 - half)...min(width - 1, x0 + half) {
            let dx = Double(c) - x, dy = Double(r) - y
            let along = dx * d.x + dy * d.y, across = -dx * d.y + dy * d.x
            guard abs(across) <= band else { continue }
            let b = Int((along / step).rounded()) + n / 2
            if b >= 0 && b < n { prof[b] += Double(pixels[r * width + c]) }
        }
    }
    return prof
}

/// Local maxima whose prominence exceeds `fraction` of the highest value (after light smoothing).
func countPeaks(_ p: [Double], fraction: Double = 0.1) -> [Int] {
    var s = p
    for i in 1..<(p.count - 1) { s[i] = 0.25 * p[i - 1] + 0.5 * p[i] + 0.25 * p[i + 1] }
    let top = s.max() ?? 0
    var peaks: [Int] = []
    for i in 1..<(s.count - 1) where s[i] > s[i - 1] && s[i] >= s[i + 1] && s[i] > fraction * top {
        // Prominence: the lowest point towards the nearest higher peak on either side.
        var left = s[i], j = i
        while j > 0 && s[j - 1] <= s[i] { j -= 1; left = min(left, s[j]) }
        var right = s[i]; j = i
        while j < s.count - 1 && s[j + 1] <= s[i] { j += 1; right = min(right, s[j]) }
        if s[i] - max(left, right) > fraction * top { peaks.append(i) }
    }
    return peaks
}

/// Predicted spots of `u` that stand at least `clearance` px from every other spot and from the edges.
func isolatedSpots(_ sim: PatternSimulator, orientation u: Mat3, clearance: Double) -> [LaueSpot] {
    let spots = sim.predictor.spots(orientation: u)
    let c = sim.calibration
    return spots.filter { s in
        c.contains(x: s.x, y: s.y, margin: clearance) &&
            !spots.contains { o in o.hkl != s.hkl && (o.x - s.x) * (o.x - s.x) + (o.y - s.y) * (o.y - s.y) < clearance * clearance }
    }
}
