import Foundation
import LaueCore

/// A numbered frame series as LaueTools users keep it: `prefix_0000.tif`, `prefix_0001.tif`, ... one
/// frame per point of a COLUMNS x ROWS raster given by the user, in row-major order (x fastest) or snake
/// order (every other row reversed), from the first frame named (docs/scan-layouts.md). A frame missing
/// from the folder is a `failed` row of its own.
public enum FrameSeries {
    /// A file name split around its frame number: "img_0042.tif" -> ("img_", "0042", ".tif").
    public struct Name: Sendable, Hashable {
        public var prefix: String
        public var digits: String
        public var suffix: String

        /// Splits `fileName` at the digits that end its stem (before the extension); nil without them.
        public init?(_ fileName: String) {
            let ext = (fileName as NSString).pathExtension
            let stem = Array(ext.isEmpty ? fileName : String(fileName.dropLast(ext.count + 1)))
            var first = stem.count
            while first > 0, stem[first - 1].isASCII, stem[first - 1].isNumber { first -= 1 }
            guard first < stem.count, stem.count - first <= 9 else { return nil }     // frame numbers below 10^9
            prefix = String(stem[..<first]); digits = String(stem[first...]); suffix = ext.isEmpty ? "" : "." + ext
        }

        public var number: Int { Int(digits) ?? 0 }
        /// Zero-padded to a fixed width ("0042"), or plain ("42").
        var padded: Bool { digits.count > 1 && digits.hasPrefix("0") }

        /// The file name of frame `number` in this series.
        public func fileName(_ number: Int) -> String {
            let text = String(number)
            let pad = padded ? String(repeating: "0", count: max(0, digits.count - text.count)) : ""
            return prefix + pad + text + suffix
        }
    }

    /// Extensions of frame files a series is made of.
    static let frameExtensions: Set<String> = ["tif", "tiff", "mccd", "h5", "hdf5"]

    /// The series whose lowest-numbered frame is in `folder` (exactly one series of frame files there).
    public static func open(folder: String, source: ScanSource, raster: ScanRaster) throws -> ScanManifest {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        var series: [String: [Name]] = [:]
        for n in names where frameExtensions.contains((n as NSString).pathExtension.lowercased()) {
            if let name = Name(n) { series[name.prefix + "#" + name.suffix, default: []].append(name) }
        }
        guard !series.isEmpty else {
            throw LaueError(.missingData, file: folder, "no numbered frames (prefix_0000.tif ...) in the folder")
        }
        guard series.count == 1, let members = series.values.first, let first = members.min(by: { $0.number < $1.number }) else {
            let kinds = series.keys.sorted().map { $0.replacingOccurrences(of: "#", with: "N") }.joined(separator: ", ")
            throw LaueError(.invalidArgument, file: folder, "several numbered series in the folder (\(kinds)): name the first frame of one")
        }
        return try open(first: (folder as NSString).appendingPathComponent(first.fileName(first.number)), source: source, raster: raster)
    }

    /// The series starting at frame file `first`.
    public static func open(first: String, source: ScanSource, raster: ScanRaster) throws -> ScanManifest {
        let folder = (first as NSString).deletingLastPathComponent
        guard let name = Name((first as NSString).lastPathComponent) else {
            throw LaueError(.invalidArgument, file: first, "not a numbered frame (expected a name such as prefix_0000.tif)")
        }
        let present = Set((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
        let step = source.step ?? (ScanSource.defaultSeriesStep, ScanSource.defaultSeriesStep)
        var patterns: [ScanPattern] = []
        patterns.reserveCapacity(raster.points)
        var missing = 0
        for k in 0..<raster.points {
            let row = k / raster.columns
            var column = k % raster.columns
            if source.snake, row % 2 == 1 { column = raster.columns - 1 - column }
            let file = name.fileName(name.number + k)
            if !present.contains(file) { missing += 1 }
            patterns.append(ScanPattern(index: k, label: file, path: (folder as NSString).appendingPathComponent(file), frame: 0,
                                        xUm: Double(column) * step.x, yUm: Double(row) * step.y))
        }
        var m = ScanManifest(layout: .series, root: folder, patterns: patterns, calibrationPath: ScanManifest.calibration(in: folder))
        m.notes.append("numbered series \(name.fileName(name.number)) ... \(name.fileName(name.number + raster.points - 1)), \(raster) raster, \(source.snake ? "snake" : "row-major") order")
        m.notes.append(source.step == nil ? "step not given: \(step.x) µm assumed (--step-um X,Y)" : "step \(step.x) x \(step.y) µm")
        if missing > 0 { m.notes.append("\(missing) of \(raster.points) frames missing from the folder (failed rows)") }
        return m
    }
}
