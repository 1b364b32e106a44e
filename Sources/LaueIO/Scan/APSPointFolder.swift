import Foundation
import LaueCore

/// An APS 34-ID-E scan: a folder of one HDF5 file per point, each with its frame at
/// `/entry1/data/data` and the stage position at `/entry1/sample/sampleX|sampleY|sampleZ` (micrometres
/// unless a `units` attribute says otherwise), detector fields under `/entry1/detector/`
/// (docs/scan-layouts.md). Points are taken in the order of the number in their file names.
///
/// The map's x is `sampleX`. Its y is `sampleY` when only Y moves, `sampleZ` when only Z moves, and the
/// position along the line (Y, Z) move on together when both do (the 45° sample of 34-ID-E scans the
/// surface by moving Y and Z at once, "H"): the principal direction of the (Y, Z) positions, so that
/// steps keep their length on the surface. A file that cannot be read or has no finite position is a
/// `failed` row of its own.
///
/// A folder recorded on several detectors (34-ID-E's top and side detectors: files whose
/// `/entry1/detector/ID` differ) is one pattern per file of the main detector (`ScanSource.mainDetector`,
/// default the detector of the first file); each other detector's file joins the pattern at the same
/// stage position (within `sideMatchTolerance`) as a side frame (`ScanPattern.sides`).
public enum APSPointFolder {
    static let extensions: Set<String> = ["h5", "hdf5"]
    static let samplePath = "/entry1/sample/"

    /// Whether `folder` holds HDF5 files (then it is read as a 34-ID-E point folder).
    static func holdsPoints(_ folder: String) throws -> Bool {
        try FileManager.default.contentsOfDirectory(atPath: folder).contains { extensions.contains(($0 as NSString).pathExtension.lowercased()) }
    }

    /// The per-point files of `folder` in scan order: by the number in the name, then by name.
    static func pointFiles(_ folder: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) && !$0.hasPrefix(".") }
        // Numbered files first, by number; files without a number after them, by name.
        return names.sorted { a, b in
            let (na, nb) = (FrameSeries.Name(a)?.number ?? Int.max, FrameSeries.Name(b)?.number ?? Int.max)
            return na != nb ? na < nb : a < b
        }
    }

    /// Where a point file says its detector is named.
    public static let detectorIDPath = "/entry1/detector/ID"
    /// A side detector's file belongs to the main detector's point whose stage position (sampleX, Y, Z)
    /// is within this distance, micrometres: five times 20 nm of read-back jitter, far below any step.
    public static let sideMatchTolerance = 0.1
    /// Longest detector ID read (characters); a longer one, or one holding control characters, is no
    /// name and the file a failed row.
    public static let maximumDetectorIDLength = 128

    /// The detector ID of a point file: nil when the file records none; an error when it is not a name.
    static func detectorID(_ file: HDF5File, path: String) throws -> String? {
        guard file.isDataset(detectorIDPath) else { return nil }
        let count = try file.shape(of: detectorIDPath).reduce(1, *)
        guard count == 1 else { throw LaueError(.invalidFormat, file: path, item: detectorIDPath, "\(count) values: a detector ID is one name") }
        let id = try file.readScalarText(detectorIDPath).trimmingCharacters(in: .whitespaces)
        guard (1...maximumDetectorIDLength).contains(id.count), !id.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            throw LaueError(.invalidFormat, file: path, item: detectorIDPath,
                            "not a detector name (\(id.count) characters, at most \(maximumDetectorIDLength), no control characters)")
        }
        return id
    }

    public static func open(_ folder: String, source: ScanSource) throws -> ScanManifest {
        let dataset = source.dataset ?? HDF5ImageReader.apsDataPath
        var patterns: [ScanPattern] = []
        var raw: [(x: Double, y: Double, z: Double)] = []
        var units: [String: Set<String>] = [:]          // unit attribute -> axes
        var counters: [[String: Double]?] = []          // channels of each point (nil: unreadable point)
        var detectors: [String?] = []                   // each file's detector ID (nil: unreadable, or none recorded)
        for (k, name) in try pointFiles(folder).enumerated() {
            let path = (folder as NSString).appendingPathComponent(name)
            var p = ScanPattern(index: k, label: name, path: path, frame: 0, xUm: .nan, yUm: .nan, dataset: source.dataset)
            do {
                let file = try HDF5File(path: path)
                guard file.exists(dataset) else { throw LaueError(.missingData, file: path, item: dataset, "no frame (dataset not found)") }
                func position(_ axis: String) throws -> Double {
                    let item = samplePath + axis
                    guard file.isDataset(item) else { return axis == "sampleX" ? .nan : 0 }
                    let count = try file.shape(of: item).reduce(1, *)
                    guard count == 1 else { throw LaueError(.invalidFormat, file: path, item: item, "\(count) values for one point") }
                    let v = try file.read(item, as: Double.self).values
                    guard v.count == 1 else { throw LaueError(.invalidFormat, file: path, item: item, "\(v.count) values for one point") }
                    let (unit, scale) = try ScanManifest.lengthUnit(of: item, in: file, default: "micrometer")
                    if let unit { units[unit, default: []].insert(axis) }
                    return v[0] * scale
                }
                let id = try detectorID(file, path: path)
                raw.append((try position("sampleX"), try position("sampleY"), try position("sampleZ")))
                if !raw.last!.x.isFinite { p.problem = "\(path): \(samplePath)sampleX: no stage position" }
                counters.append(scalars(in: file))
                detectors.append(id)
            } catch let e as LaueError {
                raw.append((.nan, .nan, .nan))
                counters.append(nil)
                detectors.append(nil)
                p.problem = e.description
            }
            patterns.append(p)
        }
        guard !patterns.isEmpty else { throw LaueError(.missingData, file: folder, "no HDF5 point files in the folder") }
        var sideNotes: [String] = []
        var sides: [ScanManifest.SideDetector] = []
        var sideFrames: [[ScanPattern]] = []
        var calibrationPath = ScanManifest.calibration(in: folder)
        let named = Set(detectors.compactMap { $0 })
        if named.count > 1 || source.mainDetector != nil {
            guard let main = source.mainDetector ?? detectors.first(where: { $0 != nil }) ?? nil, named.contains(main) else {
                let listed = named.sorted().prefix(10).map { "'\($0)'" }.joined(separator: ", ")
                throw LaueError(.invalidArgument, file: folder, item: "--main-detector",
                                "no point file of detector '\(LaueError.excerpt(source.mainDetector ?? ""))' (\(detectorIDPath) holds: \(listed.isEmpty ? "none" : listed))")
            }
            // Files of unknown detector (unreadable, or recording none) stay rows of the main detector.
            let keep = detectors.indices.filter { detectors[$0] == main || detectors[$0] == nil }
            (sides, sideFrames, sideNotes) = sideFramesOf(folder: folder, patterns: patterns, raw: raw, detectors: detectors, main: main, keep: keep)
            patterns = keep.enumerated().map { i, k in var p = patterns[k]; p.index = i; return p }
            raw = keep.map { raw[$0] }
            counters = keep.map { counters[$0] }
            for i in patterns.indices { patterns[i].sides = sideFrames.map { $0[i] } }
            // The main detector's own calibration file when there is one; calib.det is the default main detector's.
            let own = (folder as NSString).appendingPathComponent(calibrationName(detector: main))
            calibrationPath = FileManager.default.fileExists(atPath: own) ? own : (source.mainDetector == nil ? calibrationPath : nil)
            let unknown = keep.filter { detectors[$0] == nil }.count
            sideNotes.insert("main detector '\(main)': \(patterns.count) points"
                             + (unknown > 0 ? " (\(unknown) files of unknown detector among them)" : "")
                             + (calibrationPath.map { ", calibration \(($0 as NSString).lastPathComponent)" } ?? ", no \(calibrationName(detector: main)): give --calib"), at: 0)
        }
        let (ys, axis) = surfaceY(raw.map { ($0.y, $0.z) })
        for k in patterns.indices where patterns[k].problem == nil {
            let (x, y) = (raw[k].x, ys[k])
            if ScanManifest.isPosition(x), ScanManifest.isPosition(y) { (patterns[k].xUm, patterns[k].yUm) = (x, y) }
            else { patterns[k].problem = "\(patterns[k].path): \(samplePath)sampleX|Y|Z: stage position (\(x), \(y)) µm is not a finite number within ±1e9 µm" }
        }
        var m = ScanManifest(layout: .apsPoints, root: folder, patterns: patterns, calibrationPath: calibrationPath)
        m.sideDetectors = sides
        // A counter is a channel when every readable point records it (NaN at unreadable points).
        let readable = counters.compactMap { $0 }
        if let first = readable.first {
            for name in first.keys.sorted() where readable.allSatisfy({ $0[name] != nil }) {
                m.channels[name] = counters.map { $0?[name] ?? .nan }
            }
        }
        m.notes = ["APS 34-ID-E point folder: \(detectors.count) HDF5 files, frames at \(dataset)", "map x = sampleX, map y = \(axis)"]
            + units.keys.sorted().map { "\(units[$0]!.sorted().joined(separator: ", ")) in \($0)" } + sideNotes
        return m
    }

    /// The name of a side detector's calibration file: `calib_<ID>.det`, with characters of the ID other
    /// than letters, digits, '-', '.' and '_' as '_' (`PE0820 763-1850` -> `calib_PE0820_763-1850.det`).
    public static func calibrationName(detector id: String) -> String {
        "calib_\(InputFile.plainName(id)).det"
    }

    /// The side detectors of a folder (every detector but `main` with a calibration file, by name) and, for each, its frame at
    /// each of the main detector's points (a frame with a `problem` where it recorded none), matched by
    /// stage position within `sideMatchTolerance`; notes on what was found.
    static func sideFramesOf(folder: String, patterns: [ScanPattern], raw: [(x: Double, y: Double, z: Double)],
                             detectors: [String?], main: String, keep mainFiles: [Int]) -> ([ScanManifest.SideDetector], [[ScanPattern]], [String]) {
        let cell = sideMatchTolerance
        func key(_ p: (x: Double, y: Double, z: Double), _ dx: Int = 0, _ dy: Int = 0, _ dz: Int = 0) -> [Int] {
            [Int((p.x / cell).rounded(.down)) + dx, Int((p.y / cell).rounded(.down)) + dy, Int((p.z / cell).rounded(.down)) + dz]
        }
        func finite(_ p: (x: Double, y: Double, z: Double)) -> Bool {
            ScanManifest.isPosition(p.x) && ScanManifest.isPosition(p.y) && ScanManifest.isPosition(p.z)
        }
        var grid: [[Int]: [Int]] = [:]                   // cell -> position among the main points
        for (i, k) in mainFiles.enumerated() where patterns[k].problem == nil && finite(raw[k]) { grid[key(raw[k]), default: []].append(i) }
        var sides: [ScanManifest.SideDetector] = [], frames: [[ScanPattern]] = [], notes: [String] = []
        for id in Set(detectors.compactMap { $0 }).subtracting([main]).sorted() {
            let name = calibrationName(detector: id)
            let calib = (folder as NSString).appendingPathComponent(name)
            sides.append(.init(id: id, calibrationPath: FileManager.default.fileExists(atPath: calib) ? calib : nil))
            var column = mainFiles.enumerated().map { i, k in
                ScanPattern(index: i, label: "", path: "", frame: 0, xUm: .nan, yUm: .nan,
                            problem: "no frame of detector '\(id)' at the stage position of \(patterns[k].label)")
            }
            var unmatched = 0
            var twice: [String] = []
            for k in detectors.indices where detectors[k] == id {
                let p = raw[k]
                var best: (i: Int, d: Double)? = nil
                if patterns[k].problem == nil, finite(p) {
                    for dx in -1...1 { for dy in -1...1 { for dz in -1...1 {
                        for i in grid[key(p, dx, dy, dz)] ?? [] {
                            let q = raw[mainFiles[i]]
                            let d = ((p.x - q.x) * (p.x - q.x) + (p.y - q.y) * (p.y - q.y) + (p.z - q.z) * (p.z - q.z)).squareRoot()
                            if d <= cell, best == nil || d < best!.d || (d == best!.d && i < best!.i) { best = (i, d) }
                        }
                    } } }
                }
                guard let b = best else { unmatched += 1; continue }
                guard column[b.i].path.isEmpty else {
                    twice.append("\(column[b.i].label) and \(patterns[k].label) (the first used)")
                    continue
                }
                var f = patterns[k]
                f.index = b.i
                f.xUm = .nan; f.yUm = .nan
                column[b.i] = f
            }
            let found = column.filter { $0.problem == nil }.count
            notes.append("side detector '\(id)': \(found) of \(mainFiles.count) points"
                         + (unmatched > 0 ? ", \(unmatched) files without a stage position or at no main point (not used)" : "")
                         + (twice.isEmpty ? "" : ", two files at one point: " + twice.prefix(5).joined(separator: "; ") + (twice.count > 5 ? "; ..." : ""))
                         + (sides.last!.calibrationPath == nil ? "; no \(name) in the folder: not used" : ", calibration \(name)"))
            if sides.last!.calibrationPath == nil { sides.removeLast() } else { frames.append(column) }
        }
        return (sides, frames, notes)
    }

    /// Groups of `/entry1` that hold no channels: the frame, the stage positions, the detector's settings.
    public static let nonChannelGroups: Set<String> = ["data", "sample", "detector"]
    /// How deep below `/entry1` counters are looked for (`/entry1/monitor/I0` is depth 2).
    static let channelDepth = 3

    /// The per-point counters of a point file: every numeric scalar under `/entry1` outside
    /// `nonChannelGroups`, named by its path below `/entry1` with "/" as "_" (`monitor_I0`,
    /// `fluorescence_Co_Ka`; of two paths that read alike, the first in name order).
    static func scalars(in file: HDF5File, group: String = "/entry1", depth: Int = 1) -> [String: Double] {
        var out: [String: Double] = [:]
        for child in (try? file.children(of: group)) ?? [] {
            let path = group + "/" + child
            if file.isDataset(path) {
                guard (try? file.shape(of: path).reduce(1, *)) == 1,
                      let v = try? file.read(path, as: Double.self).values, v.count == 1 else { continue }
                // A NaN counter is a NaN value at this point, not a missing channel for the whole scan.
                out[path.dropFirst("/entry1/".count).replacingOccurrences(of: "/", with: "_")] = v[0]
            } else if depth < channelDepth, !(group == "/entry1" && nonChannelGroups.contains(child)) {
                out.merge(scalars(in: file, group: path, depth: depth + 1)) { a, _ in a }
            }
        }
        return out
    }

    /// The map's y from (sampleY, sampleZ) pairs and a description of the choice.
    static func surfaceY(_ yz: [(Double, Double)]) -> ([Double], String) {
        let finite = yz.filter { $0.0.isFinite && $0.1.isFinite }
        guard !finite.isEmpty else { return (yz.map(\.0), "sampleY") }
        func spread(_ v: [Double]) -> Double { (v.max() ?? 0) - (v.min() ?? 0) }
        let (sy, sz) = (spread(finite.map(\.0)), spread(finite.map(\.1)))
        let moving = ScanManifest.positionTolerance
        if sz <= moving || sy > 1000 * sz { return (yz.map(\.0), "sampleY") }
        if sy <= moving || sz > 1000 * sy { return (yz.map(\.1), "sampleZ") }
        // Both move: project on the principal direction of the (Y, Z) positions.
        let n = Double(finite.count)
        let (my, mz) = (finite.map(\.0).reduce(0, +) / n, finite.map(\.1).reduce(0, +) / n)
        var (cyy, czz, cyz) = (0.0, 0.0, 0.0)
        for (y, z) in finite { cyy += (y - my) * (y - my); czz += (z - mz) * (z - mz); cyz += (y - my) * (z - mz) }
        let angle = 0.5 * atan2(2 * cyz, cyy - czz)
        var (dy, dz) = (cos(angle), sin(angle))
        if dy < 0 { (dy, dz) = (-dy, -dz) }
        return (yz.map { $0.0 * dy + $0.1 * dz },
                String(format: "(sampleY, sampleZ) projected on their common direction (%.1f° from Y towards Z)", atan2(dz, dy) * 180 / .pi))
    }
}
