import Foundation
import LaueCore
import LaueIO

/// What a scan holds, as `lauemap scan inspect` prints it: layout, patterns, raster, steps, origin,
/// detector size, calibration, recorded channels, and what the reader inferred or could not place.
public struct ScanInspection: Sendable {
    public var layout: ScanManifest.Layout
    public var patterns: Int
    /// Patterns that cannot be placed or read (missing frames, positions), with their reasons.
    public var problems: [String]
    public var columns: Int
    public var rows: Int
    public var step: (x: Double, y: Double)
    public var origin: (x: Double, y: Double)
    /// Width and height of the first readable frame, or nil.
    public var detector: (width: Int, height: Int)?
    public var calibration: String?
    public var channels: [String]
    public var notes: [String]

    /// Inspects `manifest`, reading the first frame that can be read (at most `probeFrames` tried).
    public init(_ manifest: ScanManifest, probeFrames: Int = 8) {
        layout = manifest.layout
        patterns = manifest.patterns.count
        var problems = manifest.patterns.compactMap(\.problem)
        let missing = manifest.patterns.filter { $0.problem == nil && !FileManager.default.fileExists(atPath: $0.path) }
        problems += missing.map { "\($0.path): frame file not found" }
        self.problems = problems
        let grid = ScanGrid(x: manifest.patterns.map(\.xUm), y: manifest.patterns.map(\.yUm))
        (columns, rows, step) = (grid.columns, grid.rows, grid.step)
        origin = (grid.xs.first ?? .nan, grid.ys.first ?? .nan)
        detector = nil
        for p in manifest.patterns.prefix(probeFrames) where p.problem == nil {
            if let image = try? manifest.readImage(p) { detector = (image.width, image.height); break }
        }
        calibration = manifest.calibrationPath
        channels = manifest.channels.keys.sorted()
        notes = manifest.notes + grid.warnings
        do {
            notes += manifest.sideFrameMismatches(try manifest.sideCalibrations()).compactMap { $0.map { $0 + ": scan run refuses it" } }
        } catch {
            notes.append("side detectors: \(error)")
        }
    }

    /// The report, one line per fact.
    public var lines: [String] {
        var out = ["layout: \(layout.rawValue)", "patterns: \(patterns)"]
        out.append(String(format: "raster: %d x %d cells (columns x rows), step %.4g x %.4g µm, origin (%.7g, %.7g) µm",
                          columns, rows, step.x, step.y, origin.x, origin.y))
        if columns * rows != patterns { out.append("cells without a pattern: \(max(0, columns * rows - (patterns - problems.count)))") }
        out.append("detector: " + (detector.map { "\($0.width) x \($0.height) pixels (first readable frame)" } ?? "no frame could be read"))
        out.append("calibration: " + (calibration ?? "none next to the scan (give --calib)"))
        if !channels.isEmpty { out.append("channels: " + channels.joined(separator: ", ")) }
        out += notes.map { "note: " + $0 }
        if !problems.isEmpty {
            out.append("problems: \(problems.count) patterns (failed rows in a run)")
            out += problems.prefix(5).map { "  " + $0 }
            if problems.count > 5 { out.append("  ... and \(problems.count - 5) more") }
        }
        return out
    }
}
