import Foundation
import LaueCore

/// A fluorescence map as the beamlines' XRF software writes it, in HDF5: every element channel on a
/// raster of stage positions.
///
/// - **XRF-Maps / MAPS** (APS): `/MAPS/XRF_Analyzed/{Fitted,NNLS,ROI}/Counts_Per_Sec` [channels, rows,
///   columns] (the first of those groups present) with `Channel_Names`; axes `/MAPS/Scan/x_axis`,
///   `/MAPS/Scan/y_axis` (or `/MAPS/x_axis`, `/MAPS/y_axis`). No incident energy in a standard place.
/// - **PyXRF** (NSLS-II): `/xrfmap/detsum/xrf_fit` [lines, rows, columns] with `xrf_fit_name` (or
///   `xrf_roi` with `xrf_roi_name`); positions `/xrfmap/positions/pos` [2, rows, columns] (x, y); the
///   incident energy in the `instrument_mono_incident_energy` attribute of `/xrfmap/scan_metadata`.
///
/// Lengths are millimetres (motor positions) unless a `units` attribute says otherwise
/// (`ScanManifest.micrometresPer`). Used as scan channels (`ChannelMap`, `--channel-map FILE.h5`) and
/// as XANES maps (one file per energy, `XANESMapReader.readXRFMaps`).
public struct XRFMapFile: Sendable {
    public enum Layout: String, Sendable { case maps = "MAPS", pyxrf = "PyXRF" }
    public var layout: Layout
    /// Channel names as the file writes them (`Co`, `Ni_K`, `US_IC`, ...).
    public var names: [String]
    public var columns: Int
    public var rows: Int
    /// The first column's and row's position and the steps between them, micrometres (steps >= 0 once
    /// read: columns and rows ascending);
    /// step 1 and origin 0 when the file records no positions (`hasPositions` false).
    public var originX = 0.0, originY = 0.0, stepX = 1.0, stepY = 1.0
    public var hasPositions = false
    /// Values per channel (the order of `names`), each row-major [rows x columns].
    public var values: [[Float]]
    /// The incident energy in eV, when the file records it (PyXRF).
    public var energy: Double?

    /// The unit of positions without a `units` attribute.
    public static let defaultLengthUnit = "mm"
    /// Most channels and map points read (checked on the declared shapes, before anything is read).
    public static let maximumChannels = 1024
    public static let maximumPoints = ScanRaster.maximumPoints

    /// Reads a MAPS or PyXRF file; every problem names the file and the dataset.
    /// Columns and rows are in ascending position order (a descending axis is reversed).
    public static func read(path: String) throws -> XRFMapFile {
        let f = try HDF5File(path: path)
        var map = f.exists("/MAPS") ? try readMAPS(f) : try readPyXRF(f)
        map.ascending()
        return map
    }

    /// Reverses the columns (rows) of every channel when the x (y) step is negative.
    mutating func ascending() {
        let (w, h) = (columns, rows)
        if stepX < 0 {
            values = values.map { v in (0..<(w * h)).map { i in v[(i / w) * w + (w - 1 - i % w)] } }
            originX += Double(w - 1) * stepX
            stepX = -stepX
        }
        if stepY < 0 {
            values = values.map { v in (0..<(w * h)).map { i in v[(h - 1 - i / w) * w + i % w] } }
            originY += Double(h - 1) * stepY
            stepY = -stepY
        }
    }

    /// The values of the channel named `channel`, case-insensitively, or whose name starts with it and
    /// `_` or a space (`Co` finds `Co_K`).
    public func channel(_ channel: String, file: String) throws -> [Float] {
        let wanted = channel.lowercased()
        if let i = names.firstIndex(where: { $0.lowercased() == wanted }) { return values[i] }
        if let i = names.firstIndex(where: { $0.lowercased().hasPrefix(wanted + "_") || $0.lowercased().hasPrefix(wanted + " ") }) { return values[i] }
        throw LaueError(.missingData, file: file, "no channel \"\(LaueError.excerpt(channel))\" (channels: \(names.joined(separator: ", ")))")
    }

    /// The stage position of map pixel (column, row), micrometres.
    public func position(column: Int, row: Int) -> (x: Double, y: Double) {
        (originX + Double(column) * stepX, originY + Double(row) * stepY)
    }

    /// The channel names of `dataset`, its length checked before it is read.
    static func names(_ f: HDF5File, _ dataset: String) throws -> [String] {
        let count = try f.shape(of: dataset).reduce(1, *)
        guard (1...maximumChannels).contains(count) else {
            throw LaueError(.invalidFormat, file: f.path, item: dataset, "\(count) channel names (1-\(maximumChannels) read)")
        }
        return try f.readStrings(dataset)
    }

    /// Splits a [channels, rows, columns] stack read from `dataset` into channels, after checking its
    /// declared shape against the names and the limits.
    static func channels(_ f: HDF5File, _ dataset: String, names: [String]) throws -> (values: [[Float]], rows: Int, columns: Int) {
        let shape = try f.shape(of: dataset)
        guard shape.count == 3, shape.allSatisfy({ $0 >= 1 }), shape[0] == names.count else {
            throw LaueError(.invalidFormat, file: f.path, item: dataset,
                            "shape \(shape.map(String.init).joined(separator: " x ")): expected [\(names.count) channels, rows, columns]")
        }
        guard shape[1] <= maximumPoints / shape[2] else {
            throw LaueError(.invalidFormat, file: f.path, item: dataset, "\(shape[1]) x \(shape[2]) map points: at most \(maximumPoints)")
        }
        let (values, _) = try f.read(dataset, as: Float.self)
        let n = shape[1] * shape[2]
        guard values.count == shape[0] * n else { throw LaueError(.invalidFormat, file: f.path, item: dataset, "\(values.count) values for shape \(shape)") }
        return ((0..<shape[0]).map { Array(values[($0 * n)..<(($0 + 1) * n)]) }, shape[1], shape[2])
    }

    /// Micrometres per unit of a dataset's positions.
    static func scale(_ f: HDF5File, _ dataset: String) throws -> Double {
        try ScanManifest.lengthUnit(of: dataset, in: f, default: defaultLengthUnit).micrometres
    }

    /// Origin and step (micrometres, negative for a descending axis) of an axis dataset of `count` positions.
    static func axis(_ f: HDF5File, _ dataset: String, count: Int) throws -> (origin: Double, step: Double) {
        let declared = try f.shape(of: dataset).reduce(1, *)
        guard declared == count else {
            throw LaueError(.invalidFormat, file: f.path, item: dataset, "\(declared) positions for \(count) map \(count == 1 ? "point" : "points")")
        }
        let v = try f.read(dataset, as: Double.self).values
        guard v.count == count, v.allSatisfy(\.isFinite) else {
            throw LaueError(.invalidFormat, file: f.path, item: dataset, "\(v.count) positions for \(count) map \(count == 1 ? "point" : "points") (finite numbers needed)")
        }
        let s = try scale(f, dataset)
        return (v[0] * s, count > 1 ? (v[count - 1] - v[0]) / Double(count - 1) * s : 0)
    }

    static func readMAPS(_ f: HDF5File) throws -> XRFMapFile {
        guard let group = ["Fitted", "NNLS", "ROI"].map({ "/MAPS/XRF_Analyzed/\($0)" }).first(where: { f.exists($0 + "/Counts_Per_Sec") }) else {
            throw LaueError(.missingData, file: f.path, "MAPS file without /MAPS/XRF_Analyzed/{Fitted,NNLS,ROI}/Counts_Per_Sec")
        }
        let names = try names(f, group + "/Channel_Names")
        let (values, rows, columns) = try channels(f, group + "/Counts_Per_Sec", names: names)
        var map = XRFMapFile(layout: .maps, names: names, columns: columns, rows: rows, values: values)
        let x = try axis(f, f.exists("/MAPS/Scan/x_axis") ? "/MAPS/Scan/x_axis" : "/MAPS/x_axis", count: columns)
        let y = try axis(f, f.exists("/MAPS/Scan/y_axis") ? "/MAPS/Scan/y_axis" : "/MAPS/y_axis", count: rows)
        (map.originX, map.stepX, map.originY, map.stepY, map.hasPositions) = (x.origin, x.step, y.origin, y.step, true)
        return map
    }

    static func readPyXRF(_ f: HDF5File) throws -> XRFMapFile {
        guard let (data, namesPath) = [("/xrfmap/detsum/xrf_fit", "/xrfmap/detsum/xrf_fit_name"), ("/xrfmap/detsum/xrf_roi", "/xrfmap/detsum/xrf_roi_name")]
            .first(where: { f.exists($0.0) }) else {
            throw LaueError(.missingData, file: f.path, "neither a MAPS nor a PyXRF file (no /MAPS, no /xrfmap/detsum/xrf_fit)")
        }
        let names = try names(f, namesPath)
        let (values, rows, columns) = try channels(f, data, names: names)
        var map = XRFMapFile(layout: .pyxrf, names: names, columns: columns, rows: rows, values: values)
        let posPath = "/xrfmap/positions/pos"
        if f.isDataset(posPath), case let shape = try f.shape(of: posPath), shape.count == 3, (2...16).contains(shape[0]), shape[1] == rows, shape[2] == columns {
            let pos = try f.read(posPath, as: Double.self).values
            let s = try scale(f, posPath), n = rows * columns
            guard pos.allSatisfy(\.isFinite) else { throw LaueError(.invalidFormat, file: f.path, item: posPath, "positions must be finite numbers") }
            map.originX = pos[0] * s
            map.originY = pos[n] * s
            map.stepX = columns > 1 ? (pos[columns - 1] - pos[0]) / Double(columns - 1) * s : 0
            map.stepY = rows > 1 ? (pos[n + (rows - 1) * columns] - pos[n]) / Double(rows - 1) * s : abs(map.stepX)
            map.hasPositions = true
        }
        // keV or eV: values under 100 are keV.
        map.energy = f.numericAttribute("instrument_mono_incident_energy", of: "/xrfmap/scan_metadata")?.first.map { $0 < 100 ? $0 * 1000 : $0 }
        return map
    }
}
