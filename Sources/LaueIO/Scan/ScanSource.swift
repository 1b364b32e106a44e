import Foundation
import LaueCore

/// A raster size, COLUMNS x ROWS.
public struct ScanRaster: Sendable, Hashable, CustomStringConvertible {
    public var columns: Int
    public var rows: Int
    /// Largest scan accepted (points), so that a typo or a hostile file cannot ask for a giant scan:
    /// one million (APS 34-ID-E's largest volumes hold about 400,000 frames).
    public static let maximumPoints = 1_000_000

    public init(columns: Int, rows: Int) throws {
        guard columns >= 1, rows >= 1, columns <= ScanRaster.maximumPoints / rows else {
            throw LaueError(.invalidArgument, "raster \(columns)x\(rows): columns and rows must be at least 1 and their product at most \(ScanRaster.maximumPoints)")
        }
        self.columns = columns; self.rows = rows
    }

    /// Parses "COLSxROWS" (e.g. "12x10").
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let c = Int(parts[0]), let r = Int(parts[1]) else {
            throw LaueError(.invalidArgument, "raster '\(text)' is not COLUMNSxROWS (e.g. 12x10)")
        }
        try self.init(columns: c, rows: r)
    }

    public var points: Int { columns * rows }
    public var description: String { "\(columns)x\(rows)" }
}

/// Where a scan is and how to read it: the path plus what the path alone cannot say (the raster of a
/// numbered frame series, the scan number and detector of a BLISS file). `ScanManifest.open` reads it;
/// a run records it in run.json so that `--resume` and `scan merge` open the same scan
/// (docs/scan-layouts.md).
public struct ScanSource: Sendable, Hashable {
    /// Folder or file given by the user.
    public var path: String
    /// Raster of a numbered frame series (required for a series, ignored otherwise).
    public var raster: ScanRaster?
    /// Step between points of a numbered series, micrometres (x, y); default `defaultSeriesStep`.
    public var step: (x: Double, y: Double)?
    /// A numbered series scanned in snake order (every other row reversed).
    public var snake = false
    /// BLISS scan number (`N` of the group `N.1`); default: the only scan that holds frames.
    public var scanNumber: Int?
    /// HDF5 dataset holding the frames: a BLISS detector name under `N.1/measurement/` or an absolute
    /// dataset path; default: the layout's own (`/entry1/data/data`, the only frame stack of a BLISS scan).
    public var dataset: String?
    /// A CSV map of channels on the scan's stage positions (an XRF map; `ChannelMap`), added to the
    /// channels the layout records.
    public var channelMap: String?
    /// The main detector of an APS 34-ID-E folder whose files come from several detectors (their
    /// `/entry1/detector/ID`): its frames are the patterns, the others' are side frames indexed with
    /// them (`APSPointFolder`); default: the detector of the first file.
    public var mainDetector: String?

    /// Step of a numbered series when none is given, micrometres.
    public static let defaultSeriesStep = 1.0

    public init(path: String, raster: ScanRaster? = nil, step: (x: Double, y: Double)? = nil, snake: Bool = false,
                scanNumber: Int? = nil, dataset: String? = nil, channelMap: String? = nil, mainDetector: String? = nil) {
        self.path = path; self.raster = raster; self.step = step; self.snake = snake
        self.scanNumber = scanNumber; self.dataset = dataset; self.channelMap = channelMap; self.mainDetector = mainDetector
    }

    public static func == (a: ScanSource, b: ScanSource) -> Bool {
        a.path == b.path && a.raster == b.raster && a.step?.x == b.step?.x && a.step?.y == b.step?.y && a.snake == b.snake
            && a.scanNumber == b.scanNumber && a.dataset == b.dataset && a.channelMap == b.channelMap && a.mainDetector == b.mainDetector
    }

    public func hash(into h: inout Hasher) {
        h.combine(path); h.combine(raster); h.combine(step?.x); h.combine(step?.y); h.combine(snake)
        h.combine(scanNumber); h.combine(dataset); h.combine(channelMap); h.combine(mainDetector)
    }

    /// Parses a step "X" or "X,Y" in micrometres (positive, finite).
    public static func parseStep(_ text: String) throws -> (x: Double, y: Double) {
        let v = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard (v.count == 1 || v.count == 2), v.allSatisfy({ $0 != nil && $0!.isFinite && $0! > 0 && $0! <= 1e6 }) else {
            throw LaueError(.invalidArgument, "step '\(text)' is not X or X,Y in micrometres (positive, at most 1e6)")
        }
        return (v[0]!, v.count == 2 ? v[1]! : v[0]!)
    }

    /// The options besides the path, as they are written in run.json ("source"); empty for a plain path.
    public var options: [String: Any] {
        var j: [String: Any] = [:]
        if let raster { j["raster"] = raster.description }
        if let step { j["step_um"] = [step.x, step.y] }
        if snake { j["snake"] = true }
        if let scanNumber { j["scan_number"] = scanNumber }
        if let dataset { j["dataset"] = dataset }
        if let channelMap { j["channel_map"] = channelMap }
        if let mainDetector { j["main_detector"] = mainDetector }
        return j
    }

    /// A source from `path` and the options of `options` (as written by `options`).
    public init(path: String, options j: [String: Any]) throws {
        self.init(path: path)
        if let r = j["raster"] as? String { raster = try ScanRaster(parsing: r) }
        if let s = j["step_um"] as? [Double], s.count == 2 { step = (s[0], s[1]) }
        snake = j["snake"] as? Bool ?? false
        scanNumber = j["scan_number"] as? Int
        dataset = j["dataset"] as? String
        channelMap = j["channel_map"] as? String
        mainDetector = j["main_detector"] as? String
    }

    /// The same source as `scan run` arguments after the path (for the shards of `scan submit`).
    public var arguments: [String] {
        var a: [String] = []
        if let raster { a += ["--raster", raster.description] }
        if let step { a += ["--step-um", "\(step.x),\(step.y)"] }
        if snake { a.append("--snake") }
        if let scanNumber { a += ["--scan-number", "\(scanNumber)"] }
        if let dataset { a += ["--dataset", dataset] }
        if let channelMap { a += ["--channel-map", channelMap] }
        if let mainDetector { a += ["--main-detector", mainDetector] }
        return a
    }
}
