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

    public static func open(_ folder: String, source: ScanSource) throws -> ScanManifest {
        let dataset = source.dataset ?? HDF5ImageReader.apsDataPath
        var patterns: [ScanPattern] = []
        var raw: [(x: Double, y: Double, z: Double)] = []
        var units: [String: Set<String>] = [:]          // unit attribute -> axes
        var counters: [[String: Double]?] = []          // channels of each point (nil: unreadable point)
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
                    let unit = file.stringAttribute("units", of: item)
                    guard let scale = ScanManifest.micrometresPer(unit: unit, default: "micrometer") else {
                        throw LaueError(.invalidFormat, file: path, item: item, "unknown length unit '\(unit ?? "")'")
                    }
                    if let unit { units[unit, default: []].insert(axis) }
                    return v[0] * scale
                }
                raw.append((try position("sampleX"), try position("sampleY"), try position("sampleZ")))
                if !raw.last!.x.isFinite { p.problem = "\(path): \(samplePath)sampleX: no stage position" }
                counters.append(scalars(in: file))
            } catch let e as LaueError {
                raw.append((.nan, .nan, .nan))
                counters.append(nil)
                p.problem = e.description
            }
            patterns.append(p)
        }
        guard !patterns.isEmpty else { throw LaueError(.missingData, file: folder, "no HDF5 point files in the folder") }
        let (ys, axis) = surfaceY(raw.map { ($0.y, $0.z) })
        for k in patterns.indices where patterns[k].problem == nil {
            let (x, y) = (raw[k].x, ys[k])
            if ScanManifest.isPosition(x), ScanManifest.isPosition(y) { (patterns[k].xUm, patterns[k].yUm) = (x, y) }
            else { patterns[k].problem = "\(patterns[k].path): \(samplePath)sampleX|Y|Z: stage position (\(x), \(y)) µm is not a finite number within ±1e9 µm" }
        }
        var m = ScanManifest(layout: .apsPoints, root: folder, patterns: patterns, calibrationPath: ScanManifest.calibration(in: folder))
        // A counter is a channel when every readable point records it (NaN at unreadable points).
        let readable = counters.compactMap { $0 }
        if let first = readable.first {
            for name in first.keys.sorted() where readable.allSatisfy({ $0[name] != nil }) {
                m.channels[name] = counters.map { $0?[name] ?? .nan }
            }
        }
        m.notes = ["APS 34-ID-E point folder: \(patterns.count) HDF5 files, frames at \(dataset)", "map x = sampleX, map y = \(axis)"]
            + units.keys.sorted().map { "\(units[$0]!.sorted().joined(separator: ", ")) in \($0)" }
        return m
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
