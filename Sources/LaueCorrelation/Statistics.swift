import CGSL
import Foundation
import LaueCore

/// N, mean, SD (n - 1), median and quartiles of a sample.
public struct SampleSummary: Sendable, Equatable {
    public var count: Int
    public var mean: Double
    public var standardDeviation: Double
    public var median: Double
    public var lowerQuartile: Double
    public var upperQuartile: Double

    public init(_ values: [Double]) {
        let v = values.filter(\.isFinite).sorted()
        count = v.count
        mean = v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
        let m = mean
        standardDeviation = v.count > 1 ? (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)).squareRoot() : .nan
        median = SampleSummary.quantile(v, 0.5)
        lowerQuartile = SampleSummary.quantile(v, 0.25)
        upperQuartile = SampleSummary.quantile(v, 0.75)
    }

    /// Linear-interpolation quantile of sorted values (NumPy's default).
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let h = q * Double(sorted.count - 1)
        let i = Int(floor(h)), f = h - Double(i)
        return i + 1 < sorted.count ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i]
    }
}

/// A test statistic and its two-sided p-value.
public struct TestResult: Sendable, Equatable {
    public var statistic: Double
    public var p: Double
}

/// The classical tests used to compare defect classes (as scipy.stats computes them).
public enum HypothesisTests {
    /// Welch's t-test (unequal variances): `scipy.stats.ttest_ind(a, b, equal_var=False)`.
    public static func welch(_ a: [Double], _ b: [Double]) -> TestResult {
        let x = SampleSummary(a), y = SampleSummary(b)
        guard x.count > 1, y.count > 1 else { return TestResult(statistic: .nan, p: .nan) }
        let va = x.standardDeviation * x.standardDeviation / Double(x.count), vb = y.standardDeviation * y.standardDeviation / Double(y.count)
        guard va + vb > 0 else { return TestResult(statistic: .nan, p: .nan) }
        let t = (x.mean - y.mean) / (va + vb).squareRoot()
        let df = (va + vb) * (va + vb) / (va * va / Double(x.count - 1) + vb * vb / Double(y.count - 1))
        return TestResult(statistic: t, p: 2 * gsl_cdf_tdist_Q(abs(t), df))
    }

    /// Mann-Whitney U (two-sided, normal approximation with tie and continuity corrections):
    /// `scipy.stats.mannwhitneyu(a, b, method="asymptotic")`. The statistic is U of `a`.
    public static func mannWhitney(_ a: [Double], _ b: [Double]) -> TestResult {
        let x = a.filter(\.isFinite), y = b.filter(\.isFinite)
        let n1 = Double(x.count), n2 = Double(y.count)
        guard n1 > 0, n2 > 0 else { return TestResult(statistic: .nan, p: .nan) }
        let (ranks, ties) = averageRanks(x + y)
        let r1 = ranks[0..<x.count].reduce(0, +)
        let u1 = r1 - n1 * (n1 + 1) / 2
        let n = n1 + n2
        let mu = n1 * n2 / 2
        let sigma = (n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))).squareRoot()
        guard sigma > 0 else { return TestResult(statistic: u1, p: 1) }
        let u = max(u1, n1 * n2 - u1)
        let z = (u - mu - 0.5) / sigma
        return TestResult(statistic: u1, p: min(1, 2 * gsl_cdf_ugaussian_Q(z)))
    }

    /// Average ranks (1-based) and the tie term sum(t^3 - t).
    static func averageRanks(_ v: [Double]) -> ([Double], Double) {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var ranks = [Double](repeating: 0, count: v.count)
        var ties = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = rank }
            let t = Double(j - i + 1)
            ties += t * t * t - t
            i = j + 1
        }
        return (ranks, ties)
    }

    /// Pearson r and its p-value (t with n - 2 degrees of freedom): `scipy.stats.pearsonr`.
    public static func pearson(_ x: [Double], _ y: [Double]) -> TestResult {
        let pairs = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
        let n = Double(pairs.count)
        guard n > 2 else { return TestResult(statistic: .nan, p: .nan) }
        let mx = pairs.reduce(0) { $0 + $1.0 } / n, my = pairs.reduce(0) { $0 + $1.1 } / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in pairs { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        guard sxx > 0, syy > 0 else { return TestResult(statistic: .nan, p: .nan) }
        let r = max(-1, min(1, sxy / (sxx * syy).squareRoot()))
        if abs(r) == 1 { return TestResult(statistic: r, p: 0) }
        let t = r * ((n - 2) / (1 - r * r)).squareRoot()
        return TestResult(statistic: r, p: 2 * gsl_cdf_tdist_Q(abs(t), n - 2))
    }

    /// Spearman rho (Pearson on average ranks) with the same t approximation: `scipy.stats.spearmanr`.
    public static func spearman(_ x: [Double], _ y: [Double]) -> TestResult {
        let pairs = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
        return pearson(averageRanks(pairs.map(\.0)).0, averageRanks(pairs.map(\.1)).0)
    }

    /// Percentile bootstrap confidence interval of `statistic` over resamples of `samples`
    /// (each resampled with replacement on its own).
    public static func bootstrap(_ samples: [[Double]], level: Double = 0.95, resamples: Int = 2000, seed: UInt64 = 1,
                                 statistic: ([[Double]]) -> Double) -> (low: Double, high: Double) {
        let clean = samples.map { $0.filter(\.isFinite) }
        guard clean.allSatisfy({ !$0.isEmpty }) else { return (.nan, .nan) }
        var rng = SeededGenerator(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(resamples)
        for _ in 0..<resamples {
            let drawn = clean.map { s in (0..<s.count).map { _ in s[Int(rng.uniform() * Double(s.count)) % s.count] } }
            let v = statistic(drawn)
            if v.isFinite { values.append(v) }
        }
        values.sort()
        let alpha = (1 - level) / 2
        return (SampleSummary.quantile(values, alpha), SampleSummary.quantile(values, 1 - alpha))
    }
}

/// Permutation tests that keep spatial autocorrelation: the class (or covariate) map is shifted
/// toroidally against the measured map, so neighbouring pixels stay together (docs/xanes.md).
public enum SpatialPermutation {
    /// p-value of |statistic(observed)| among |statistic| over `count` random toroidal shifts
    /// (shifts smaller than `minimumShift` pixels in both directions are skipped).
    public static func test(columns: Int, rows: Int, count: Int = 999, seed: UInt64 = 1, minimumShift: Int = 2,
                            statistic: (_ shift: (dx: Int, dy: Int)) -> Double) -> TestResult {
        let observed = statistic((0, 0))
        guard observed.isFinite else { return TestResult(statistic: .nan, p: .nan) }
        var rng = SeededGenerator(seed: seed)
        var extreme = 0, valid = 0, tries = 0
        while valid < count && tries < 20 * count {
            tries += 1
            let dx = Int(rng.uniform() * Double(columns)) % columns, dy = Int(rng.uniform() * Double(rows)) % rows
            let nearX = min(dx, columns - dx) < minimumShift, nearY = min(dy, rows - dy) < minimumShift
            if nearX && nearY { continue }
            let s = statistic((dx, dy))
            guard s.isFinite else { continue }
            valid += 1
            if abs(s) >= abs(observed) - 1e-12 { extreme += 1 }
        }
        return TestResult(statistic: observed, p: valid > 0 ? Double(1 + extreme) / Double(1 + valid) : .nan)
    }

    /// Index of pixel (i, j) after a toroidal shift.
    @inlinable public static func shifted(_ i: Int, _ j: Int, by s: (dx: Int, dy: Int), columns: Int, rows: Int) -> Int {
        ((j + s.dy) % rows) * columns + (i + s.dx) % columns
    }
}
