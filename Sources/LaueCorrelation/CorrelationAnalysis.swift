import Foundation
import LaueCore
import LaueXANES

/// Options of a defect / oxidation-state correlation.
public struct CorrelationOptions: Sendable {
    public var registration = RegistrationOptions()
    /// Transforms given by hand (XANES frame -> Laue frame) instead of registration.
    public var manualBefore: RigidTransform? = nil
    public var manualAfter: RigidTransform? = nil
    public var permutations = 999
    public var bootstrapResamples = 2000
    public var confidenceLevel = 0.95
    public var seed: UInt64 = 1
    /// Class pairs compared; default: every defect class against no_defect.
    public var comparisons: [(DefectClass, DefectClass)] = DefectClass.physical.filter { $0 != .noDefect }.map { ($0, .noDefect) }
    /// Classes with fewer pixels are listed but not tested.
    public var minimumPixels = 5
    public init() {}
}

/// Edge energies of one defect class.
public struct ClassStatistics: Sendable {
    public var defectClass: DefectClass
    public var before: SampleSummary
    public var after: SampleSummary
    public var shift: SampleSummary
    /// Bootstrap confidence interval of the mean shift.
    public var shiftInterval: (low: Double, high: Double)
}

/// Shift of class `a` against class `b`.
public struct ClassComparison: Sendable {
    public var a: DefectClass
    public var b: DefectClass
    /// mean shift(a) - mean shift(b), eV, with its bootstrap interval.
    public var difference: Double
    public var differenceInterval: (low: Double, high: Double)
    public var welch: TestResult
    public var mannWhitney: TestResult
    /// Toroidal-shift permutation test of the difference (spatially honest).
    public var spatial: TestResult
}

/// Everything `lauemap correlate` reports.
public struct CorrelationResult: Sendable {
    public var registrationBefore: RegistrationResult
    public var registrationAfter: RegistrationResult
    /// On the Laue grid: edge energies (eV) before and after, and their difference.
    public var grid: MapGrid
    public var edgeBefore: [Double]
    public var edgeAfter: [Double]
    public var shift: [Double]
    public var classes: [DefectClass?]
    public var streakExtent: [Double]
    public var perClass: [ClassStatistics]
    public var comparisons: [ClassComparison]
    /// Streaking extent vs edge shift over all classified pixels.
    public var pearson: TestResult
    public var spearman: TestResult
    /// Spearman's rho with a toroidal-shift permutation p-value.
    public var spatialSpearman: TestResult
    /// Pixels used (class known, both edges measured).
    public var pixelCount: Int
}

/// Registers the before/after edge maps onto the Laue grid and relates the edge shift to the
/// defect classes and the streaking extent (docs/xanes.md).
public enum CorrelationAnalysis {
    public static func run(defects: DefectMap, before: EdgeMap, after: EdgeMap, options: CorrelationOptions = CorrelationOptions()) throws -> CorrelationResult {
        let fixed = GriddedMap(grid: defects.grid, values: defects.channel)
        func register(_ map: EdgeMap, manual: RigidTransform?, label: String) throws -> RegistrationResult {
            var o = options.registration
            o.manual = manual
            do {
                return try Registration.register(fixed: fixed, moving: GriddedMap(grid: map.grid, values: map.edgeStep), options: o)
            } catch let e as LaueError {
                throw LaueError(e.kind, file: e.file, item: "\(label) XANES map", e.reason)
            }
        }
        let rb = try register(before, manual: options.manualBefore, label: "before")
        let ra = try register(after, manual: options.manualAfter, label: "after")
        let g = defects.grid
        let eb = GriddedMap(grid: before.grid, values: before.edgeEnergy).averaged(onto: g, transform: rb.transform).values
        let ea = GriddedMap(grid: after.grid, values: after.edgeEnergy).averaged(onto: g, transform: ra.transform).values
        let shift = zip(ea, eb).map { $0 - $1 }
        let classes = defects.classes.map { c -> DefectClass? in c.flatMap { DefectClass.physical.contains($0) ? $0 : nil } }
        let usable = (0..<g.count).filter { classes[$0] != nil && shift[$0].isFinite }

        var perClass: [ClassStatistics] = []
        for c in DefectClass.physical {
            let idx = usable.filter { classes[$0] == c }
            guard !idx.isEmpty else { continue }
            let s = idx.map { shift[$0] }
            let interval = idx.count >= 2 ? HypothesisTests.bootstrap([s], level: options.confidenceLevel, resamples: options.bootstrapResamples, seed: options.seed) {
                $0[0].reduce(0, +) / Double($0[0].count)
            } : (Double.nan, Double.nan)
            perClass.append(ClassStatistics(defectClass: c, before: SampleSummary(idx.map { eb[$0] }), after: SampleSummary(idx.map { ea[$0] }),
                                            shift: SampleSummary(s), shiftInterval: interval))
        }

        var comparisons: [ClassComparison] = []
        for (a, b) in options.comparisons {
            let sa = usable.filter { classes[$0] == a }.map { shift[$0] }, sb = usable.filter { classes[$0] == b }.map { shift[$0] }
            guard sa.count >= options.minimumPixels, sb.count >= options.minimumPixels else { continue }
            let mean = { (v: [Double]) in v.reduce(0, +) / Double(v.count) }
            let interval = HypothesisTests.bootstrap([sa, sb], level: options.confidenceLevel, resamples: options.bootstrapResamples, seed: options.seed) {
                mean($0[0]) - mean($0[1])
            }
            let spatial = SpatialPermutation.test(columns: g.columns, rows: g.rows, count: options.permutations, seed: options.seed) { s in
                var sumA = 0.0, nA = 0, sumB = 0.0, nB = 0
                for j in 0..<g.rows {
                    for i in 0..<g.columns {
                        let p = j * g.columns + i
                        guard shift[p].isFinite else { continue }
                        let c = classes[SpatialPermutation.shifted(i, j, by: s, columns: g.columns, rows: g.rows)]
                        if c == a { sumA += shift[p]; nA += 1 } else if c == b { sumB += shift[p]; nB += 1 }
                    }
                }
                return nA >= 2 && nB >= 2 ? sumA / Double(nA) - sumB / Double(nB) : .nan
            }
            comparisons.append(ClassComparison(a: a, b: b, difference: mean(sa) - mean(sb), differenceInterval: interval,
                                               welch: HypothesisTests.welch(sa, sb), mannWhitney: HypothesisTests.mannWhitney(sa, sb), spatial: spatial))
        }

        let withExtent = usable.filter { defects.streakExtent[$0].isFinite }
        let x = withExtent.map { defects.streakExtent[$0] }, y = withExtent.map { shift[$0] }
        let spatialSpearman = SpatialPermutation.test(columns: g.columns, rows: g.rows, count: options.permutations, seed: options.seed &+ 7) { s in
            var xs: [Double] = [], ys: [Double] = []
            for j in 0..<g.rows {
                for i in 0..<g.columns {
                    let p = j * g.columns + i
                    guard shift[p].isFinite, classes[p] != nil else { continue }
                    let q = SpatialPermutation.shifted(i, j, by: s, columns: g.columns, rows: g.rows)
                    let e = defects.streakExtent[q]
                    guard e.isFinite, classes[q] != nil else { continue }
                    xs.append(e); ys.append(shift[p])
                }
            }
            return xs.count >= 10 ? HypothesisTests.spearman(xs, ys).statistic : .nan
        }
        return CorrelationResult(registrationBefore: rb, registrationAfter: ra, grid: g, edgeBefore: eb, edgeAfter: ea, shift: shift,
                                 classes: classes, streakExtent: defects.streakExtent, perClass: perClass, comparisons: comparisons,
                                 pearson: HypothesisTests.pearson(x, y), spearman: HypothesisTests.spearman(x, y),
                                 spatialSpearman: spatialSpearman, pixelCount: usable.count)
    }
}
