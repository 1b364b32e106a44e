import Foundation
import LaueIO

/// A raster map with a title, axis ticks in physical units and a legend (colour bar or class keys),
/// as a PNG. Cells are square blocks of `cell` pixels; undefined cells are light grey.
public struct MapFigure: Sendable {
    public var title: String
    public var columns: Int
    public var rows: Int
    /// Physical coordinates of the cell centres (e.g. micrometres) and their unit.
    public var xs: [Double]
    public var ys: [Double]
    public var unit: String

    public init(title: String, columns: Int, rows: Int, xs: [Double], ys: [Double], unit: String = "µm") {
        self.title = title; self.columns = columns; self.rows = rows; self.xs = xs; self.ys = ys; self.unit = unit
    }

    /// Pixels per cell so that the map is about 480 px on its longer side.
    var cell: Int { max(2, min(24, 480 / max(columns, rows, 1))) }

    struct Layout { var left: Int, top: Int, mapWidth: Int, mapHeight: Int }

    func layout(legendWidth: Int) -> (Canvas, Layout) {
        let c = cell
        let mapW = columns * c, mapH = rows * c
        let left = 56, top = 8 + 2 * Canvas.lineHeight
        let width = max(left + mapW + 16 + legendWidth + 8, Canvas.textWidth(title) + 16)
        let height = max(top + mapH + 2 * Canvas.lineHeight + 12, top + 20 * Canvas.lineHeight)
        var canvas = Canvas(width: width, height: height)
        canvas.text(title, x: 8, y: 6)
        return (canvas, Layout(left: left, top: top, mapWidth: mapW, mapHeight: mapH))
    }

    /// Colour-bar ranges below this (relative to the values' size, at least 1) are one value.
    public static let smallestRange = 1e-9

    /// Smallest gap between neighbouring tick labels, pixels.
    public static let labelGap = 8

    /// Nice ticks over cell centres `values` (equally spaced) on an axis of `length` pixels: as many as
    /// fit with labels `labelGap` apart (at most 5), each with its pixel offset from the first centre.
    public static func axisTicks(_ values: [Double], cell: Int, labelSize: (String) -> Int) -> [(offset: Int, label: String)] {
        guard let first = values.first, let last = values.last else { return [] }
        // One centre, or a span no Double holds (positions of ±1e308): the first centre only.
        guard values.count > 1, last != first, (last - first).isFinite else { return [(cell / 2, NiceTicks.format(first))] }
        let span = Double((values.count - 1) * cell)
        for count in stride(from: 5, through: 2, by: -1) {
            let t = NiceTicks(low: first, high: last, count: count)
            let offsets = t.values.map { Int(((($0 - first) / (last - first)) * span).rounded()) + cell / 2 }
            let fits = zip(offsets.dropFirst(), zip(offsets, zip(t.labels, t.labels.dropFirst()))).allSatisfy { next, pair in
                next - pair.0 >= (labelSize(pair.1.0) + labelSize(pair.1.1)) / 2 + labelGap
            }
            if fits && t.values.count >= 2 { return zip(offsets, t.labels).map { ($0, $1) } }
        }
        // Not even two labels fit side by side: the first centre only.
        return [(cell / 2, NiceTicks.format(first))]
    }

    func drawAxes(_ canvas: inout Canvas, _ l: Layout) {
        canvas.rectangle(x: l.left - 1, y: l.top - 1, width: l.mapWidth + 2, height: l.mapHeight + 2)
        for (offset, label) in MapFigure.axisTicks(xs, cell: cell, labelSize: Canvas.textWidth) {
            let x = l.left + offset
            canvas.fill(x: x, y: l.top + l.mapHeight + 1, width: 1, height: 4, .black)
            canvas.text(label, x: x - Canvas.textWidth(label) / 2, y: l.top + l.mapHeight + 5)
        }
        let xl = "x (\(unit))"
        canvas.text(xl, x: l.left + l.mapWidth / 2 - Canvas.textWidth(xl) / 2, y: l.top + l.mapHeight + 5 + Canvas.lineHeight)
        for (offset, label) in MapFigure.axisTicks(ys, cell: cell, labelSize: { _ in Canvas.lineHeight }) {
            let y = l.top + offset
            canvas.fill(x: l.left - 5, y: y, width: 4, height: 1, .black)
            canvas.text(label, x: l.left - 7 - Canvas.textWidth(label), y: y - Canvas.lineHeight / 2)
        }
        canvas.text("y (\(unit))", x: 2, y: l.top - Canvas.lineHeight - 2)
    }


    /// One pixel per map cell, coloured by `colour(index)` (row-major index).
    func cells(_ colour: (Int) -> Colour) -> RGBImage {
        var image = RGBImage(width: columns, height: rows)
        for r in 0..<rows { for c in 0..<columns { image[c, r] = colour(r * columns + c).bytes } }
        return image
    }

    /// A scalar map (row-major, NaN undefined) with a viridis colour bar from `low` to `high`
    /// (default: 2nd and 98th percentiles of the defined values).
    public func scalar(_ values: [Double], label: String, low: Double? = nil, high: Double? = nil) -> Canvas {
        let defined = values.filter { $0.isFinite }.sorted()
        let lo = low ?? (defined.isEmpty ? 0 : defined[Int(0.02 * Double(defined.count - 1))])
        var hi = high ?? (defined.isEmpty ? 1 : defined[Int((0.98 * Double(defined.count - 1)).rounded(.up))])
        // A range narrower than rounding (every value the same, up to 1e-9 of its size) is one value:
        // a bar from 0 to 2e-14 would read as a real spread.
        if !(hi - lo > MapFigure.smallestRange * max(1, abs(lo), abs(hi))) {
            hi = lo + (abs(lo) < MapFigure.smallestRange ? 1 : abs(lo) * 0.1)
        }
        let ticks = NiceTicks(low: lo, high: hi, count: 5)
        let legendWidth = max(Canvas.textWidth(label), 24 + 8 + (ticks.labels.map(Canvas.textWidth).max() ?? 0), 24 + 8 + Canvas.textWidth("undefined"))
        var (canvas, l) = layout(legendWidth: legendWidth)
        canvas.raster(cells { values[$0].isFinite ? ColourMap.viridis((values[$0] - lo) / (hi - lo)) : .lightGrey }, x: l.left, y: l.top, scale: cell)
        drawAxes(&canvas, l)
        // Colour bar.
        let bx = l.left + l.mapWidth + 16, by = l.top + Canvas.lineHeight + 4
        let bh = max(80, min(l.mapHeight, 240) - Canvas.lineHeight)
        canvas.text(label, x: bx, y: l.top)
        var bar = RGBImage(width: 1, height: bh)
        for i in 0..<bh { bar[0, i] = ColourMap.viridis(1 - Double(i) / Double(bh - 1)).bytes }
        canvas.raster(bar, x: bx, y: by, scale: 1, width: 20)
        canvas.rectangle(x: bx - 1, y: by - 1, width: 22, height: bh + 2)
        for (v, label) in zip(ticks.values, ticks.labels) {
            let y = by + Int(((hi - v) / (hi - lo) * Double(bh - 1)).rounded())
            canvas.fill(x: bx + 21, y: y, width: 4, height: 1, .black)
            canvas.text(label, x: bx + 28, y: y - Canvas.lineHeight / 2)
        }
        canvas.fill(x: bx, y: by + bh + 10, width: 12, height: 12, .lightGrey)
        canvas.text("undefined", x: bx + 18, y: by + bh + 8)
        return canvas
    }

    /// A categorical map: `codes` index `keys` (-1: no data), each key drawn in `colours[i]` and listed
    /// with its share.
    public func categorical(_ codes: [Int], keys: [String], colours: [Colour]) -> Canvas {
        var counts = [Int](repeating: 0, count: keys.count)
        for c in codes where c >= 0 && c < keys.count { counts[c] += 1 }
        let total = max(1, counts.reduce(0, +))
        let entries = keys.indices.filter { counts[$0] > 0 }
        let texts = entries.map { String(format: "%@ %d (%.1f%%)", keys[$0], counts[$0], 100 * Double(counts[$0]) / Double(total)) }
        let legendWidth = 20 + (texts.map(Canvas.textWidth).max() ?? 0)
        var (canvas, l) = layout(legendWidth: legendWidth)
        canvas.raster(cells { codes[$0] >= 0 && codes[$0] < colours.count ? colours[codes[$0]] : .lightGrey }, x: l.left, y: l.top, scale: cell)
        drawAxes(&canvas, l)
        let bx = l.left + l.mapWidth + 16
        for (n, (i, t)) in zip(entries, texts).enumerated() {
            let y = l.top + n * (Canvas.lineHeight + 4)
            canvas.fill(x: bx, y: y + 2, width: 12, height: 12, colours[i])
            canvas.rectangle(x: bx, y: y + 2, width: 12, height: 12, Colour(0.3, 0.3, 0.3))
            canvas.text(t, x: bx + 18, y: y)
        }
        return canvas
    }

    /// An RGB map (row-major triples 0...1, NaN undefined) with a caption in the legend column.
    public func rgb(_ values: [Double], legend: [String], key: Canvas? = nil) -> Canvas {
        let legendWidth = max(key?.width ?? 0, legend.map(Canvas.textWidth).max() ?? 0)
        var (canvas, l) = layout(legendWidth: legendWidth)
        canvas.raster(cells { values[3 * $0].isFinite ? Colour(values[3 * $0], values[3 * $0 + 1], values[3 * $0 + 2]) : .lightGrey },
                      x: l.left, y: l.top, scale: cell)
        drawAxes(&canvas, l)
        let bx = l.left + l.mapWidth + 16
        for (n, t) in legend.enumerated() { canvas.text(t, x: bx, y: l.top + n * Canvas.lineHeight) }
        if let key {
            let y0 = l.top + legend.count * Canvas.lineHeight + 6
            canvas.draw(key, x: bx, y: y0)
        }
        return canvas
    }
}
