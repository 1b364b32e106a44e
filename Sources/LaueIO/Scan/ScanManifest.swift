import Foundation
import LaueCore

/// A raster scan on disk, in one of the layouts of docs/scan-layouts.md:
/// - **folder**: `DIR/scan.csv` with header `file,x_um,y_um` (paths relative to DIR; `file.h5#k` names
///   frame k of a stack), the images, and optionally `DIR/calib.det`;
/// - **hdf5**: an APS-style stack, frames under `/entry1/data/data` and positions under
///   `/entry1/sample/sampleX|sampleY` (micrometres), given as the file or as a folder holding `scan.h5`;
/// - **apsPoints**: an APS 34-ID-E folder of one HDF5 file per point (`APSPointFolder`);
/// - **bliss**: an ESRF BLISS HDF5 file, frame stack and positioners of scan `N.1` (`BLISSScan`);
/// - **series**: numbered frames `prefix_0000.tif` ... with a raster given by the user (`FrameSeries`).
public struct ScanManifest: Sendable {
    public enum Layout: String, Sendable { case folder, hdf5, apsPoints = "aps-points", bliss, series }

    public var layout: Layout
    /// The scan folder (or the folder of the HDF5 file).
    public var root: String
    public var patterns: [ScanPattern]
    /// `calib.det` next to the scan, if present.
    public var calibrationPath: String?
    /// Counters recorded with the scan, one value per pattern (BLISS `measurement/` counters such as
    /// `xia_sum_fluoCo` or `mon`), by name.
    public var channels: [String: [Double]] = [:]
    /// What the reader inferred or assumed (axes chosen, units, missing frames), for `scan inspect`.
    public var notes: [String] = []
    /// The detectors besides the main one whose frames the patterns also hold (`ScanPattern.sides`, in
    /// this order): 34-ID-E's side detectors.
    public var sideDetectors: [SideDetector] = []

    public init(layout: Layout, root: String, patterns: [ScanPattern], calibrationPath: String?) {
        self.layout = layout; self.root = root; self.patterns = patterns; self.calibrationPath = calibrationPath
    }

    public static func open(_ path: String) throws -> ScanManifest { try open(ScanSource(path: path)) }

    public static func open(_ source: ScanSource) throws -> ScanManifest {
        var manifest = try openLayout(source)
        if source.mainDetector != nil, manifest.layout != .apsPoints {
            throw LaueError(.invalidArgument, file: source.path, item: "--main-detector",
                            "only an APS 34-ID-E point folder records several detectors (this is a \(manifest.layout.rawValue) scan)")
        }
        if let file = source.channelMap { try manifest.addChannels(from: file) }
        return manifest
    }

    /// Adds the channels of a separate map (`ChannelMap`) at the patterns' stage positions.
    public mutating func addChannels(from file: String) throws {
        let map = try ChannelMap.read(path: file)
        if let clash = map.names.first(where: { channels[$0] != nil }) {
            throw LaueError(.invalidArgument, file: file, item: clash, "the scan itself records a channel of that name: rename the column")
        }
        let (values, unmatched) = map.sample(at: patterns.map { (x: $0.xUm, y: $0.yUm) })
        channels.merge(values) { a, _ in a }
        notes.append(String(format: "channel map %@: %@ (%d points, step %.4g µm)", (file as NSString).lastPathComponent,
                            map.names.joined(separator: ", "), map.x.count, map.step))
        if unmatched > 0 {
            notes.append("channel map: \(unmatched) of \(patterns.count) patterns have no map point within half its step (no value)")
        }
    }

    static func openLayout(_ source: ScanSource) throws -> ScanManifest {
        let path = source.path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw LaueError(.unreadable, file: path, "no such scan (folder with scan.csv, HDF5 scan file or numbered frame)")
        }
        if isDir.boolValue {
            let csv = (path as NSString).appendingPathComponent("scan.csv")
            let h5 = (path as NSString).appendingPathComponent("scan.h5")
            if FileManager.default.fileExists(atPath: csv) { return try folder(csv: csv) }
            if FileManager.default.fileExists(atPath: h5) { return try hdf5File(source, h5) }
            if let raster = source.raster { return try FrameSeries.open(folder: path, source: source, raster: raster) }
            if try APSPointFolder.holdsPoints(path) { return try APSPointFolder.open(path, source: source) }
            throw LaueError(.missingData, file: path,
                            "neither scan.csv, scan.h5 nor per-point HDF5 files in the folder (numbered frames need --raster COLSxROWS)")
        }
        if path.hasSuffix(".csv") { return try folder(csv: path) }
        // With --raster, a frame file is the first of a numbered series (HDF5 frames too).
        if let raster = source.raster { return try FrameSeries.open(first: path, source: source, raster: raster) }
        if try ImageReader.format(of: path) == .hdf5 { return try hdf5File(source, path) }
        _ = try ImageReader.format(of: path)          // names an unknown format
        throw LaueError(.invalidArgument, file: path,
                        "a single frame: give --raster COLSxROWS to scan the numbered series it starts (docs/scan-layouts.md)")
    }

    /// An HDF5 scan file: an APS-style stack (`/entry1/data/data` of rank 3) or a BLISS file.
    static func hdf5File(_ source: ScanSource, _ path: String) throws -> ScanManifest {
        let file = try HDF5File(path: path)
        if file.exists(HDF5ImageReader.apsDataPath) { return try hdf5(path: path) }
        return try BLISSScan.open(file, source: source)
    }

    /// A detector recording the scan's points besides the main one: its name (`/entry1/detector/ID`)
    /// and its calibration (`calib_<ID>.det` in the scan folder), without which its frames are not used.
    public struct SideDetector: Sendable, Hashable {
        public var id: String
        public var calibrationPath: String?
        public init(id: String, calibrationPath: String?) { self.id = id; self.calibrationPath = calibrationPath }
    }

    /// The calibrations of the side detectors (`sideDetectors`, in order), read from their files.
    public func sideCalibrations() throws -> [DetectorCalibration] {
        try sideDetectors.map { side in
            guard let path = side.calibrationPath else {
                throw LaueError(.missingData, file: root, item: side.id, "no calibration of the side detector")
            }
            return try LaueToolsCalibration.read(path: path)
        }
    }

    /// Why a side detector's frames cannot be used with its calibration (`calibrations`, in the order
    /// of `sideDetectors`), or nil: the first readable of its first `probe` frames has another size than
    /// the calibration's detector. `scan inspect` notes it and `scan run` refuses it.
    public func sideFrameMismatches(_ calibrations: [DetectorCalibration], probe: Int = 8) -> [String?] {
        zip(sideDetectors.indices, calibrations).map { d, c in
            for p in patterns.prefix(probe * 4) where d < p.sides.count && p.sides[d].problem == nil {
                guard let image = try? readImage(p.sides[d]) else { continue }
                return c.frameSizeMismatch(width: image.width, height: image.height).map {
                    "\(p.sides[d].path): frame of side detector '\(sideDetectors[d].id)' \($0)"
                }
            }
            return nil
        }
    }

    static func calibration(in root: String) -> String? {
        let p = (root as NSString).appendingPathComponent("calib.det")
        return FileManager.default.fileExists(atPath: p) ? p : nil
    }

    static func folder(csv: String) throws -> ScanManifest {
        let table = try CSVTable.read(path: csv)
        guard let fi = table.index(of: "file"), let xi = table.index(of: "x_um"), let yi = table.index(of: "y_um") else {
            throw LaueError(.missingData, file: csv, "scan.csv needs the columns file,x_um,y_um")
        }
        let root = (csv as NSString).deletingLastPathComponent
        var patterns: [ScanPattern] = []
        for (i, r) in table.rows.enumerated() {
            var (x, y) = (CSVTable.decimal(r[xi]) ?? .nan, CSVTable.decimal(r[yi]) ?? .nan)
            var problem: String? = nil
            if !ScanManifest.isPosition(x) || !ScanManifest.isPosition(y) {
                problem = "\(csv): line \(i + 2): stage position (\(r[xi]), \(r[yi])) µm is not a finite number within ±1e9 µm"
                (x, y) = (.nan, .nan)
            }
            let label = r[fi]
            func resolved(_ f: String) -> String { f.hasPrefix("/") ? f : (root as NSString).appendingPathComponent(f) }
            var (file, frame) = ScanManifest.fileAndFrame(label)
            if frame != nil, FileManager.default.fileExists(atPath: resolved(label)) { (file, frame) = (label, nil) }
            let full = resolved(file)
            patterns.append(ScanPattern(index: i, label: label, path: full, frame: frame ?? 0, xUm: x, yUm: y, problem: problem))
        }
        return ScanManifest(layout: .folder, root: root, patterns: patterns, calibrationPath: calibration(in: root))
    }

    /// Splits a scan.csv `file` field "stack.h5#12" into the file and the frame (nil frame: no valid
    /// "#N" suffix; the field is then a file name as it stands).
    public static func fileAndFrame(_ label: String) -> (file: String, frame: Int?) {
        guard let hash = label.lastIndex(of: "#") else { return (label, nil) }
        let tail = label[label.index(after: hash)...]
        guard !tail.isEmpty, tail.allSatisfy(\.isASCII), tail.allSatisfy(\.isNumber), tail.count <= 9, let k = Int(tail) else { return (label, nil) }
        return (String(label[..<hash]), k)
    }

    static func hdf5(path: String) throws -> ScanManifest {
        let file = try HDF5File(path: path)
        let shape = try file.shape(of: HDF5ImageReader.apsDataPath)
        guard shape.count == 3 else {
            throw LaueError(.invalidFormat, file: path, item: HDF5ImageReader.apsDataPath, "expected a [frames, rows, cols] stack")
        }
        guard shape[0] <= ScanRaster.maximumPoints else {
            throw LaueError(.invalidFormat, file: path, item: HDF5ImageReader.apsDataPath, "\(shape[0]) frames: more than the \(ScanRaster.maximumPoints) a scan may hold")
        }
        func positions(_ axis: String) throws -> [Double] {
            let p = "/entry1/sample/" + axis
            guard file.exists(p) else { throw LaueError(.missingData, file: path, item: p, "stage positions not found") }
            let v = try file.read(p, as: Double.self).values
            guard v.count == shape[0] else {
                throw LaueError(.invalidFormat, file: path, item: p, "\(v.count) positions for \(shape[0]) frames")
            }
            let scale = try lengthUnit(of: p, in: file, default: "micrometer").micrometres
            return scale == 1 ? v : v.map { $0 * scale }
        }
        let xs = try positions("sampleX"), ys = try positions("sampleY")
        let name = (path as NSString).lastPathComponent
        let patterns = (0..<shape[0]).map { k in
            guard ScanManifest.isPosition(xs[k]), ScanManifest.isPosition(ys[k]) else {
                return ScanPattern(index: k, label: "\(name)#\(k)", path: path, frame: k, xUm: .nan, yUm: .nan,
                                   problem: "\(path): /entry1/sample/sampleX|Y[\(k)]: stage position (\(xs[k]), \(ys[k])) µm is not a finite number within ±1e9 µm")
            }
            return ScanPattern(index: k, label: "\(name)#\(k)", path: path, frame: k, xUm: xs[k], yUm: ys[k])
        }
        let root = (path as NSString).deletingLastPathComponent
        return ScanManifest(layout: .hdf5, root: root, patterns: patterns, calibrationPath: calibration(in: root))
    }

    /// Positions closer than this are one (micrometres): 1 nm.
    public static let positionTolerance = 1e-3

    /// The `units` attribute of a dataset of lengths in `file` and the micrometres per that unit
    /// (`fallback` when the dataset has none); an unknown unit is an error naming the file and dataset.
    static func lengthUnit(of dataset: String, in file: HDF5File, default fallback: String) throws -> (unit: String?, micrometres: Double) {
        let unit = file.stringAttribute("units", of: dataset)
        // A `units` attribute that is not text (a number, an array) says nothing LaueMap can read: an
        // error, not the default unit.
        if unit == nil && file.hasAttribute("units", of: dataset) {
            throw LaueError(.invalidFormat, file: file.path, item: dataset, "the units attribute is not text")
        }
        guard let scale = micrometresPer(unit: unit, default: fallback) else {
            throw LaueError(.invalidFormat, file: file.path, item: dataset, "unknown length unit '\(LaueError.excerpt(unit ?? ""))'")
        }
        return (unit, scale)
    }

    /// Micrometres per unit of a `units` attribute (nil attribute: `fallback`): um, µm, micron,
    /// micrometer/micrometre, mm, millimeter/millimetre, nm, m; nil for an unknown unit.
    public static func micrometresPer(unit: String?, default fallback: String) -> Double? {
        switch (unit ?? fallback).trimmingCharacters(in: .whitespaces).lowercased() {
        case "um", "µm", "μm", "micron", "microns", "micrometer", "micrometre", "micrometers", "micrometres": return 1
        case "mm", "millimeter", "millimetre", "millimeters", "millimetres": return 1000
        case "nm", "nanometer", "nanometre", "nanometers", "nanometres": return 1e-3
        case "m", "meter", "metre", "meters", "metres": return 1e6
        default: return nil
        }
    }

    /// A stage position LaueMap can map: finite and within ±1e9 µm (checked when the scan is opened: a
    /// pattern without one is a `failed` row, `ScanPattern.problem`).
    public static func isPosition(_ v: Double) -> Bool { v.isFinite && abs(v) <= 1e9 }

    /// Reads the image of one pattern.
    public func readImage(_ p: ScanPattern) throws -> LaueImage {
        try ImageReader.read(path: p.path, frame: p.frame, dataset: p.dataset)
    }
}
