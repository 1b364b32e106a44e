import Foundation

/// NumPy and Larch helpers, reproduced operation for operation so that results match Larch.
enum LarchMath {
    /// Larch `index_of`: the last index with `array[i] <= value`, 0 when value is below them all.
    static func indexOf(_ array: [Double], _ value: Double) -> Int {
        var last = 0
        for (i, a) in array.enumerated() where a <= value { last = i }
        return array.min().map { value < $0 ? 0 : last } ?? 0
    }

    /// Larch `index_nearest`: the first index of the smallest |array - value|.
    static func indexNearest(_ array: [Double], _ value: Double) -> Int {
        var best = 0, distance = Double.infinity
        for (i, a) in array.enumerated() where abs(a - value) < distance { best = i; distance = abs(a - value) }
        return best
    }

    /// `np.gradient(y)` with unit spacing: central differences inside, one-sided at the ends.
    static func gradient(_ y: [Double]) -> [Double] {
        let n = y.count
        guard n >= 2 else { return [Double](repeating: 0, count: n) }
        var g = [Double](repeating: 0, count: n)
        g[0] = y[1] - y[0]
        g[n - 1] = y[n - 1] - y[n - 2]
        if n > 2 { for i in 1..<(n - 1) { g[i] = (y[i + 1] - y[i - 1]) / 2 } }
        return g
    }

    /// `np.gradient(mu) / np.gradient(energy)`.
    static func derivative(_ mu: [Double], _ energy: [Double]) -> [Double] {
        zip(gradient(mu), gradient(energy)).map { $0 / $1 }
    }

    /// `np.interp(x, xp, fp)`: linear, clamped to the end values outside `xp`.
    static func interp(_ x: [Double], _ xp: [Double], _ fp: [Double]) -> [Double] {
        let n = xp.count
        var out = [Double](repeating: 0, count: x.count)
        var j = 0
        for (k, v) in x.enumerated() {
            if v <= xp[0] { out[k] = fp[0]; continue }
            if v >= xp[n - 1] { out[k] = fp[n - 1]; continue }
            if j > 0 && xp[j] > v { j = 0 }
            while j + 1 < n && xp[j + 1] <= v { j += 1 }
            let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
            out[k] = slope * (v - xp[j]) + fp[j]
        }
        return out
    }

    /// Larch `find_energy_step` (with its quirk: under 100 points the slice is empty, giving NaN).
    static func energyStep(_ energy: [Double], fractionIgnored: Double = 0.01, average: Int = 10) -> Double {
        let nskip = Int(fractionIgnored * Double(energy.count))
        let ordered = Array(energy.dropLast())          // argsort-diff == 1 on sorted energies drops the last
        guard nskip > 0, ordered.count > 2 * nskip else { return .nan }
        let selection = Array(ordered[nskip..<(ordered.count - nskip)])
        guard selection.count >= 2 else { return .nan }
        let steps = zip(selection.dropFirst(), selection).map { $0 - $1 }.sorted()
        let chosen = steps[min(nskip, steps.count)..<min(nskip + average, steps.count)]
        return chosen.isEmpty ? .nan : chosen.reduce(0, +) / Double(chosen.count)
    }

    /// Larch `smooth(x, y, sigma, xstep)` with its default Lorentzian window and npad 5: resample
    /// on a uniform grid, reflect-pad, convolve, interpolate back.
    static func lorentzianSmooth(_ x: [Double], _ y: [Double], sigma: Double, step: Double, pad: Int = 5) -> [Double] {
        let xmin = step * Double(Int((x.min()! - Double(pad) * step) / step))
        let xmax = step * Double(Int((x.max()! + Double(pad) * step) / step))
        let npts1 = 1 + Int(abs(xmax - xmin + step * 0.1) / step)
        let npts = min(npts1, 50 * x.count)
        let delta = (xmax - xmin) / Double(npts - 1)
        var x0 = (0..<npts).map { Double($0) * delta + xmin }
        x0[npts - 1] = xmax
        let y0 = interp(x0, x, y)
        let s = sigma / step
        var window = (0..<(2 * npts)).map { k -> Double in
            let u = (Double(k) - Double(npts)) / s
            return 1 / (1 + u * u) / (Double.pi * s)
        }
        let total = window.reduce(0, +)
        for k in window.indices { window[k] /= total }
        // y1 = y0[npts:0:-1] + y0 + y0[::-1]
        var y1: [Double] = []
        y1.reserveCapacity(3 * npts)
        for i in stride(from: npts - 1, through: 1, by: -1) { y1.append(y0[i]) }
        y1 += y0
        y1 += y0.reversed()
        // np.convolve(window, y1, 'valid'): npts values.
        let L = window.count
        var y2 = [Double](repeating: 0, count: y1.count - L + 1)
        for k in y2.indices {
            var sum = 0.0
            let base = L - 1 + k
            for j in 0..<L { sum += window[j] * y1[base - j] }
            y2[k] = sum
        }
        if y2.count > x0.count {
            let extra = (y2.count - x0.count) / 2
            y2 = Array(y2[extra..<(extra + x0.count)])
        }
        return interp(x, x0, y2)
    }

    /// Python's round(): half to even.
    static func pythonRound(_ x: Double) -> Double { x.rounded(.toNearestOrEven) }
}
