import Foundation

/// Histograms of one quantity for several groups (the defect classes of a scan) on shared bins, drawn
/// as outlined steps in each group's colour with a legend giving each group's count.
public struct HistogramFigure: Sendable {
    public var title: String
    /// Axis label of the quantity, with its unit ("spread (°)").
    public var label: String
    public var groups: [(name: String, values: [Double], colour: Colour)]

    public init(title: String, label: String, groups: [(name: String, values: [Double], colour: Colour)]) {
        self.title = title; self.label = label
        self.groups = groups.map { ($0.name, $0.values.filter(\.isFinite), HistogramFigure.visible($0.colour)) }.filter { !$0.1.isEmpty }
    }

    /// A colour that shows as a line on white: very light ones (relative luminance above
    /// `lightestLine`, such as the light grey of no_defect) are darkened.
    static func visible(_ c: Colour) -> Colour {
        let luminance = 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b
        guard luminance > lightestLine else { return c }
        let f = lightestLine * 0.8 / luminance
        return Colour(c.r * f, c.g * f, c.b * f)
    }
    static let lightestLine = 0.75

    /// Number of bins across the range of all values.
    public static let binCount = 24
    static let plotWidth = 360, plotHeight = 180, left = 56, top = 46

    /// Bin edges (binCount + 1) over the 0th to 100th percentile of every value, widened when all are equal.
    public var edges: [Double] {
        let all = groups.flatMap(\.values)
        guard var lo = all.min(), var hi = all.max() else { return [0, 1] }
        if !(hi > lo) {
            // All values equal: a bin range around them (not below zero for a non-negative quantity).
            let d = max(abs(lo) * 0.1, 0.5)
            lo = lo >= 0 ? max(0, lo - d) : lo - d; hi += d
        }
        return (0...HistogramFigure.binCount).map { lo + (hi - lo) * Double($0) / Double(HistogramFigure.binCount) }
    }

    /// Counts of `values` in the bins of `edges` (the last bin closed).
    public static func counts(_ values: [Double], edges: [Double]) -> [Int] {
        var counts = [Int](repeating: 0, count: edges.count - 1)
        guard let lo = edges.first, let hi = edges.last, hi > lo else { return counts }
        for v in values where v >= lo && v <= hi {
            counts[min(counts.count - 1, Int((v - lo) / (hi - lo) * Double(counts.count)))] += 1
        }
        return counts
    }

    public var canvas: Canvas {
        let legend = groups.map { "\($0.name.replacingOccurrences(of: "_", with: " ")) (n=\($0.values.count))" }
        let l = HistogramFigure.left, t = HistogramFigure.top, w = HistogramFigure.plotWidth, h = HistogramFigure.plotHeight
        let legendWidth = (legend.map(Canvas.textWidth).max() ?? 0) + 24
        var c = Canvas(width: l + w + 16 + legendWidth, height: max(t + h + 2 * Canvas.lineHeight + 12, t + legend.count * (Canvas.lineHeight + 4) + 8))
        c.text(title, x: 8, y: 6)
        let edges = self.edges
        let counts = groups.map { HistogramFigure.counts($0.values, edges: edges) }
        let top = max(1, counts.flatMap { $0 }.max() ?? 1)
        let yTicks = NiceTicks(low: 0, high: Double(top), count: 4)
        let yMax = max(Double(top), yTicks.values.last ?? 1)
        let toX = { (v: Double) in Double(l) + (v - edges[0]) / (edges[edges.count - 1] - edges[0]) * Double(w) }
        let toY = { (n: Double) in Double(t + h) - n / yMax * Double(h) }
        for (v, s) in zip(yTicks.values, yTicks.labels) where v <= yMax {
            c.line(x0: Double(l - 4), y0: toY(v), x1: Double(l), y1: toY(v))
            c.text(s, x: l - 6 - Canvas.textWidth(s), y: Int(toY(v)) - Canvas.lineHeight / 2)
        }
        let xTicks = NiceTicks(low: edges[0], high: edges[edges.count - 1], count: 5)
        for (v, s) in zip(xTicks.values, xTicks.labels) {
            c.line(x0: toX(v), y0: Double(t + h), x1: toX(v), y1: Double(t + h + 4))
            c.text(s, x: Int(toX(v)) - Canvas.textWidth(s) / 2, y: t + h + 5)
        }
        c.text(label, x: l + w / 2 - Canvas.textWidth(label) / 2, y: t + h + 5 + Canvas.lineHeight)
        c.text("patterns", x: 4, y: t - Canvas.lineHeight - 2)
        for (g, n) in zip(groups, counts) {
            var y0 = toY(0)
            for (k, count) in n.enumerated() {
                let y = toY(Double(count))
                c.line(x0: toX(edges[k]), y0: y0, x1: toX(edges[k]), y1: y, g.colour, lineWidth: 1.5)
                c.line(x0: toX(edges[k]), y0: y, x1: toX(edges[k + 1]), y1: y, g.colour, lineWidth: 1.5)
                y0 = y
            }
            c.line(x0: toX(edges[n.count]), y0: y0, x1: toX(edges[n.count]), y1: toY(0), g.colour, lineWidth: 1.5)
        }
        c.rectangle(x: l - 1, y: t - 1, width: w + 2, height: h + 2)
        for (k, (g, text)) in zip(groups, legend).enumerated() {
            let y = t + k * (Canvas.lineHeight + 4)
            c.fill(x: l + w + 16, y: y + 3, width: 12, height: 12, g.colour)
            c.text(text, x: l + w + 34, y: y)
        }
        return c
    }
}
