import Foundation
import LaueCore
import LaueIO
import LaueRendering
import LaueScan

/// `lauemap report`: one self-contained HTML page (no network, no external script: figures inline as
/// SVG, frames as PNG data, a little vanilla JavaScript) over one scan run or several particles: run
/// summary and provenance, defect-fraction table with bootstrap confidence intervals, per run an
/// interactive class map (click a cell: the pattern's frame with its indexed and predicted spots,
/// crops of its most informative spots with the measured streak, class, confidence, axis and reason),
/// the class, streaking-extent, orientation and misorientation maps, histograms per class, and, with
/// `lauemap correlate` outputs, their registration overlay and edge-shift plots (docs/report.md).
public struct HTMLReport {
    public var runs: [ReportedRun]
    public var title: String
    /// Patterns per run whose frame is embedded (thumbnail + spot crops); all when the run has no
    /// more, else evenly spaced ones. The others show their spots without the frame.
    public var framesPerRun: Int
    /// Output folders of `lauemap correlate` shown at the end.
    public var correlations: [String]

    public static let defaultFramesPerRun = 256
    /// Most frames a run may embed (`--frames`): about 60 kB each.
    public static let maximumFramesPerRun = 5000

    public init(runs: [ReportedRun], title: String = "LaueMap report", framesPerRun: Int = HTMLReport.defaultFramesPerRun,
                correlations: [String] = []) {
        self.runs = runs; self.title = title; self.framesPerRun = min(max(0, framesPerRun), HTMLReport.maximumFramesPerRun); self.correlations = correlations
    }

    /// Writes `index.html` into `folder` (created), atomically; returns its path.
    @discardableResult
    public func write(to folder: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = (folder as NSString).appendingPathComponent("index.html")
        try AtomicFile.write(try html(), to: path)
        return path
    }

    /// The whole page.
    public func html() throws -> String {
        var body = "<h1>\(escape(title))</h1>\n"
        body += summary() + fractions()
        var data: [String] = []
        for (r, run) in runs.enumerated() {
            let (section, json) = try runSection(run, number: r)
            body += section
            data.append(json)
        }
        body += try correlationSections()
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <meta name="generator" content="LaueMap">
        <style>\(ReportAssets.css)</style></head>
        <body>
        \(body)
        <script>const RUNS = [\(data.joined(separator: ",\n"))];
        \(ReportAssets.script)</script>
        </body></html>

        """
    }

    // MARK: Sections

    func summary() -> String {
        var s = "<section id=\"summary\"><h2>Runs</h2><table class=\"runs\"><tr><th>run</th><th>patterns</th><th>indexed</th><th>material</th><th>provenance</th></tr>\n"
        for run in runs {
            let indexed = run.records.filter { $0.status == .indexed }.count
            s += "<tr><td>\(escape(run.name))</td><td>\(run.records.count)</td><td>\(indexed)</td><td>\(escape(run.material.name))</td><td><details><summary>details</summary><table class=\"provenance\">"
            for (k, v) in run.provenance { s += "<tr><th>\(escape(k))</th><td>\(escape(v))</td></tr>" }
            s += "</table></details></td></tr>\n"
        }
        return s + "</table></section>\n"
    }

    func fractions() -> String {
        let columns = runs.map { run in
            DefectFractionTable.Column(name: run.name, counts: Dictionary(run.records.map { ($0.defectClass, 1) }, uniquingKeysWith: +))
        }
        let table = DefectFractionTable(scans: columns)
        var s = "<section id=\"fractions\"><h2>Defect fractions</h2><p>Per cent of all patterns; the interval is the 95 % bootstrap interval over particles (runs), shown with two runs or more.</p>"
        s += "<table class=\"fractions\"><tr><th>class</th>" + columns.map { "<th>\(escape($0.name))</th>" }.joined() + "<th>all runs</th><th>95 % interval</th></tr>\n"
        for c in DefectFractionTable.classes {
            s += "<tr><td><span class=\"swatch\" style=\"background:\(css(ScanOutputs.classColour(c)))\"></span>\(escape(c.rawValue))</td>"
            s += columns.map { "<td>\(percent($0.percentOfAll(c)))</td>" }.joined()
            s += "<td>\(percent(table.overall.percentOfAll(c)))</td>"
            let ci = table.intervals?[c]?.all
            s += "<td>\(columns.count > 1 ? ci.map { String(format: "%.1f–%.1f", $0.lowerBound, $0.upperBound) } ?? "" : "")</td></tr>\n"
        }
        s += "<tr class=\"total\"><td>patterns</td>" + columns.map { "<td>\($0.total)</td>" }.joined() + "<td>\(table.overall.total)</td><td></td></tr>"
        return s + "</table></section>\n"
    }

    /// The section of one run and its data for the script.
    func runSection(_ run: ReportedRun, number r: Int) throws -> (String, String) {
        let g = run.maps.grid
        let cell = max(4, min(24, 480 / max(g.columns, g.rows, 1)))
        var cellOf = [Int](repeating: -1, count: g.columns * g.rows)
        for (k, c) in g.cells.enumerated() where k < run.records.count { if let c { cellOf[c.row * g.columns + c.column] = k } }

        var s = "<section class=\"run\" id=\"run-\(r)\" data-run=\"\(r)\"><h2>\(escape(run.name))</h2>\n<div class=\"explorer\"><div class=\"mapbox\">"
        s += "<p class=\"hint\">Click a cell to see its pattern.</p>"
        s += "<svg class=\"cellmap\" width=\"\(g.columns * cell)\" height=\"\(g.rows * cell)\" viewBox=\"0 0 \(g.columns * cell) \(g.rows * cell)\">"
        for row in 0..<g.rows {
            for col in 0..<g.columns {
                let k = cellOf[row * g.columns + col]
                guard k >= 0 else { continue }
                let rec = run.records[k]
                s += "<rect class=\"cell\" data-p=\"\(k)\" x=\"\(col * cell)\" y=\"\(row * cell)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"\(css(ScanOutputs.classColour(rec.defectClass)))\"><title>\(escape(rec.file)): \(escape(rec.defectClass.rawValue))</title></rect>"
            }
        }
        s += "</svg><ul class=\"legend\">"
        for c in ScanOutputs.classCodes where run.records.contains(where: { $0.defectClass == c }) {
            s += "<li><span class=\"swatch\" style=\"background:\(css(ScanOutputs.classColour(c)))\"></span>\(escape(c.rawValue))</li>"
        }
        s += "</ul></div>\n" + ReportAssets.patternView + "</div>\n"

        // Figures drawn by LaueRendering, inline.
        let figure = { (name: String) in MapFigure(title: "\(run.name): \(name)", columns: g.columns, rows: g.rows, xs: g.xs, ys: g.ys) }
        var figures: [Canvas] = [figure("defect class").categorical(run.maps.classCodes, keys: ScanOutputs.classCodes.map(\.rawValue),
                                                                    colours: ScanOutputs.classColours)]
        if let v = run.maps.scalar("streak_extent_deg") { figures.append(figure("streaking extent").scalar(v, label: "°", low: 0)) }
        figures.append(figure("orientation (IPF of lab z)").rgb(run.maps.ipf, legend: ["IPF colour of the", "lab z axis in the", "crystal frame"],
                                                               key: ScanOutputs.ipfKey(run.material)))
        if let v = run.maps.scalar("misorientation_deg") { figures.append(figure("misorientation to the mean orientation").scalar(v, label: "°", low: 0)) }
        for (name, label, values) in [("spread", "spread (°)", { (p: PatternRecord) in p.spread }),
                                      ("tilt", "tilt between sub-orientations (°)", { $0.tilt }),
                                      ("streaking extent", "streaking extent (°)", { $0.streakExtent })] {
            let groups = ScanOutputs.classCodes.map { c in
                (name: c.rawValue, values: run.records.filter { $0.defectClass == c }.compactMap(values), colour: ScanOutputs.classColour(c))
            }
            let h = HistogramFigure(title: "\(run.name): \(name) per class", label: label, groups: groups)
            if !h.groups.isEmpty { figures.append(h.canvas) }
        }
        s += "<div class=\"figures\">"
        for (k, f) in figures.enumerated() {
            s += "<figure class=\"figure\">" + stripXMLDeclaration(try f.svg(idPrefix: "r\(r)f\(k)-")) + "</figure>\n"
        }
        s += "</div></section>\n"
        return (s, try runData(run))
    }

    /// Which patterns get their frame embedded: all, or `framesPerRun` evenly spaced.
    func framed(_ count: Int) -> [Int] {
        guard count > framesPerRun else { return Array(0..<count) }
        guard framesPerRun > 0 else { return [] }
        return (0..<framesPerRun).map { $0 * count / framesPerRun }
    }

    /// The run's data for the script: rows; spots and frames of the framed patterns only (the size of
    /// the page grows with the patterns, not with their spots).
    func runData(_ run: ReportedRun) throws -> String {
        let chosen = framed(run.records.count)
        let spotsOf = try run.spots(of: Set(chosen.map { run.records[$0].index }))
        let patterns = run.records.map { p -> String in
            let axis = p.axisIndices.map { String(format: "[%.2f %.2f %.2f] (crystal)", $0.x, $0.y, $0.z) }
                ?? p.axisLab.map { String(format: "[%.3f %.3f %.3f] (lab)", $0.x, $0.y, $0.z) } ?? ""
            return "[" + [jsString(p.file), jsString(p.defectClass.rawValue), jsNumber(p.confidence), jsNumber(p.peakCount.map(Double.init)),
                          jsNumber(p.indexedCount.map(Double.init)), jsString(axis), jsString(p.reason), jsNumber(p.xUm), jsNumber(p.yUm),
                          jsString(p.status.rawValue), jsNumber(p.spread), jsNumber(p.tilt), jsNumber(p.streakExtent), String(p.index)]
                .joined(separator: ",") + "]"
        }
        var spots: [String] = []
        for p in chosen.map({ run.records[$0] }) {
            guard let list = spotsOf[p.index], !list.isEmpty else { continue }
            spots.append("\"\(p.index)\":[" + list.map(HTMLReport.spotJSON).joined(separator: ",") + "]")
        }
        let images = try frameImages(run, chosen: chosen, spots: spotsOf)
        return "{\"name\":\(jsString(run.name)),\"patterns\":[\(patterns.joined(separator: ","))],\"spots\":{\(spots.joined(separator: ","))},"
            + "\"images\":{\(images.joined(separator: ","))}}"
    }

    /// A spot as the script reads it: [x, y, x_pred, y_pred, h, k, l, streak length, angle, sub-peaks,
    /// label, [sub-peak offsets]].
    static func spotJSON(_ s: SpotRecord) -> String {
        "[" + [s.x, s.y, s.xPredicted, s.yPredicted].map { jsNumber($0, digits: 2) }.joined(separator: ",")
            + ",\(s.hkl.h),\(s.hkl.k),\(s.hkl.l)," + jsNumber(s.streakLength, digits: 2) + "," + jsNumber(s.angle, digits: 1)
            + ",\(s.subpeakCount)," + jsString(s.label) + ",[" + s.subpeakOffsets.map { jsNumber($0, digits: 2) }.joined(separator: ",") + "]]"
    }

    /// Thumbnails and spot crops of the framed patterns (read in parallel); a frame that cannot be
    /// read is left out (its pattern view says so).
    func frameImages(_ run: ReportedRun, chosen: [Int], spots: [Int: [SpotRecord]]) throws -> [String] {
        guard let scan = run.scan, let manifest = try? ScanManifest.open(scan) else { return [] }
        let results = Slots<String>(count: chosen.count)
        DispatchQueue.concurrentPerform(iterations: chosen.count) { k in
            let p = run.records[chosen[k]]
            guard p.index >= 0, p.index < manifest.patterns.count, let image = try? manifest.readImage(manifest.patterns[p.index]),
                  case let thumbnail = PatternImages.thumbnail(image), let thumb = try? thumbnail.pngData() else { return }
            let crops = PatternImages.informativeSpots(spots[p.index] ?? [], width: image.width, height: image.height).compactMap { spot -> String? in
                let c = PatternImages.crop(image, spot: spot)
                guard let png = try? c.image.pngData() else { return nil }
                return "{\"img\":\"data:image/png;base64,\(png.base64EncodedString())\",\"x0\":\(c.x0),\"y0\":\(c.y0),"
                    + "\"spot\":" + HTMLReport.spotJSON(spot) + "}"
            }
            // The thumbnail covers whole pooled pixels: drawn at its pooled size, not the frame's.
            let f = PatternImages.poolingFactor(width: image.width, height: image.height)
            results.set(k, "\"\(p.index)\":{\"thumb\":\"data:image/png;base64,\(thumb.base64EncodedString())\",\"w\":\(image.width),\"h\":\(image.height),"
                + "\"tw\":\(thumbnail.width * f),\"th\":\(thumbnail.height * f),"
                + "\"size\":\(PatternImages.cropSize),\"crops\":[\(crops.joined(separator: ","))]}")
        }
        return results.all.compactMap { $0 }
    }

    func correlationSections() throws -> String {
        var s = ""
        for folder in correlations {
            let name = URL(fileURLWithPath: folder).standardizedFileURL.lastPathComponent
            s += "<section class=\"correlation\"><h2>Laue defects and XANES: \(escape(name))</h2><div class=\"figures\">"
            for file in ["overlay.png", "shift.png", "shift_by_class.png", "extent_vs_shift.png"] {
                let path = (folder as NSString).appendingPathComponent(file)
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw LaueError(.missingData, file: folder, item: file, "not a lauemap correlate output folder (no \(file))")
                }
                s += "<figure class=\"figure\"><img alt=\"\(file)\" src=\"data:image/png;base64,\(data.base64EncodedString())\"></figure>"
            }
            s += "</div>"
            if let summary = try? String(contentsOfFile: (folder as NSString).appendingPathComponent("summary.md"), encoding: .utf8) {
                s += "<pre class=\"summary\">\(escape(summary))</pre>"
            }
            s += "</section>\n"
        }
        return s
    }

    // MARK: Helpers

    func css(_ c: Colour) -> String {
        let (r, g, b) = c.bytes
        return String(format: "#%02x%02x%02x", r, g, b)
    }

    func percent(_ v: Double) -> String { v.isFinite ? String(format: "%.1f", v) : "" }

    func stripXMLDeclaration(_ svg: String) -> String {
        guard svg.hasPrefix("<?xml"), let end = svg.range(of: "?>") else { return svg }
        return String(svg[end.upperBound...])
    }
}

/// Text for HTML and for JavaScript inside a script element.
func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}

func jsString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "<": out += "\\u003c"
        case ">": out += "\\u003e"
        case "&": out += "\\u0026"
        case "\u{2028}", "\u{2029}": out += String(format: "\\u%04x", u.value)
        default:
            if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}

func jsNumber(_ v: Double?, digits: Int = 4) -> String {
    guard let v, v.isFinite else { return "null" }
    return fixedPoint(v, digits: digits)
}
