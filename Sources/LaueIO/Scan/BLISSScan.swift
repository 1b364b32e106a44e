import Foundation
import LaueCore

/// An ESRF BLISS HDF5 file (BM32): scans are groups `N.1`, each with `title` (e.g. "amesh yech -6.16
/// -6.12 70 xech 26.80 26.84 70 0.15"), `measurement/<detector>` frame stacks [points, rows, cols] and
/// one value per point for every counter and scanned motor in `measurement/` (docs/scan-layouts.md).
///
/// The scan is chosen by number (`ScanSource.scanNumber`; default: the only scan holding a frame
/// stack), the detector by name (`ScanSource.dataset`; default: the only stack). Positions are the
/// motors' read-back values per point in `measurement/`; without them, the nominal mesh of the title.
/// Lengths are millimetres unless the dataset has a `units` attribute. The other per-point datasets
/// (fluorescence `xia_sum_fluo*`, monitor `mon`, ...) become the manifest's channels.
public enum BLISSScan {
    /// Motor names read as the map's horizontal axis (x), and as its vertical axis (y).
    public static let xMotors = ["xech", "hfoc", "dx", "samx", "sx", "px", "x"]
    public static let yMotors = ["yech", "pfoc", "dy", "samy", "sy", "py", "y", "zech", "z"]
    /// Unit of motor positions without a `units` attribute.
    public static let defaultUnit = "mm"

    /// A mesh title: "amesh|dmesh MOTOR1 START1 END1 INTERVALS1 MOTOR2 START2 END2 INTERVALS2 TIME"
    /// (MOTOR1 moves fastest).
    struct Mesh {
        var motors: (String, String)
        var starts: (Double, Double)
        var ends: (Double, Double)
        var intervals: (Int, Int)

        init?(title: String) {
            let f = title.split(separator: " ").map(String.init)
            guard f.count >= 9, f[0].hasSuffix("mesh"), let a1 = Double(f[2]), let b1 = Double(f[3]), let n1 = Int(f[4]),
                  let a2 = Double(f[6]), let b2 = Double(f[7]), let n2 = Int(f[8]), n1 >= 0, n2 >= 0, n1 < 1_000_000, n2 < 1_000_000,
                  a1.isFinite, b1.isFinite, a2.isFinite, b2.isFinite else { return nil }
            motors = (f[1], f[5]); starts = (a1, a2); ends = (b1, b2); intervals = (n1, n2)
        }

        /// Nominal position of point k along motor 1 and motor 2.
        func position(_ k: Int) -> (Double, Double) {
            let (i, j) = (k % (intervals.0 + 1), k / (intervals.0 + 1))
            func at(_ s: Double, _ e: Double, _ n: Int, _ i: Int) -> Double { n == 0 ? s : s + (e - s) * Double(i) / Double(n) }
            return (at(starts.0, ends.0, intervals.0, i), at(starts.1, ends.1, intervals.1, j))
        }
    }

    /// Scan numbers of the file (groups named `N.1`), ascending.
    static func scanNumbers(_ file: HDF5File) throws -> [Int] {
        try file.children(of: "/").compactMap { $0.hasSuffix(".1") ? Int($0.dropLast(2)) : nil }.sorted()
    }

    /// The frame stacks (rank-3 datasets) of a scan's measurement group, by name.
    static func stacks(_ file: HDF5File, _ group: String) -> [String] {
        ((try? file.children(of: group + "/measurement")) ?? []).filter {
            let p = group + "/measurement/" + $0
            return file.isDataset(p) && ((try? file.shape(of: p))?.count == 3)
        }.sorted()
    }

    /// What a measurement group holds instead of a frame stack: datasets of another rank and links
    /// that do not resolve (a Lima file that is missing), for the error message.
    static func contents(_ file: HDF5File, _ measurement: String) -> String {
        var seen: [String] = []
        for name in ((try? file.children(of: measurement)) ?? []).sorted() {
            let p = measurement + "/" + name
            if file.isDataset(p) {
                if let shape = try? file.shape(of: p), shape.count >= 2 { seen.append("\(name) has rank \(shape.count)") }
            } else if (try? file.children(of: p)) == nil {
                seen.append("\(name) is a link that does not resolve (missing external file?)")
            }
        }
        return seen.isEmpty ? "" : " (" + seen.joined(separator: "; ") + "; a frame stack is [points, rows, cols])"
    }

    public static func open(_ file: HDF5File, source: ScanSource) throws -> ScanManifest {
        let path = file.path
        let numbers = try scanNumbers(file)
        guard !numbers.isEmpty else {
            throw LaueError(.missingData, file: path, "neither an APS scan (/entry1/data/data) nor a BLISS file (no scan group N.1)")
        }
        let number: Int
        if let n = source.scanNumber {
            guard numbers.contains(n) else {
                throw LaueError(.missingData, file: path, item: "/\(n).1", "no such scan (scans: \(numbers.map(String.init).joined(separator: ", ")))")
            }
            number = n
        } else {
            let withFrames = numbers.filter { !stacks(file, "/\($0).1").isEmpty }
            guard withFrames.count == 1 else {
                throw LaueError(.invalidArgument, file: path, withFrames.isEmpty
                                ? "no scan holds a frame stack under N.1/measurement/" + numbers.map { contents(file, "/\($0).1/measurement") }.joined()
                                : "scans \(withFrames.map(String.init).joined(separator: ", ")) hold frames: choose one with --scan-number")
            }
            number = withFrames[0]
        }
        let group = "/\(number).1"
        let measurement = group + "/measurement"
        let dataset: String
        if let d = source.dataset {
            dataset = d.hasPrefix("/") ? d : measurement + "/" + d
            guard file.isDataset(dataset), (try file.shape(of: dataset)).count == 3 else {
                throw LaueError(.missingData, file: path, item: dataset, "no frame stack [points, rows, cols] here")
            }
        } else {
            let found = stacks(file, group)
            guard found.count == 1 else {
                throw LaueError(.invalidArgument, file: path, item: measurement, found.isEmpty ? "no frame stack in this scan" + contents(file, measurement)
                                : "several detectors (\(found.joined(separator: ", "))): choose one with --dataset")
            }
            dataset = measurement + "/" + found[0]
        }
        let frames = try file.shape(of: dataset)[0]
        guard frames <= ScanRaster.maximumPoints else {
            throw LaueError(.invalidFormat, file: path, item: dataset, "\(frames) frames: more than the \(ScanRaster.maximumPoints) a scan may hold")
        }
        let title = file.isDataset(group + "/title") ? (try? file.readScalarText(group + "/title")) : nil
        let mesh = title.flatMap(Mesh.init(title:))

        // Per-point datasets of the measurement group.
        var series: [String: [Double]] = [:]
        var notes = ["BLISS scan \(number).1\(title.map { " (\($0))" } ?? ""), frames at \(dataset)"]
        for name in (try? file.children(of: measurement)) ?? [] {
            let p = measurement + "/" + name
            guard file.isDataset(p), let shape = try? file.shape(of: p), shape.count == 1 else { continue }
            // One value per frame, or fewer (a scan that stopped early); never read a longer one.
            guard shape[0] <= frames else { notes.append("\(name): \(shape[0]) values for \(frames) frames, not used"); continue }
            guard let v = try? file.read(p, as: Double.self).values else { notes.append("\(name): not numbers, not used"); continue }
            series[name] = v
        }
        let (xName, yName) = axes(mesh: mesh, available: Set(series.keys))
        func positions(_ motor: String?, _ which: Int) throws -> [Double]? {
            guard let motor else { return nil }
            let (unit, scale) = try ScanManifest.lengthUnit(of: measurement + "/" + motor, in: file, default: defaultUnit)
            if unit == nil { notes.append("\(motor) without a units attribute: \(defaultUnit) assumed") }
            if let v = series[motor] { return v.map { $0 * scale } }
            guard let mesh else { return nil }
            notes.append("\(motor): no read-back values, nominal mesh positions of the title")
            return (0..<frames).map { (which == 0 ? mesh.position($0).0 : mesh.position($0).1) * scale }
        }
        func meshIndex(_ motor: String?) -> Int { mesh.map { motor == $0.motors.1 ? 1 : 0 } ?? 0 }
        let (px, py) = (try positions(xName, meshIndex(xName)), try positions(yName, meshIndex(yName)))
        guard px != nil || py != nil else {
            throw LaueError(.missingData, file: path, item: measurement,
                            "no stage positions: neither a mesh title nor per-point values of a known motor (\((xMotors + yMotors).joined(separator: ", ")))")
        }
        // A line scan moves one motor: the other axis is 0.
        let xs = px ?? [Double](repeating: 0, count: frames), ys = py ?? [Double](repeating: 0, count: frames)
        notes.append("map x = \(px == nil ? "0 (line scan)" : xName!), map y = \(py == nil ? "0 (line scan)" : yName!)")
        let name = (path as NSString).lastPathComponent
        let points = frames
        var patterns: [ScanPattern] = []
        for k in 0..<points {
            let (x, y) = (k < xs.count ? xs[k] : .nan, k < ys.count ? ys[k] : .nan)
            var p = ScanPattern(index: k, label: "\(name)#\(k)", path: path, frame: k, xUm: x, yUm: y, dataset: dataset)
            if !ScanManifest.isPosition(x) || !ScanManifest.isPosition(y) {
                p.problem = "\(path): \(measurement): stage position (\(x), \(y)) µm of point \(k) is not a finite number within ±1e9 µm"
            }
            if p.problem != nil { (p.xUm, p.yUm) = (.nan, .nan) }
            patterns.append(p)
        }
        let root = (path as NSString).deletingLastPathComponent
        var m = ScanManifest(layout: .bliss, root: root, patterns: patterns, calibrationPath: ScanManifest.calibration(in: root))
        let motors = Set([xName, yName].compactMap { $0 })
        m.channels = series.filter { !motors.contains($0.key) && $0.value.count == points }
        if file.isDataset(group + "/end_reason"), let reason = try? file.readScalarText(group + "/end_reason"), reason != "SUCCESS" {
            notes.append("scan ended with \(reason)")
        }
        m.notes = notes
        return m
    }

    /// The motors of the map's x and y: the mesh's motors sorted by the known names (the fast motor is
    /// x when neither is known), else known motors among the per-point datasets.
    static func axes(mesh: Mesh?, available: Set<String>) -> (String?, String?) {
        if let mesh {
            let (a, b) = mesh.motors
            if xMotors.contains(b) || yMotors.contains(a) { return (b, a) }
            return (a, b)
        }
        return (xMotors.first { available.contains($0) }, yMotors.first { available.contains($0) })
    }
}
