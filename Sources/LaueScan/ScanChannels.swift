import Foundation
import LaueCore
import LaueIO

/// Channels recorded with a scan (`ScanManifest.channels`: BLISS `measurement/` counters such as the
/// Co Kα fluorescence `xia_sum_fluoCo`, the monitor `mon`) in a whole scan's outputs: one column
/// `channel_<name>` per channel at the end of patterns.csv and one map `/maps/channel_<name>` in
/// results.h5 (docs/scan-pipeline.md). `lauemap correlate --laue-channel <name>` registers with one.
public enum ScanChannels {
    /// Prefix of a channel's column in patterns.csv and of its map in results.h5.
    public static let columnPrefix = "channel_"

    /// Writes the table `patterns` to `output` with one column per channel appended, the value of
    /// each row taken by its `pattern_index` (empty where the channel has no finite value).
    public static func append(_ channels: [String: [Double]], to patterns: String, output: String) throws {
        let names = channels.keys.sorted()
        try AtomicFile.write(to: output) { temp in
            guard FileManager.default.createFile(atPath: temp, contents: nil), let out = FileHandle(forWritingAtPath: temp) else {
                throw LaueError(.unreadable, file: temp, "cannot write")
            }
            defer { try? out.close() }
            func write(_ text: String) throws {
                do { try out.write(contentsOf: Data(text.utf8)) } catch {
                    throw LaueError(.unreadable, file: output, "cannot write: " + DiskSpace.reason(for: error, writing: output))
                }
            }
            var text = ""
            var indexColumn = PatternRecord.patternIndexColumn
            try LineReader.forEachLine(patterns) { line, number in
                var fields = CSVTable.fields(of: Substring(line))
                if number == 0 {
                    indexColumn = fields.firstIndex(of: "pattern_index") ?? indexColumn
                    fields += names.map { columnPrefix + $0 }
                } else {
                    let k = indexColumn < fields.count ? Int(fields[indexColumn]) : nil
                    fields += names.map { name in
                        guard let k, let values = channels[name], k >= 0, k < values.count, values[k].isFinite else { return "" }
                        return format(values[k])
                    }
                }
                text += CSVTable.line(fields) + "\n"
                if text.utf8.count > 1 << 20 { try write(text); text = "" }
            }
            try write(text)
            try out.synchronize()
        }
    }

    /// A channel value as written in patterns.csv: integers without a decimal point, others with ten
    /// significant digits.
    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(format: "%.10g", v)
    }
}
