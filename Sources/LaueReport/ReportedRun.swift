import Foundation
import LaueCore
import LaueIO
import LaueScan

/// One finished scan run as the report shows it: its rows (patterns.csv), its spots (peaks.csv), its
/// maps, and what run.json says about how it was made.
public struct ReportedRun: Sendable {
    public var folder: String
    public var name: String
    public var records: [PatternRecord]
    /// The run's peaks.csv (spots are read for the patterns a report shows: `spots(of:)`).
    public var peaksFile: String
    public var material: Material
    public var maps: ScanMaps
    /// The scan the frames are read from (run.json `scan` with its layout options `source`), if
    /// recorded and present.
    public var scan: ScanSource?
    /// Provenance lines shown in the summary (name, value).
    public var provenance: [(String, String)]

    /// Reads the run in `folder` (patterns.csv, peaks.csv, run.json). The material is the one run.json
    /// records, else `material` (a folder holding only a patterns.csv).
    public init(folder: String, material fallback: Material? = nil) throws {
        self.folder = folder
        name = URL(fileURLWithPath: folder).standardizedFileURL.lastPathComponent
        let patterns = (folder as NSString).appendingPathComponent("patterns.csv")
        guard FileManager.default.fileExists(atPath: patterns) else {
            throw LaueError(.missingData, file: folder, "no patterns.csv: not a finished scan run (run or merge it first)")
        }
        records = try ScanOutputs.readPatterns(patterns)
        let runFile = (folder as NSString).appendingPathComponent("run.json")
        var run: [String: Any] = [:]
        if let data = FileManager.default.contents(atPath: runFile) {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw LaueError(.invalidFormat, file: runFile, "not a JSON object")
            }
            run = object
        }
        let provenance = run["provenance"] as? [String: Any] ?? [:]
        if let m = provenance["material"] as? [String: Any] {
            material = try Provenance.material(from: m, source: runFile + " (provenance.material)")
        } else if let name = run["material"] as? String, let first = try Material.loadList(name).first {
            material = first
        } else if let fallback {
            material = fallback
        } else {
            throw LaueError(.missingData, file: runFile, item: "material", "the run's material is not recorded (give it with --material)")
        }
        peaksFile = (folder as NSString).appendingPathComponent("peaks.csv")
        let name = material.name, rows = records
        let phase = rows.contains { !$0.phase.isEmpty && $0.phase != name } ? name : nil
        maps = ScanMaps(records: rows, material: material, phase: phase)
        if let recorded = run["scan"] as? String {
            let path = recorded.hasPrefix("/") ? recorded : (folder as NSString).appendingPathComponent(recorded)
            if FileManager.default.fileExists(atPath: path) {
                scan = try? ScanSource(path: path, options: run["source"] as? [String: Any] ?? [:])
            }
        }
        var lines: [(String, String)] = [("folder", folder), ("patterns", String(records.count)),
                                         ("indexed", String(records.filter { $0.status == .indexed }.count)),
                                         ("material", material.name)]
        if let v = provenance["lauemap_version"] as? String { lines.append(("LaueMap version", v)) }
        if let s = run["scan"] as? String { lines.append(("scan", s)) }
        if let c = run["calibration"] as? [String: Any] {
            lines.append(("calibration", c.keys.sorted().map { "\($0)=\(c[$0].map { "\($0)" } ?? "")" }.joined(separator: ", ")))
        }
        for (k, i) in (run["invocations"] as? [[String: Any]] ?? []).enumerated() {
            let command = (i["command_line"] as? [String] ?? []).joined(separator: " ")
            lines.append(("run \(k + 1)", "\(i["started"] ?? "") – \(i["finished"] ?? "")" + (command.isEmpty ? "" : ": \(command)")))
        }
        self.provenance = lines
    }

    /// The spots (rows of peaks.csv) of the patterns with these `pattern_index` values.
    public func spots(of patterns: Set<Int>) throws -> [Int: [SpotRecord]] { try ScanOutputs.readSpots(peaksFile, patterns: patterns) }
}
