import Foundation

/// Axis and colour-bar ticks at "nice" numbers (1, 2 or 5 times a power of ten; Heckbert, Graphics
/// Gems, 1990), labelled with just enough decimals to tell neighbouring ticks apart: a colour bar over
/// 7722.1-7722.9 eV reads 7722.2, 7722.4, ... (never 7722 five times), a range of 1e-6 reads in
/// scientific notation, and zero is never "-0".
public struct NiceTicks: Sendable, Equatable {
    /// Tick values inside [low, high], increasing.
    public var values: [Double]
    /// The distance between ticks.
    public var step: Double
    /// One label per value.
    public var labels: [String]

    /// Largest magnitude (of a tick or of the step's decimals) written in fixed notation; beyond it,
    /// and for steps below `smallestFixedStep`, labels are scientific.
    public static let largestFixed = 1e5
    public static let smallestFixedStep = 1e-3

    /// At most about `count` ticks (at least 2 where the range allows) covering [low, high].
    public init(low: Double, high: Double, count: Int = 5) {
        guard low.isFinite, high.isFinite else { self.init(values: [], step: 0); return }
        let (lo, hi) = (min(low, high), max(low, high))
        guard hi > lo else { self.init(values: [lo], step: 0); return }
        // Ranges no step can divide (wider than the largest double, or a few denormals): the ends.
        let step = NiceTicks.step(low: lo, high: hi, count: max(2, min(count, NiceTicks.maximumCount)))
        let first = (lo / step).rounded(.up), last = (hi / step).rounded(.down)
        guard step > 0, step.isFinite, first.isFinite, last.isFinite, last >= first, last - first <= Double(NiceTicks.maximumCount) else {
            self.init(values: [lo, hi], step: 0); return
        }
        var values: [Double] = []
        for k in 0...Int(last - first) {
            let v = (first + Double(k)) * step
            values.append(abs(v) < step * 1e-9 ? 0 : v)           // exact zero, never -0
        }
        self.init(values: values, step: step)
    }

    /// Most ticks ever made.
    public static let maximumCount = 50

    /// Ticks whose labels read alike (doubles too close to tell apart at large offsets) are dropped.
    init(values: [Double], step: Double) {
        var kept: [Double] = [], labels: [String] = []
        for (v, label) in zip(values, NiceTicks.labels(values, step: step)) where labels.last != label && !kept.contains(v) {
            kept.append(v); labels.append(label)
        }
        self.values = kept
        self.step = step
        self.labels = labels
    }

    /// The 1-2-5 step whose ticks inside [low, high] come closest to `count` (at least 2 where the
    /// range allows; ties: the larger step), searched around Heckbert's nice step for the range.
    static func step(low: Double, high: Double, count: Int) -> Double {
        let target = max(2, count)
        let base = floor(log10(niceNumber((high - low) / Double(target - 1), round: true)))
        var best: (step: Double, miss: Int)? = nil
        guard base.isFinite else { return 0 }
        for exponent in [base - 1, base, base + 1] {
            for m in [5.0, 2.0, 1.0] {
                let step = m * pow(10, exponent)
                let span = (high / step).rounded(.down) - (low / step).rounded(.up)
                guard step > 0, span.isFinite, span < 1e6 else { continue }
                let n = Int(span) + 1
                guard n >= 2 else { continue }
                let miss = abs(n - target)
                if best == nil || miss < best!.miss || (miss == best!.miss && step > best!.step) { best = (step, miss) }
            }
        }
        return best?.step ?? 0
    }

    /// Heckbert's nice number near `x` (> 0): 1, 2, 5 or 10 times a power of ten; rounded to the
    /// nearest (`round`) or the next above.
    public static func niceNumber(_ x: Double, round: Bool) -> Double {
        guard x > 0, x.isFinite else { return 1 }
        let exponent = floor(log10(x))
        let fraction = x / pow(10, exponent)
        let nice: Double
        if round {
            nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        } else {
            nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        }
        return nice * pow(10, exponent)
    }

    /// Labels of `values` spaced by `step`: fixed notation with the step's decimals, or scientific
    /// with as many significant digits as tell the ticks apart.
    public static func labels(_ values: [Double], step: Double) -> [String] {
        guard !values.isEmpty else { return [] }
        let largest = values.map(abs).max() ?? 0
        if step > 0, largest < largestFixed, step >= smallestFixedStep || largest == 0 {
            let decimals = max(0, Int((-log10(step)).rounded(.up)))
            return values.map { fixed($0 == 0 ? 0 : $0, decimals: decimals) }
        }
        if step == 0 { return values.map { format($0) } }
        // Scientific: enough significant digits that the step shows.
        let digits = max(0, min(16, Int(floor(log10(max(largest, step)))) - Int(floor(log10(step)))))
        return values.map { $0 == 0 ? "0" : String(format: "%.\(digits)e", $0) }
    }

    /// One number alone (a single tick, a value in a caption): 3 significant digits, no "-0".
    public static func format(_ v: Double) -> String {
        guard v.isFinite else { return "-" }
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= largestFixed || a < smallestFixedStep { return String(format: "%.2e", v) }
        let decimals = max(0, 2 - Int(floor(log10(a))))
        return fixed(v, decimals: decimals)
    }

    private static func fixed(_ v: Double, decimals: Int) -> String {
        let s = String(format: "%.\(decimals)f", v)
        // A negative value that rounds to zero prints "-0.00": it is zero.
        if s.hasPrefix("-"), s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { return String(s.dropFirst()) }
        return s
    }
}
