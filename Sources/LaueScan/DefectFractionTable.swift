import Foundation
import LaueCore
import LaueIO

/// Defect fractions per scan (particle) and overall, the table a defect-mapping paper reports: counts
/// and percentages of every class among all patterns and of the defect classes among defect-present
/// patterns, with bootstrap confidence intervals across scans.
public struct DefectFractionTable: Sendable {
    public struct Column: Sendable {
        public var name: String
        public var counts: [DefectClass: Int]
        public init(name: String, counts: [DefectClass: Int]) { self.name = name; self.counts = counts }
        public var total: Int { counts.values.reduce(0, +) }
        public var defectTotal: Int { counts.filter { $0.key.isDefect }.values.reduce(0, +) }
        public func percentOfAll(_ c: DefectClass) -> Double { total > 0 ? 100 * Double(counts[c] ?? 0) / Double(total) : .nan }
        public func percentOfDefects(_ c: DefectClass) -> Double {
            c.isDefect && defectTotal > 0 ? 100 * Double(counts[c] ?? 0) / Double(defectTotal) : .nan
        }
    }

    /// Classes in table order.
    public static let classes: [DefectClass] = [.gnd, .tiltBoundary, .tiltBoundaryGND, .stackingTiltBoundaries, .randomDislocations,
                                                .noDefect, .unclassified, .unindexed, .failed]
    public var scans: [Column]
    public var overall: Column
    /// 95 % bootstrap intervals across scans of the pooled percentages: (of all, of defects) per class;
    /// nil with fewer than two scans.
    public var intervals: [DefectClass: (all: ClosedRange<Double>, defects: ClosedRange<Double>?)]?
    public var bootstrapSamples: Int

    /// Builds the table from per-scan class counts. The bootstrap resamples scans with replacement
    /// (`samples` times, fixed seed: the same input gives the same table).
    public init(scans: [Column], samples: Int = 2000, seed: UInt64 = 20_261_125) {
        self.scans = scans
        var pooled: [DefectClass: Int] = [:]
        for s in scans { for (c, n) in s.counts { pooled[c, default: 0] += n } }
        overall = Column(name: scans.count == 1 ? scans[0].name : "all", counts: pooled)
        bootstrapSamples = samples
        guard scans.count >= 2 else { intervals = nil; return }
        var g = SeededGenerator(seed: seed)
        var all: [DefectClass: [Double]] = [:], defects: [DefectClass: [Double]] = [:]
        for _ in 0..<samples {
            var counts: [DefectClass: Int] = [:]
            for _ in scans.indices {
                let s = scans[Int(g.next() % UInt64(scans.count))]
                for (c, n) in s.counts { counts[c, default: 0] += n }
            }
            let col = Column(name: "", counts: counts)
            for c in DefectFractionTable.classes {
                all[c, default: []].append(col.percentOfAll(c))
                if c.isDefect { defects[c, default: []].append(col.percentOfDefects(c)) }
            }
        }
        func interval(_ v: [Double]) -> ClosedRange<Double>? {
            let s = v.filter { $0.isFinite }.sorted()
            guard !s.isEmpty else { return nil }
            let lo = s[Int(0.025 * Double(s.count - 1))], hi = s[Int((0.975 * Double(s.count - 1)).rounded(.up))]
            return lo...hi
        }
        var out: [DefectClass: (all: ClosedRange<Double>, defects: ClosedRange<Double>?)] = [:]
        for c in DefectFractionTable.classes {
            if let a = interval(all[c] ?? []) { out[c] = (a, c.isDefect ? interval(defects[c] ?? []) : nil) }
        }
        intervals = out
    }

    /// Reads the class column of each output folder's `patterns.csv`; the scan's name is the folder's.
    /// With `phase`, only the rows indexed as that phase count (`phase` column of a run of several
    /// materials; unindexed and failed rows belong to no phase).
    public static func load(folders: [String], phase: String? = nil) throws -> DefectFractionTable {
        var columns: [Column] = []
        var rowPhases = Set<String>(), otherGrainPhases = Set<String>()
        for f in folders {
            let path = (f as NSString).appendingPathComponent("patterns.csv")
            guard FileManager.default.fileExists(atPath: path) else {
                throw LaueError(.missingData, file: f, "no patterns.csv: not a finished scan run (run or merge it first)")
            }
            var counts: [DefectClass: Int] = [:]
            var classIndex: Int? = nil, phaseIndex: Int? = nil, otherIndex: Int? = nil
            try LineReader.forEachLine(path) { line, number in
                let fields = CSVTable.fields(of: Substring(line))
                if number == 0 {
                    classIndex = fields.firstIndex(of: "class")
                    phaseIndex = fields.firstIndex(of: "phase")
                    otherIndex = fields.firstIndex(of: "other_grains")
                    guard classIndex != nil else { throw LaueError(.invalidFormat, file: path, "no class column") }
                    if phase != nil, phaseIndex == nil { throw LaueError(.invalidFormat, file: path, "no phase column (a run before phases were recorded)") }
                    return
                }
                guard let ci = classIndex, ci < fields.count else { throw LaueError(.invalidFormat, file: path, item: "line \(number + 1)", "too few fields") }
                if let pi = phaseIndex, pi < fields.count, !fields[pi].isEmpty { rowPhases.insert(fields[pi]) }
                if let oi = otherIndex, oi < fields.count {
                    for g in fields[oi].split(separator: ";") { otherGrainPhases.insert(String(g.split(separator: ":").first ?? "")) }
                }
                if let phase, let pi = phaseIndex, pi >= fields.count || fields[pi] != phase { return }
                counts[try DefectClass(label: fields[ci]), default: 0] += 1
            }
            columns.append(Column(name: (URL(fileURLWithPath: f).standardizedFileURL.lastPathComponent), counts: counts))
        }
        if let phase, !rowPhases.contains(phase) {
            let others = otherGrainPhases.subtracting(rowPhases).sorted()
            throw LaueError(.invalidArgument, "--phase \(phase): no pattern is about that phase (phases of the rows: \(rowPhases.sorted().joined(separator: ", ")))"
                            + (others.isEmpty ? "" : "; found only beside them (other_grains): \(others.joined(separator: ", "))"))
        }
        return DefectFractionTable(scans: columns)
    }

    public enum Format: String, Sendable, CaseIterable { case csv, md, latex }

    /// The table as text. `perScan`: a column per scan plus the overall one; otherwise overall only.
    public func render(_ format: Format, perScan: Bool = true) -> String {
        let columns = perScan && scans.count > 1 ? scans + [overall] : [overall]
        func f(_ v: Double) -> String { v.isFinite ? String(format: "%.1f", v) : "" }
        func ci(_ r: ClosedRange<Double>?) -> String { r.map { String(format: "%.1f-%.1f", $0.lowerBound, $0.upperBound) } ?? "" }
        switch format {
        case .csv:
            var t = CSVTable(header: ["scan", "class", "count", "percent_of_all", "percent_of_defects",
                                      "ci95_all_low", "ci95_all_high", "ci95_defects_low", "ci95_defects_high"])
            for col in columns {
                for c in DefectFractionTable.classes {
                    let iv = col.name == overall.name ? intervals?[c] : nil
                    t.rows.append([col.name, c.rawValue, String(col.counts[c] ?? 0), f(col.percentOfAll(c)), f(col.percentOfDefects(c)),
                                   iv.map { f($0.all.lowerBound) } ?? "", iv.map { f($0.all.upperBound) } ?? "",
                                   iv?.defects.map { f($0.lowerBound) } ?? "", iv?.defects.map { f($0.upperBound) } ?? ""])
                }
                t.rows.append([col.name, "total", String(col.total), "100.0", "", "", "", "", ""])
            }
            return t.text
        case .md, .latex:
            var header = ["class"]
            for col in columns { header += ["\(col.name) n", "% all", "% defects"] }
            let hasCI = intervals != nil
            if hasCI { header += ["95% CI % defects"] }
            var rows: [[String]] = []
            for c in DefectFractionTable.classes {
                var r = [c.rawValue]
                for col in columns { r += [String(col.counts[c] ?? 0), f(col.percentOfAll(c)), f(col.percentOfDefects(c))] }
                if hasCI { r.append(ci(intervals?[c]?.defects)) }
                rows.append(r)
            }
            var total = ["total"]
            for col in columns { total += [String(col.total), "100.0", col.defectTotal > 0 ? "100.0" : ""] }
            if hasCI { total.append("") }
            rows.append(total)
            if format == .md {
                var lines = ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
                lines += rows.map { "| " + $0.joined(separator: " | ") + " |" }
                if hasCI { lines.append("\n95% CI: bootstrap over \(scans.count) scans (\(bootstrapSamples) resamples of the scans, pooled percentages).") }
                return lines.joined(separator: "\n") + "\n"
            }
            func tex(_ s: String) -> String { s.replacingOccurrences(of: "_", with: "\\_").replacingOccurrences(of: "%", with: "\\%") }
            var lines = ["\\begin{tabular}{l" + String(repeating: "r", count: header.count - 1) + "}", "\\hline",
                         header.map(tex).joined(separator: " & ") + " \\\\", "\\hline"]
            lines += rows.map { $0.map(tex).joined(separator: " & ") + " \\\\" }
            lines += ["\\hline", "\\end{tabular}"]
            return lines.joined(separator: "\n") + "\n"
        }
    }
}
