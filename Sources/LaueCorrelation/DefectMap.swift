import Foundation
import LaueCore
import LaueScan
import LaueXANES

/// The defect side of a correlation: per Laue scan point its class, streaking extent and a channel
/// that outlines the particle for registration.
public struct DefectMap: Sendable {
    public var grid: MapGrid
    /// nil where the scan has no pattern.
    public var classes: [DefectClass?]
    public var streakExtent: [Double]
    /// Registration channel (e.g. number of peaks per pattern: high on the particle).
    public var channel: [Double]
    public var name: String

    public init(grid: MapGrid, classes: [DefectClass?], streakExtent: [Double], channel: [Double], name: String) {
        self.grid = grid; self.classes = classes; self.streakExtent = streakExtent; self.channel = channel; self.name = name
    }

    /// Channels of a scan run usable for registration.
    public enum Channel: Sendable, Hashable {
        /// Peaks found per pattern (`n_peaks`).
        case peaks
        /// Indexed spots per pattern (`n_indexed`).
        case indexed
        /// 1 for indexed patterns, 0 otherwise (`particle`).
        case particle
        /// A channel recorded with the scan (column `channel_<name>` of patterns.csv), e.g. the Co Kα
        /// fluorescence `xia_sum_fluoCo` of a BLISS scan.
        case recorded(String)

        /// The channel named `name`: n_peaks, n_indexed, particle, or a recorded channel (with or
        /// without its `channel_` prefix).
        public init(name: String) {
            switch name {
            case "n_peaks": self = .peaks
            case "n_indexed": self = .indexed
            case "particle": self = .particle
            default: self = .recorded(name.hasPrefix(ScanChannels.columnPrefix) ? String(name.dropFirst(ScanChannels.columnPrefix.count)) : name)
            }
        }
    }

    /// Reads `patterns.csv` of a `lauemap scan run` output folder (or the file itself).
    public static func load(scanOutput path: String, channel: Channel = .peaks) throws -> DefectMap {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        let file = isDirectory.boolValue ? (path as NSString).appendingPathComponent("patterns.csv") : path
        let records = try ScanOutputs.readPatterns(file)
        guard !records.isEmpty else { throw LaueError(.missingData, file: file, "no patterns") }
        if case .recorded(let name) = channel, !records.contains(where: { $0.channels[name] != nil }) {
            let known = Set(records.flatMap(\.channels.keys)).sorted()
            throw LaueError(.missingData, file: file, item: ScanChannels.columnPrefix + name,
                            "no such channel recorded with the scan (\(known.isEmpty ? "none recorded" : "recorded: " + known.joined(separator: ", ")); or n_peaks, n_indexed, particle)")
        }
        let scan = ScanGrid(x: records.map(\.xUm), y: records.map(\.yUm))
        let step = scan.step
        guard scan.columns > 1, scan.rows > 1, step.x > 0, step.y > 0 else {
            throw LaueError(.invalidFormat, file: file, "the patterns do not form a 2-D raster (\(scan.columns) x \(scan.rows))")
        }
        let grid = MapGrid(columns: scan.columns, rows: scan.rows, stepX: step.x, stepY: step.y, originX: scan.xs[0], originY: scan.ys[0])
        var classes = [DefectClass?](repeating: nil, count: grid.count)
        var extent = [Double](repeating: .nan, count: grid.count)
        var values = [Double](repeating: .nan, count: grid.count)
        for (r, cell) in zip(records, scan.cells) {
            guard let cell else { continue }     // a failed row without a stage position
            let p = cell.row * grid.columns + cell.column
            classes[p] = r.defectClass
            extent[p] = r.streakExtent ?? .nan
            switch channel {
            case .peaks: values[p] = Double(r.peakCount ?? 0)
            case .indexed: values[p] = Double(r.indexedCount ?? 0)
            case .particle: values[p] = r.status == .indexed ? 1 : 0
            case .recorded(let name): values[p] = r.channels[name] ?? .nan
            }
        }
        return DefectMap(grid: grid, classes: classes, streakExtent: extent, channel: values, name: file)
    }
}
