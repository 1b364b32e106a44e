import Foundation
import LaueCore
import LaueIO
import LaueRendering
import LaueScan
import LaueXANES

/// Writes a correlation: registered maps (HDF5, per-pixel CSV), tables (CSV and Markdown) and PNG
/// plots (overlay, per-class box plots, streaking extent vs shift).
public enum CorrelationOutputs {
    @discardableResult
    public static func write(_ r: CorrelationResult, xanesStepBefore: GriddedMap, to folder: String, title: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var written: [String] = []
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        let g = r.grid
        let codes = r.classes.map { c in c.flatMap { ScanOutputs.classCodes.firstIndex(of: $0) } ?? -1 }

        // Registered maps on the Laue grid.
        try HDF5File.create(atomically: path("correlation.h5")) { f in
            try f.createGroup("/correlation")
            try f.write(g.xs, to: "/correlation/x_um")
            try f.write(g.ys, to: "/correlation/y_um")
            for (name, values, unit) in [("edge_before", r.edgeBefore, "eV"), ("edge_after", r.edgeAfter, "eV"), ("shift", r.shift, "eV"),
                                         ("streak_extent", r.streakExtent, "deg")] {
                try f.write(values, shape: [g.rows, g.columns], to: "/correlation/" + name)
                try f.setAttribute("units", unit, on: "/correlation/" + name)
                try f.setAttribute("axes", "y_um,x_um", on: "/correlation/" + name)
            }
            try f.write(codes.map { Int32($0) }, shape: [g.rows, g.columns], to: "/correlation/class")
            try f.setAttribute("legend", "-1=none;" + ScanOutputs.classCodes.enumerated().map { "\($0.offset)=\($0.element.rawValue)" }.joined(separator: ";"),
                               on: "/correlation/class")
            for (label, reg) in [("before", r.registrationBefore), ("after", r.registrationAfter)] {
                let t = reg.transform
                try f.setAttribute("transform_" + label, [t.rotationDegrees, t.translationX, t.translationY], on: "/correlation")
                try f.setAttribute("quality_" + label, [reg.correlation, reg.fixedOverlap, reg.movingOverlap], on: "/correlation")
            }
            try f.setAttribute("transform_names", "rotation_deg,translation_x_um,translation_y_um (XANES frame -> Laue frame)", on: "/correlation")
            try f.setAttribute("quality_names", "correlation,laue_particle_overlap,xanes_particle_overlap", on: "/correlation")
            try NeXus.describe(f, title: title,
                               maps: [NeXus.Map(name: "shift", dataset: "/correlation/shift", title: "edge shift after - before (eV)"),
                                      NeXus.Map(name: "class", dataset: "/correlation/class", interpretation: .categories, title: "defect class"),
                                      NeXus.Map(name: "edge_before", dataset: "/correlation/edge_before"),
                                      NeXus.Map(name: "edge_after", dataset: "/correlation/edge_after"),
                                      NeXus.Map(name: "streak_extent", dataset: "/correlation/streak_extent")],
                               x: "/correlation/x_um", y: "/correlation/y_um", defaultMap: "shift")
        }
        written.append(path("correlation.h5"))

        var pixels = CSVTable(header: ["x_um", "y_um", "class", "streak_extent_deg", "edge_before_ev", "edge_after_ev", "shift_ev"])
        for j in 0..<g.rows { for i in 0..<g.columns {
            let p = j * g.columns + i
            guard let c = r.classes[p], r.shift[p].isFinite else { continue }
            pixels.rows.append([f(g.x(i)), f(g.y(j)), c.rawValue, f(r.streakExtent[p]), f(r.edgeBefore[p]), f(r.edgeAfter[p]), f(r.shift[p])])
        } }
        try pixels.write(to: path("pixels.csv"))
        written.append(path("pixels.csv"))

        // Tables.
        var classes = CSVTable(header: ["class", "n", "before_mean_ev", "before_sd_ev", "before_median_ev", "after_mean_ev", "after_sd_ev",
                                        "after_median_ev", "shift_mean_ev", "shift_sd_ev", "shift_median_ev", "shift_ci_low_ev", "shift_ci_high_ev"])
        for c in r.perClass {
            classes.rows.append([c.defectClass.rawValue, String(c.shift.count), f(c.before.mean), f(c.before.standardDeviation), f(c.before.median),
                                 f(c.after.mean), f(c.after.standardDeviation), f(c.after.median), f(c.shift.mean), f(c.shift.standardDeviation),
                                 f(c.shift.median), f(c.shiftInterval.low), f(c.shiftInterval.high)])
        }
        try classes.write(to: path("classes.csv"))
        var comparisons = CSVTable(header: ["class_a", "class_b", "n_a", "n_b", "difference_ev", "ci_low_ev", "ci_high_ev", "welch_t", "welch_p",
                                            "mann_whitney_u", "mann_whitney_p", "spatial_p"])
        for c in r.comparisons {
            let na = r.perClass.first { $0.defectClass == c.a }?.shift.count ?? 0, nb = r.perClass.first { $0.defectClass == c.b }?.shift.count ?? 0
            comparisons.rows.append([c.a.rawValue, c.b.rawValue, String(na), String(nb), f(c.difference), f(c.differenceInterval.low), f(c.differenceInterval.high),
                                     f(c.welch.statistic), g4(c.welch.p), f(c.mannWhitney.statistic), g4(c.mannWhitney.p), g4(c.spatial.p)])
        }
        try comparisons.write(to: path("comparisons.csv"))
        written += [path("classes.csv"), path("comparisons.csv")]
        try AtomicFile.write(markdown(r, classes: classes, comparisons: comparisons, title: title), to: path("summary.md"))
        written.append(path("summary.md"))

        // Plots.
        let figure = { (name: String) in MapFigure(title: "\(title): \(name)", columns: g.columns, rows: g.rows, xs: g.xs, ys: g.ys) }
        try figure("edge shift after - before").scalar(r.shift, label: "eV").writeFigure(to: path("shift.png"))
        let registered = xanesStepBefore.resampled(onto: g, transform: r.registrationBefore.transform).values
        let top = registered.filter(\.isFinite).max() ?? 1
        var rgb = [Double](repeating: .nan, count: 3 * g.count)
        for p in 0..<g.count {
            let brightness = registered[p].isFinite && top > 0 ? 0.25 + 0.75 * min(1, max(0, registered[p] / top)) : 0.25
            let colour = codes[p] >= 0 ? ScanOutputs.classColours[codes[p]] : Colour(1, 1, 1)
            rgb[3 * p] = colour.r * brightness; rgb[3 * p + 1] = colour.g * brightness; rgb[3 * p + 2] = colour.b * brightness
        }
        try figure("overlay").rgb(rgb, legend: ["colour: Laue defect class", "brightness: XANES edge step", "(registered); dark where", "the maps disagree"]).writeFigure(to: path("overlay.png"))
        try Plots.boxPlot(r, title: "\(title): edge shift per class").writeFigure(to: path("shift_by_class.png"))
        try Plots.scatter(r, title: "\(title): streaking extent vs edge shift").writeFigure(to: path("extent_vs_shift.png"))
        written += ["shift.png", "overlay.png", "shift_by_class.png", "extent_vs_shift.png"].map(path).flatMap(Canvas.figurePaths)
        return written
    }

    static func markdown(_ r: CorrelationResult, classes: CSVTable, comparisons: CSVTable, title: String) -> String {
        func table(_ t: CSVTable) -> String {
            (["| " + t.header.joined(separator: " | ") + " |", "|" + t.header.map { _ in "---" }.joined(separator: "|") + "|"]
             + t.rows.map { "| " + $0.joined(separator: " | ") + " |" }).joined(separator: "\n")
        }
        func reg(_ label: String, _ q: RegistrationResult) -> String {
            String(format: "- %@: rotation %.2f deg, translation (%.2f, %.2f) µm; correlation %.3f; overlap %.0f %% (Laue particle) / %.0f %% (XANES particle)",
                   label, q.transform.rotationDegrees, q.transform.translationX, q.transform.translationY, q.correlation, 100 * q.fixedOverlap, 100 * q.movingOverlap)
        }
        return """
            # \(title): defects and edge shift

            \(r.pixelCount) Laue pixels with a class and both edge energies. Edge energy: interpolated half-height \
            of the normalised spectrum (one set of ranges per map). Shift = after - before (eV).

            ## Registration (XANES frame -> Laue frame)
            \(reg("before", r.registrationBefore))
            \(reg("after", r.registrationAfter))

            ## Per class
            \(table(classes))

            ## Class against class
            Welch and Mann-Whitney treat pixels as independent; neighbouring pixels are not (beam larger \
            than the step, resampled grids), so read them with the spatial p (toroidal shifts of the class map).

            \(table(comparisons))

            ## Streaking extent vs shift
            Pearson r \(f(r.pearson.statistic)) (p \(g4(r.pearson.p))), Spearman rho \(f(r.spearman.statistic)) (p \(g4(r.spearman.p)), \
            spatial p \(g4(r.spatialSpearman.p))).

            """
    }

    static func f(_ v: Double) -> String { v.isFinite ? String(format: "%.6g", v) : "" }
    static func g4(_ v: Double) -> String { v.isFinite ? String(format: "%.3g", v) : "" }
}

/// Box plots and scatter plots drawn on a `Canvas`.
enum Plots {
    static let width = 640, height = 420, left = 70, right = 20, top = 36, bottom = 70

    static func line(_ c: inout Canvas, _ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ colour: Colour) {
        let n = max(abs(x1 - x0), abs(y1 - y0), 1)
        for k in 0...n {
            let x = x0 + (x1 - x0) * k / n, y = y0 + (y1 - y0) * k / n
            c.fill(x: x, y: y, width: 1, height: 1, colour)
        }
    }

    static func axes(_ c: inout Canvas, title: String, yLabel: String, low: Double, high: Double) -> (Double) -> Int {
        c.text(title, x: left, y: 8)
        let plotHeight = height - top - bottom
        let toY = { (v: Double) in top + Int((1 - (v - low) / (high - low)) * Double(plotHeight)) }
        line(&c, left, top, left, height - bottom, .black)
        line(&c, left, height - bottom, width - right, height - bottom, .black)
        let ticks = NiceTicks(low: low, high: high, count: 5)
        for (v, label) in zip(ticks.values, ticks.labels) {
            let y = toY(v)
            line(&c, left - 4, y, left, y, .black)
            c.text(label, x: left - 6 - Canvas.textWidth(label), y: y - Canvas.lineHeight / 2)
        }
        c.text(yLabel, x: 4, y: top - Canvas.lineHeight - 2)
        return toY
    }

    /// `text` in lines of at most `width` pixels, broken at spaces (a word wider than that alone on its line).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        for word in text.split(separator: " ").map(String.init) {
            if let last = lines.last, Canvas.textWidth(last + " " + word) <= width { lines[lines.count - 1] = last + " " + word } else { lines.append(word) }
        }
        return lines
    }

    static func range(_ values: [Double]) -> (Double, Double) {
        let v = values.filter(\.isFinite)
        guard let lo = v.min(), let hi = v.max() else { return (0, 1) }
        let pad = max(0.05 * (hi - lo), 1e-3)
        return (lo - pad, hi + pad)
    }

    static func boxPlot(_ r: CorrelationResult, title: String) -> Canvas {
        var c = Canvas(width: width, height: height)
        let (low, high) = range(r.shift)
        let toY = axes(&c, title: title, yLabel: "shift (eV)", low: low, high: high)
        let n = max(r.perClass.count, 1)
        let slot = (width - left - right) / n
        for (k, s) in r.perClass.enumerated() {
            let x = left + k * slot + slot / 2
            let colour = ScanOutputs.classColour(s.defectClass)
            let values = r.shift.indices.filter { r.classes[$0] == s.defectClass && r.shift[$0].isFinite }.map { r.shift[$0] }.sorted()
            guard !values.isEmpty else { continue }
            let q1 = toY(s.shift.lowerQuartile), q3 = toY(s.shift.upperQuartile), med = toY(s.shift.median)
            let iqr = s.shift.upperQuartile - s.shift.lowerQuartile
            let lowWhisker = values.first { $0 >= s.shift.lowerQuartile - 1.5 * iqr } ?? values[0]
            let highWhisker = values.last { $0 <= s.shift.upperQuartile + 1.5 * iqr } ?? values[values.count - 1]
            let w = max(slot / 3, 8)
            c.fill(x: x - w / 2, y: q3, width: w, height: max(q1 - q3, 1), colour)
            c.rectangle(x: x - w / 2, y: q3, width: w, height: max(q1 - q3, 1), .black)
            line(&c, x - w / 2, med, x + w / 2, med, .black)
            line(&c, x, toY(highWhisker), x, q3, .black)
            line(&c, x, q1, x, toY(lowWhisker), .black)
            for v in values where v < lowWhisker || v > highWhisker { c.fill(x: x - 1, y: toY(v) - 1, width: 3, height: 3, .black) }
            // The class name whole, wrapped at spaces into the slot (never cut).
            let lines = wrap(s.defectClass.rawValue.replacingOccurrences(of: "_", with: " "), width: slot - 4) + ["n=\(values.count)"]
            for (k, text) in lines.enumerated() {
                c.text(text, x: x - Canvas.textWidth(text) / 2, y: height - bottom + 6 + k * (Canvas.lineHeight + 1))
            }
        }
        return c
    }

    static func scatter(_ r: CorrelationResult, title: String) -> Canvas {
        var c = Canvas(width: width, height: height)
        let points = r.shift.indices.filter { r.classes[$0] != nil && r.shift[$0].isFinite && r.streakExtent[$0].isFinite }
        let (low, high) = range(points.map { r.shift[$0] })
        let (xLow, xHigh) = range(points.map { r.streakExtent[$0] })
        let toY = axes(&c, title: title, yLabel: "shift (eV)", low: low, high: high)
        let toX = { (v: Double) in left + Int((v - xLow) / (xHigh - xLow) * Double(width - left - right)) }
        let ticks = NiceTicks(low: xLow, high: xHigh, count: 5)
        for (v, label) in zip(ticks.values, ticks.labels) {
            line(&c, toX(v), height - bottom, toX(v), height - bottom + 4, .black)
            c.text(label, x: toX(v) - Canvas.textWidth(label) / 2, y: height - bottom + 6)
        }
        c.text("streaking extent (°)", x: (width - Canvas.textWidth("streaking extent (°)")) / 2, y: height - bottom + 8 + Canvas.lineHeight)
        for p in points {
            let colour = ScanOutputs.classColour(r.classes[p]!)
            c.fill(x: toX(r.streakExtent[p]) - 1, y: toY(r.shift[p]) - 1, width: 3, height: 3, colour)
        }
        c.text(String(format: "Spearman %.2f (spatial p %.3g)", r.spearman.statistic, r.spatialSpearman.p), x: width - 300, y: top)
        return c
    }
}
