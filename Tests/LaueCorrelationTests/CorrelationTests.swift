import Foundation
import LaueCore
import LaueCorrelation
import LaueSimulation
import LaueTestSupport
import LaueXANES
import Testing

@Suite struct CorrelationTests {
    static func defectMap(_ d: SyntheticDefectMap) -> DefectMap {
        DefectMap(grid: d.grid, classes: d.classes, streakExtent: d.streakExtent, channel: d.intensity, name: "synthetic")
    }

    /// Before/after maps on a rotated, offset, finer grid with a GND-dependent extra shift: the
    /// pipeline (edge maps, registration, resampling, statistics) finds it at p < 0.01.
    @Test func findsAPlantedCorrelation() throws {
        let pair = SyntheticPair(rotation: 6, offset: (10.1, 9.8)) { sim in
            sim.classShift = [.gnd: 0.6, .tiltBoundaryGND: 0.6]
            sim.shiftPerDegree = 0
        }
        let sim = try pair.simulation.run()
        let (before, after) = try EdgeMap.analysePair(before: sim.before, after: sim.after)
        var options = CorrelationOptions()
        options.permutations = 499
        let r = try CorrelationAnalysis.run(defects: Self.defectMap(pair.defects), before: before, after: after, options: options)
        let gnd = try #require(r.comparisons.first { $0.a == .gnd && $0.b == .noDefect })
        #expect(abs(gnd.difference - 0.6) <= 0.1, "GND - no defect: \(gnd.difference) eV")
        #expect(gnd.welch.p < 0.01 && gnd.mannWhitney.p < 0.01)
        #expect(gnd.spatial.p < 0.01, "spatial p \(gnd.spatial.p)")
        #expect(gnd.differenceInterval.low > 0.4 && gnd.differenceInterval.high < 0.8)
        let none = try #require(r.perClass.first { $0.defectClass == .noDefect })
        #expect(abs(none.shift.mean - 1.5) <= 0.05, "global shift \(none.shift.mean)")
        let tilt = try #require(r.comparisons.first { $0.a == .tiltBoundary && $0.b == .noDefect })
        #expect(abs(tilt.difference) <= 0.1, "no planted tilt-boundary effect: \(tilt.difference)")
        #expect(r.spearman.statistic > 0.3, "GND domains have the larger streaking extent")
    }

    /// 50 null datasets (a smooth shift field unrelated to the defects): the naive tests see
    /// "effects" often, the toroidal permutation test in at most ~10 % of them.
    @Test func spatialTestHoldsItsLevelOnNullData() throws {
        let defects = SyntheticDefectMap(seed: 21)
        let map = Self.defectMap(defects)
        let g = defects.grid
        var spatialHits = 0, naiveHits = 0, datasets = 0
        for k in 0..<50 {
            var sim = XANESSimulation(defects: defects, xanesGrid: g)
            sim.classShift = [:]
            sim.seed = 1000 + UInt64(k)
            sim.shiftField = smoothField(grid: g, amplitude: 0.4, passes: 6, seed: 500 + UInt64(k))
            let r = try sim.run()
            let (before, after) = try EdgeMap.analysePair(before: r.before, after: r.after)
            var options = CorrelationOptions()
            options.manualBefore = RigidTransform(); options.manualAfter = RigidTransform()
            options.permutations = 199
            options.bootstrapResamples = 200
            options.comparisons = [(.gnd, .noDefect)]
            options.seed = UInt64(k)
            let c = try CorrelationAnalysis.run(defects: map, before: before, after: after, options: options)
            guard let test = c.comparisons.first else { continue }
            datasets += 1
            if test.spatial.p < 0.05 { spatialHits += 1 }
            if test.welch.p < 0.05 { naiveHits += 1 }
        }
        print("null datasets: \(datasets); p < 0.05 in \(spatialHits) (spatial permutation) and \(naiveHits) (Welch)")
        #expect(datasets == 50)
        #expect(Double(spatialHits) <= 0.12 * Double(datasets), "spatial test: \(spatialHits) of \(datasets) below 0.05")
        #expect(naiveHits > spatialHits, "the naive test should be fooled by autocorrelation more often")
    }

    /// White noise smoothed by repeated 3x3 box filters, scaled to `amplitude` SD.
    func smoothField(grid: MapGrid, amplitude: Double, passes: Int, seed: UInt64) -> [Double] {
        var rng = SeededGenerator(seed: seed)
        var f = (0..<grid.count).map { _ in rng.normal() }
        for _ in 0..<passes {
            var g = f
            for j in 0..<grid.rows { for i in 0..<grid.columns {
                var s = 0.0, n = 0.0
                for dj in -1...1 { for di in -1...1 {
                    let a = i + di, b = j + dj
                    if a >= 0, b >= 0, a < grid.columns, b < grid.rows { s += f[b * grid.columns + a]; n += 1 }
                } }
                g[j * grid.columns + i] = s / n
            } }
            f = g
        }
        let m = f.reduce(0, +) / Double(f.count)
        let sd = (f.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(f.count)).squareRoot()
        return f.map { ($0 - m) / sd * amplitude }
    }

    /// Statistics against scipy 1.17.1 on fixed samples (values printed by scipy.stats).
    @Test func testsMatchScipy() {
        let a = [1.2, 2.3, 2.9, 3.1, 4.8, 5.0, 5.5], b = [0.4, 1.1, 1.9, 2.0, 2.2, 3.0]
        let w = HypothesisTests.welch(a, b)          // ttest_ind(a, b, equal_var=False)
        #expect(abs(w.statistic - 2.5174445581005855) < 1e-9, "t \(w.statistic)")
        #expect(abs(w.p - 0.031127889431581915) < 1e-6, "p \(w.p)")
        let u = HypothesisTests.mannWhitney(a, b)    // mannwhitneyu(a, b, method="asymptotic")
        #expect(u.statistic == 36)
        #expect(abs(u.p - 0.03831876314941356) < 1e-6, "p \(u.p)")
        let x = [1.0, 2, 3, 4, 5, 6], y = [2.0, 1, 4, 3, 7, 5]
        let r = HypothesisTests.pearson(x, y), rho = HypothesisTests.spearman(x, y)
        #expect(abs(r.statistic - 0.7917946548886294) < 1e-9 && abs(r.p - 0.06051140336275671) < 1e-6, "\(r)")
        #expect(abs(rho.statistic - 0.8285714285714287) < 1e-9 && abs(rho.p - 0.04156268221574335) < 1e-6, "\(rho)")
    }
}
