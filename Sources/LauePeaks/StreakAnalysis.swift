import Foundation

/// Pixels that belong to other spots than `spot` (owner map of basins, spot of each basin).
struct OtherSpots {
    var owner: UnsafeBufferPointer<Int32>
    var spotOfBasin: UnsafeBufferPointer<Int32>
    var spot: Int32

    @inline(__always) func contains(_ i: Int) -> Bool {
        let o = owner[i]
        return o >= 0 && spotOfBasin[Int(o)] != spot
    }
}

/// Major-axis profiles and their sub-peaks (shared/notes/laue-physics.md 3.4-3.6).
enum StreakAnalysis {
    /// Bilinear sample of a row-major image at 0-based (x, y); dead pixels, spikes (state 4) and pixels
    /// of other spots (`others`) count as the background; nil outside.
    @inline(__always)
    static func sample(_ p: UnsafeBufferPointer<Float>, _ state: UnsafeBufferPointer<UInt8>, _ mask: PixelMask,
                       _ w: Int, _ h: Int, _ x: Double, _ y: Double, background: Double, others: OtherSpots?) -> Double? {
        guard x >= 0, y >= 0, x <= Double(w - 1), y <= Double(h - 1), w >= 2, h >= 2 else { return nil }
        let x0 = min(Int(x), w - 2), y0 = min(Int(y), h - 2)
        let fx = x - Double(x0), fy = y - Double(y0)
        @inline(__always) func value(_ i: Int) -> Double {
            let v = p[i]
            return mask(v) || state[i] == 4 || (others?.contains(i) ?? false) ? background : Double(v)
        }
        let a = value(y0 * w + x0), b = value(y0 * w + x0 + 1), c = value((y0 + 1) * w + x0), d = value((y0 + 1) * w + x0 + 1)
        return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy
    }

    /// Profile along `direction` through (cx, cy): samples every `step` px over +-halfLength, each the
    /// mean over a band of +-1.5 px across the axis, background-subtracted; then smoothed with a
    /// Gaussian of `smoothing` px. Returns positions and values. With `mirror` (a point and a unit
    /// vector), samples on the side the vector points to are taken at their reflection through the point
    /// (a one-sided depth tail left out).
    static func profile(_ p: UnsafeBufferPointer<Float>, state: UnsafeBufferPointer<UInt8>, mask: PixelMask,
                        width: Int, height: Int, cx: Double, cy: Double,
                        direction: (x: Double, y: Double), halfLength: Double, background: Double,
                        smoothing: Double, step: Double = 0.25, others: OtherSpots? = nil,
                        mirror: (x: Double, y: Double, dx: Double, dy: Double)? = nil) -> (t: [Double], v: [Double]) {
        let n = Int((halfLength / step).rounded(.up))
        var t: [Double] = [], v: [Double] = []
        t.reserveCapacity(2 * n + 1); v.reserveCapacity(2 * n + 1)
        let across = stride(from: -PeakSearchConstants.profileHalfBand, through: PeakSearchConstants.profileHalfBand, by: 0.5).map { $0 }
        for i in -n...n {
            let s = Double(i) * step
            var sum = 0.0, count = 0.0
            for a in across {
                var x = cx + s * direction.x - a * direction.y, y = cy + s * direction.y + a * direction.x
                if let m = mirror {
                    let t = (x - m.x) * m.dx + (y - m.y) * m.dy
                    if t > 0 { x = 2 * m.x - x; y = 2 * m.y - y }
                }
                if let val = sample(p, state, mask, width, height, x, y, background: background, others: others) { sum += val; count += 1 }
            }
            t.append(s)
            v.append(count > 0 ? sum / count - background : 0)
        }
        guard smoothing > 0.05 else { return (t, v) }
        let r = Int((3 * smoothing / step).rounded(.up))
        let kernel = (-r...r).map { exp(-0.5 * pow(Double($0) * step / smoothing, 2)) }
        var out = v
        for i in v.indices {
            var s = 0.0, wsum = 0.0
            for (k, w) in kernel.enumerated() {
                let j = i + k - r
                guard j >= 0 && j < v.count else { continue }
                s += w * v[j]; wsum += w
            }
            out[i] = s / wsum
        }
        return (t, out)
    }

    /// Sub-peaks of a profile: local maxima whose prominence exceeds `minimumProminence`.
    static func subpeaks(t: [Double], v: [Double], minimumProminence: Double) -> SubpeakProfile {
        let n = v.count
        var maxima: [Int] = []
        if n >= 3 {
            var i = 1
            while i < n - 1 {
                // Plateaus count once, at their middle.
                if v[i] > v[i - 1] {
                    var j = i
                    while j + 1 < n && v[j + 1] == v[i] { j += 1 }
                    if j + 1 < n && v[j + 1] < v[i] { maxima.append((i + j) / 2) }
                    i = j + 1
                } else { i += 1 }
            }
        }
        // Prominence: height above the higher of the two lowest points separating it from higher maxima.
        var kept: [Int] = []
        for m in maxima {
            var left = v[m], j = m
            while j > 0 && v[j - 1] <= v[m] { j -= 1; left = min(left, v[j]) }
            if j == 0 { left = min(left, v[0]) }
            var right = v[m]; j = m
            while j < n - 1 && v[j + 1] <= v[m] { j += 1; right = min(right, v[j]) }
            if j == n - 1 { right = min(right, v[n - 1]) }
            let prominence = v[m] - max(left, right)
            if prominence >= minimumProminence { kept.append(m) }
        }
        if kept.isEmpty, let top = v.indices.max(by: { v[$0] < v[$1] }) { kept = [top] }
        var dips: [Double] = [], seps: [Double] = []
        for k in 1..<max(kept.count, 1) {
            let a = kept[k - 1], b = kept[k]
            let low = v[a...b].min() ?? 0
            dips.append(max(0, low) / max(min(v[a], v[b]), 1e-12))
            seps.append(t[b] - t[a])
        }
        // Widths at half height, bounded by the neighbouring dips: where the profile does not fall to
        // half height before the lowest point towards a neighbour, that point is the edge.
        var widths: [Double] = []
        for (k, m) in kept.enumerated() {
            let half = v[m] / 2
            var lo = 0, hi = n - 1
            if k > 0 { lo = kept[k - 1]; for i in kept[k - 1]...m where v[i] < v[lo] { lo = i } }
            if k + 1 < kept.count { hi = kept[k + 1]; for i in m...kept[k + 1] where v[i] < v[hi] { hi = i } }
            var l = m
            while l > lo && v[l] > half { l -= 1 }
            var r = m
            while r < hi && v[r] > half { r += 1 }
            func cross(_ i: Int, _ j: Int) -> Double {   // interpolated crossing between samples i and j
                let d = v[j] - v[i]
                let f = abs(d) < 1e-12 ? 0 : min(max((half - v[i]) / d, 0), 1)
                return t[i] + f * (t[j] - t[i])
            }
            let left = l < m && v[l] <= half ? cross(l, l + 1) : t[l]
            let right = r > m && v[r] <= half ? cross(r - 1, r) : t[r]
            widths.append(right - left)
        }
        // Shape factor mu4 / mu2^2 of the non-negative profile.
        var s0 = 0.0, s1 = 0.0
        for i in 0..<n { let w = max(0, v[i]); s0 += w; s1 += w * t[i] }
        var kurt = 0.0
        if s0 > 0 {
            let mean = s1 / s0
            var m2 = 0.0, m4 = 0.0
            for i in 0..<n { let w = max(0, v[i]); let d = t[i] - mean; m2 += w * d * d; m4 += w * d * d * d * d }
            m2 /= s0; m4 /= s0
            kurt = m2 > 0 ? m4 / (m2 * m2) : 0
        }
        return SubpeakProfile(count: kept.count, positions: kept.map { t[$0] }, heights: kept.map { v[$0] },
                              separations: seps, dipRatios: dips, widths: widths, kurtosis: kurt)
    }

    /// Full width at half maximum of the profile's peak nearest t = 0 (the highest sample within the
    /// central third), interpolated between samples; 0 for an empty profile.
    static func centralWidth(t: [Double], v: [Double]) -> Double {
        let n = v.count
        guard n >= 3 else { return 0 }
        let lo = n / 3, hi = max(lo, 2 * n / 3)
        var m = lo
        for i in lo...hi where v[i] > v[m] { m = i }
        let half = v[m] / 2
        guard half > 0 else { return 0 }
        var l = m
        while l > 0 && v[l] > half { l -= 1 }
        var r = m
        while r < n - 1 && v[r] > half { r += 1 }
        func cross(_ i: Int, _ j: Int) -> Double {
            let d = v[j] - v[i]
            return abs(d) < 1e-12 ? t[i] : t[i] + (half - v[i]) / d * (t[j] - t[i])
        }
        let left = l < m ? cross(l, l + 1) : t[l], right = r > m ? cross(r - 1, r) : t[r]
        return right - left
    }

    /// The outermost crossings of a profile at `level` times its highest value: the first and last
    /// samples at or above it, interpolated; nil for an empty or non-positive profile.
    static func crossings(t: [Double], v: [Double], level: Double) -> (left: Double, right: Double)? {
        guard let top = v.max(), top > 0, v.count >= 2 else { return nil }
        let cut = level * top
        guard let first = v.firstIndex(where: { $0 >= cut }), let last = v.lastIndex(where: { $0 >= cut }) else { return nil }
        func cross(_ i: Int, _ j: Int) -> Double {     // crossing of `cut` between samples i (below) and j (above)
            let d = v[j] - v[i]
            return abs(d) < 1e-12 ? t[j] : t[i] + (cut - v[i]) / d * (t[j] - t[i])
        }
        return (first > 0 ? cross(first - 1, first) : t[first], last < v.count - 1 ? cross(last + 1, last) : t[last])
    }

    /// Full length of a profile at `level` times its highest value (0 for an empty profile).
    static func extent(t: [Double], v: [Double], level: Double) -> Double {
        crossings(t: t, v: v, level: level).map { $0.right - $0.left } ?? 0
    }
}
