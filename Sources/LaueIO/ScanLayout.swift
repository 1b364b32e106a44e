import Foundation
import LaueCore

/// One pattern of a scan: where its image is and where the beam was.
public struct ScanPattern: Sendable, Hashable {
    /// Position in the scan (0-based, file order).
    public var index: Int
    /// The `file` field as written in scan.csv (or "scan.h5#k" for an HDF5 stack).
    public var label: String
    /// Absolute path of the image file.
    public var path: String
    /// Frame inside the file (HDF5 stack index, TIFF page).
    public var frame: Int
    public var xUm: Double
    public var yUm: Double
    /// Why the pattern cannot be placed on the map (an unreadable or non-finite stage position), or
    /// nil. Such a pattern is a `failed` row with this reason; its position is NaN and its frame is
    /// never read, so it changes no other row.
    public var problem: String?

    public init(index: Int, label: String, path: String, frame: Int, xUm: Double, yUm: Double, problem: String? = nil) {
        self.index = index; self.label = label; self.path = path; self.frame = frame; self.xUm = xUm; self.yUm = yUm
        self.problem = problem
    }
}

/// A raster scan on disk, in one of two layouts (docs/scan-layouts.md):
/// - **folder**: `DIR/scan.csv` with header `file,x_um,y_um` (paths relative to DIR), the images, and
///   optionally `DIR/calib.det`;
/// - **HDF5**: an APS-style file with frames under `/entry1/data/data` and positions under
///   `/entry1/sample/sampleX|sampleY` (micrometres), given as the file or as a folder holding `scan.h5`.
public struct ScanManifest: Sendable {
    public enum Layout: String, Sendable { case folder, hdf5 }

    public var layout: Layout
    /// The scan folder (or the folder of the HDF5 file).
    public var root: String
    public var patterns: [ScanPattern]
    /// `calib.det` next to the scan, if present.
    public var calibrationPath: String?

    public static func open(_ path: String) throws -> ScanManifest {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw LaueError(.unreadable, file: path, "no such scan (folder with scan.csv, or HDF5 file)")
        }
        if isDir.boolValue {
            let csv = (path as NSString).appendingPathComponent("scan.csv")
            let h5 = (path as NSString).appendingPathComponent("scan.h5")
            if FileManager.default.fileExists(atPath: csv) { return try folder(csv: csv) }
            if FileManager.default.fileExists(atPath: h5) { return try hdf5(path: h5) }
            throw LaueError(.missingData, file: path, "neither scan.csv nor scan.h5 in the folder")
        }
        if path.hasSuffix(".csv") { return try folder(csv: path) }
        return try hdf5(path: path)
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
            var (x, y) = (Double(r[xi]) ?? .nan, Double(r[yi]) ?? .nan)
            var problem: String? = nil
            if !ScanManifest.isPosition(x) || !ScanManifest.isPosition(y) {
                problem = "\(csv): line \(i + 2): stage position (\(r[xi]), \(r[yi])) µm is not a finite number within ±1e9 µm"
                (x, y) = (.nan, .nan)
            }
            let label = r[fi]
            let full = label.hasPrefix("/") ? label : (root as NSString).appendingPathComponent(label)
            patterns.append(ScanPattern(index: i, label: label, path: full, frame: 0, xUm: x, yUm: y, problem: problem))
        }
        return ScanManifest(layout: .folder, root: root, patterns: patterns, calibrationPath: calibration(in: root))
    }

    static func hdf5(path: String) throws -> ScanManifest {
        let file = try HDF5File(path: path)
        let shape = try file.shape(of: HDF5ImageReader.apsDataPath)
        guard shape.count == 3 else {
            throw LaueError(.invalidFormat, file: path, item: HDF5ImageReader.apsDataPath, "expected a [frames, rows, cols] stack")
        }
        func positions(_ axis: String) throws -> [Double] {
            let p = "/entry1/sample/" + axis
            guard file.exists(p) else { throw LaueError(.missingData, file: path, item: p, "stage positions not found") }
            let v = try file.read(p, as: Double.self).values
            guard v.count == shape[0] else {
                throw LaueError(.invalidFormat, file: path, item: p, "\(v.count) positions for \(shape[0]) frames")
            }
            let unit = file.stringAttribute("units", of: p)?.lowercased() ?? "micrometer"
            let um = unit.hasPrefix("mm") || unit == "millimeter" ? v.map { $0 * 1000 } : v
            return um
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

    /// A stage position LaueMap can map: finite and within ±1e9 µm (checked when the scan is opened: a
    /// pattern without one is a `failed` row, `ScanPattern.problem`).
    public static func isPosition(_ v: Double) -> Bool { v.isFinite && abs(v) <= 1e9 }

    /// Reads the image of one pattern.
    public func readImage(_ p: ScanPattern) throws -> LaueImage {
        try ImageReader.read(path: p.path, frame: p.frame)
    }
}
