import Foundation
import LaueCore

/// A LaueTools peak list (`.dat`: X Y and peak properties; `.cor`: 2theta chi X Y I and properties):
/// named columns of numbers, plus the calibration trailer of a `.cor`.
public struct LaueToolsPeakList: Sendable {
    public var columns: [String]
    public var rows: [[Double]]
    /// `# Calibration parameters` of a `.cor`, as text key/values.
    public var trailer: [String: String]

    public init(columns: [String], rows: [[Double]], trailer: [String: String] = [:]) {
        self.columns = columns; self.rows = rows; self.trailer = trailer
    }

    public func column(_ name: String) -> [Double]? {
        guard let i = columns.firstIndex(of: name) else { return nil }
        return rows.map { $0[i] }
    }

    /// Reads a `.dat` or `.cor` file. The header line is the first line holding column names
    /// ("peak_X ..." or "2theta chi ..."); comment lines start with '#'.
    public static func read(path: String) throws -> LaueToolsPeakList {
        try parse(readTextFile(path), source: path)
    }

    public static func parse(_ text: String, source: String? = nil) throws -> LaueToolsPeakList {
        var columns: [String] = []
        var rows: [[Double]] = []
        var trailer: [String: String] = [:]
        for (n, raw) in text.components(separatedBy: .newlines).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if columns.isEmpty {
                // Old LaueTools .dat files glue the header to a comment: "# Comments: ... 97peak_X peak_Y".
                if let r = line.range(of: "peak_X") { line = String(line[r.lowerBound...]) }
                else if line.hasPrefix("#") { continue }
                columns = line.split(separator: " ").map(String.init).filter { !$0.isEmpty }
                continue
            }
            if line.hasPrefix("#") {
                let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
                if let colon = body.firstIndex(of: ":") {
                    trailer[body[..<colon].trimmingCharacters(in: .whitespaces)] =
                        body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                continue
            }
            let values = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { Double($0) }
            guard values.count == columns.count, values.allSatisfy({ $0 != nil }) else {
                throw LaueError(.invalidFormat, file: source, item: "line \(n + 1)",
                                "expected \(columns.count) numbers (\(columns.joined(separator: " ")))")
            }
            if let k = values.firstIndex(where: { !$0!.isFinite }) {
                throw LaueError(.invalidFormat, file: source, item: "line \(n + 1)", "\(columns[k]) is \(values[k]!), not a finite number")
            }
            rows.append(values.map { $0! })
        }
        guard !columns.isEmpty else { throw LaueError(.invalidFormat, file: source, "no column header") }
        return LaueToolsPeakList(columns: columns, rows: rows, trailer: trailer)
    }

    /// Writes the list in LaueTools' text layout (header, rows, `#` comments), atomically.
    public func write(to path: String, comments: [String] = [], format: String = "%.6f") throws {
        var s = columns.joined(separator: " ") + "\n"
        for r in rows { s += r.map { String(format: format, $0) }.joined(separator: "   ") + "\n" }
        for c in comments { s += "# " + c + "\n" }
        try AtomicFile.write(s, to: path)
    }

    /// The `.cor` calibration trailer for a calibration.
    public static func corTrailer(_ c: DetectorCalibration) -> [String] {
        ["Calibration parameters", "dd     :   \(c.distance)", "xcen     :   \(c.xcen)", "ycen     :   \(c.ycen)",
         "xbet     :   \(c.xbet)", "xgam     :   \(c.xgam)", "pixelsize     :   \(c.pixelSize)",
         "xpixelsize     :   \(c.pixelSize)", "ypixelsize     :   \(c.pixelSize)",
         "CCDLabel     :   \(c.detectorLabel.isEmpty ? "sCMOS" : c.detectorLabel)",
         "framedim     :   (\(c.height), \(c.width))", "detectordiameter     :   \(Double(max(c.width, c.height)) * c.pixelSize)",
         "kf_direction     :   Z>0"]
    }
}
