import Foundation
import Testing
import LaueRendering

/// Ticks at nice numbers with labels that tell them apart (issue 17): ranges from 1e-6 to 1e6, offsets
/// such as 7722.1-7722.9 eV, negative ranges, zero, single values; axis labels that never overlap.
@Suite struct NiceTicksTests {
    /// Every tick inside the range, 2-7 of them, a step of 1, 2 or 5 times a power of ten, distinct
    /// labels that read back as the values (to the step), no "-0".
    func check(_ low: Double, _ high: Double, _ count: Int = 5) {
        let t = NiceTicks(low: low, high: high, count: count)
        #expect(t.values.count >= 2 && t.values.count <= count + 2, "\(low)...\(high): \(t.values)")
        #expect(t.values.allSatisfy { $0 >= low - 1e-9 * abs(low) && $0 <= high + 1e-9 * abs(high) }, "\(low)...\(high): \(t.values)")
        let mantissa = t.step / pow(10, floor(log10(t.step)))
        #expect([1, 2, 5].contains { abs(mantissa - $0) < 1e-9 }, "step \(t.step)")
        #expect(Set(t.labels).count == t.labels.count, "\(low)...\(high): labels \(t.labels)")
        for (v, label) in zip(t.values, t.labels) {
            let read = try! #require(Double(label), "\(label)")
            #expect(abs(read - v) <= 0.01 * t.step, "\(label) for \(v) (step \(t.step))")
            #expect(!label.hasPrefix("-0") || read != 0, "\(label)")
        }
    }

    @Test func rangesFromMicroToMega() {
        for e in -6...6 {
            let scale = pow(10, Double(e))
            check(0, scale); check(0.13 * scale, 0.87 * scale); check(-3.3 * scale, 7.7 * scale); check(-scale, -0.2 * scale)
        }
    }

    @Test func offsetsAreResolved() {
        // The XANES edge energies: every tick used to read "7722".
        let t = NiceTicks(low: 7722.1, high: 7722.9)
        #expect(t.labels == ["7722.2", "7722.4", "7722.6", "7722.8"], "\(t.labels)")
        check(7722.1, 7722.9); check(7722.0, 7724.0); check(1e6 + 0.001, 1e6 + 0.009); check(0.99999, 1.00001)
        #expect(NiceTicks(low: 7722, high: 7724).labels == ["7722.0", "7722.5", "7723.0", "7723.5", "7724.0"])
    }

    @Test func zeroIsNeverNegative() {
        let t = NiceTicks(low: -0.004, high: 0.006)
        #expect(t.labels.contains("0") || t.labels.contains("0.000"), "\(t.labels)")
        #expect(!t.labels.contains { $0.hasPrefix("-0") && Double($0) == 0 })
        #expect(NiceTicks.format(-0.0) == "0" && NiceTicks.format(-1e-12) != "-0.00")
        #expect(NiceTicks.format(7722.34) == "7722" && NiceTicks.format(0.01234) == "0.0123" && NiceTicks.format(2.5e-6) == "2.50e-06")
    }

    /// Found by a review: ranges no step divides trapped the process; tiny spans at large offsets
    /// repeated labels.
    @Test func extremeRanges() {
        for (lo, hi) in [(-1e308, 1e308), (Double.leastNonzeroMagnitude, 2 * Double.leastNonzeroMagnitude), (-Double.greatestFiniteMagnitude, 0), (1e9, 1e9 + 1e-3), (100, 100 + 1e-11), (1e16, 1e16 + 4)] {
            let t = NiceTicks(low: lo, high: hi)
            #expect(!t.values.isEmpty && t.values.count == t.labels.count, "\(lo)...\(hi): \(t.values)")
            #expect(Set(t.labels).count == t.labels.count, "\(lo)...\(hi): \(t.labels)")
            #expect(t.values.allSatisfy { $0 >= lo && $0 <= hi }, "\(lo)...\(hi): \(t.values)")
        }
        #expect(NiceTicks(low: 0, high: 1, count: Int.max).values.count <= NiceTicks.maximumCount + 1)
        #expect(NiceTicks(low: 1e9, high: 1e9 + 1e-3).values.count >= 2)
    }

    /// Positions no span holds (±1.7e308 µm, a hostile patterns.csv) give one tick, not a crash.
    @Test func axisOfExtremePositions() {
        let ticks = MapFigure.axisTicks([-1.7e308, 1.7e308], cell: 24, labelSize: { $0.count * 7 })
        #expect(ticks.count == 1)
        // Histograms of equal non-negative values keep their bins at or above zero.
        let h = HistogramFigure(title: "t", label: "°", groups: [(name: "gnd", values: [0.05, 0.05], colour: .black)])
        #expect(h.edges.first! >= 0 && h.edges.last! > 0.05)
    }

    @Test func degenerateRanges() {
        #expect(NiceTicks(low: 3, high: 3).values == [3])
        #expect(NiceTicks(low: .nan, high: 1).values.isEmpty)
        #expect(NiceTicks(low: 5, high: 1).values == NiceTicks(low: 1, high: 5).values)
    }

    /// A 3x1 scan's x axis once read "0.001.002.00": labels now keep their distance or thin out.
    @Test func axisLabelsNeverOverlap() {
        let width: (String) -> Int = { $0.count * 7 }
        let cases: [([Double], Int)] = [
            ([0, 1, 2], 24), ((0..<12).map { 0.5 * Double($0) }, 24), ([100, 100.5], 2),
            ((0..<200).map { 0.05 * Double($0) }, 2), ([7.25], 24), ((0..<12).map { 1000 + 0.25 * Double($0) }, 8),
        ]
        for (values, cell) in cases {
            let ticks = MapFigure.axisTicks(values, cell: cell, labelSize: width)
            #expect(!ticks.isEmpty)
            for (a, b) in zip(ticks, ticks.dropFirst()) {
                #expect(b.offset - a.offset >= (width(a.label) + width(b.label)) / 2 + MapFigure.labelGap, "\(ticks)")
            }
            // Ticks sit on the axis: within the cells' span.
            #expect(ticks.allSatisfy { $0.offset >= 0 && $0.offset <= values.count * cell }, "\(ticks)")
        }
    }
}
