import Dispatch
import Foundation
import LaueCore
import LaueIO

/// Which scan layout to write (docs/scan-layouts.md).
public enum ScanLayoutKind: String, Sendable, CaseIterable {
    case folder, hdf5
}

/// Writes a simulated scan with its ground truth: images (in parallel, each from its own seed, so the
/// output does not depend on the number of threads), `scan.csv` or `scan.h5`, `calib.det`, `truth.csv`
/// and `scan.json`.
public enum SimulatedScanWriter {
    public struct Options: Sendable {
        public var layout: ScanLayoutKind = .folder
        public var compression: TIFFCompression = .deflate
        public var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
        public init() {}
    }

    /// Seed of pattern `index` of a scan seeded with `seed`.
    public static func patternSeed(_ seed: UInt64, _ index: Int) -> UInt64 {
        var z = seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        return z ^ (z >> 27)
    }

    /// Renders and writes the scan; calls `progress(done, total)` from the calling thread.
    @discardableResult
    public static func write(_ spec: ScanSpec, to dir: String, options: Options = Options(),
                             progress: ((Int, Int) -> Void)? = nil) throws -> [ScanPoint] {
        let points = try ScanPlanner.plan(spec)
        var tailed = try PatternSimulator(material: spec.material, detector: spec.detector, energyRange: spec.energyRange)
        tailed.tail = spec.tail
        let sim = tailed
        let substrate = spec.confounders.contains(.substrate)
            ? try PatternSimulator(material: Material.builtin("Si"), detector: spec.detector, energyRange: spec.energyRange) : nil
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            if options.layout == .folder {
                try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
            }
        } catch {
            throw LaueError(.unreadable, file: dir, "cannot create the scan folder: \(error.localizedDescription)")
        }
        let digits = max(5, String(points.count - 1).count)
        @Sendable func imageName(_ i: Int) -> String {
            let s = String(i)
            return "images/img_" + String(repeating: "0", count: max(0, digits - s.count)) + s + ".tif"
        }
        let calib = spec.detector.calibration
        var stack: APSStackWriter? = nil
        let h5Name = "scan.h5"
        // A failed write (a full disk) leaves no partial stack behind; once renamed, nothing to remove.
        defer { if options.layout == .hdf5 { try? FileManager.default.removeItem(atPath: dir + "/.scan.h5.partial") } }
        if options.layout == .hdf5 {
            stack = try APSStackWriter(path: dir + "/.scan.h5.partial", frames: points.count, width: calib.width, height: calib.height)
        }
        let jobs = max(1, options.jobs)
        let batch = jobs * 4
        var done = 0
        var start = 0
        let failure = FirstError()
        while start < points.count {
            let end = min(points.count, start + batch)
            let slots = Slots<LaueImage>(count: end - start)
            let layout = options.layout, compression = options.compression, seed = spec.seed
            let first = start
            DispatchQueue.concurrentPerform(iterations: jobs) { worker in
                var i = first + worker
                while i < end {
                    let p = points[i]
                    let image = confounded(sim, spec: spec, point: p, substrate: substrate).simulate(p.truth, seed: patternSeed(seed, i))
                    if layout == .folder {
                        do {
                            try TIFFWriter.write(image, to: dir + "/" + imageName(i), options: .init(compression: compression))
                        } catch { failure.record(error) }
                    } else {
                        slots.set(i - first, image)
                    }
                    i += jobs
                }
            }
            if let e = failure.error { throw e }
            if let stack {
                for i in start..<end { try stack.write(slots.get(i - start)!, at: i) }
            }
            done = end
            progress?(done, points.count)
            start = end
        }
        if let stack {
            try stack.finish(sampleX: points.map(\.xUm), sampleY: points.map(\.yUm),
                             detectorFields: ["distance": calib.distance, "xpixelsize": calib.pixelSize, "ypixelsize": calib.pixelSize])
            if rename(dir + "/.scan.h5.partial", dir + "/" + h5Name) != 0 {
                throw LaueError(.unreadable, file: dir + "/" + h5Name, "cannot move the stack into place")
            }
        } else {
            var table = CSVTable(header: ["file", "x_um", "y_um"])
            for p in points { table.rows.append([imageName(p.index), csvNumber(p.xUm), csvNumber(p.yUm)]) }
            try table.write(to: dir + "/scan.csv")
        }
        try LaueToolsCalibration.writeDet(calib, material: spec.material.name, to: dir + "/calib.det")
        let labels = points.map { options.layout == .folder ? imageName($0.index) : "\(h5Name)#\($0.index)" }
        var truth = truthTable(points, labels: labels, material: spec.material)
        if !spec.confounders.isEmpty {
            truth.header.append("confounder")
            for (i, p) in points.enumerated() { truth.rows[i].append(confounder(spec, domain: p.domain)?.rawValue ?? "") }
        }
        try truth.write(to: dir + "/truth.csv")
        try AtomicFile.write(description(spec, layout: options.layout, count: points.count), to: dir + "/scan.json")
        return points
    }

    /// Kind of confounder of the domain of `point` (nil: none, or outside the particle).
    public static func confounder(_ spec: ScanSpec, domain: Int) -> Confounders.Kind? {
        guard domain >= 0, !spec.confounders.isEmpty else { return nil }
        return spec.confounders[domain % spec.confounders.count]
    }

    /// `sim` with the confounder of the point's domain, drawn from a generator of the scan seed and
    /// the domain alone (so every point of a domain sees the same neighbouring grain).
    static func confounded(_ sim: PatternSimulator, spec: ScanSpec, point: ScanPoint, substrate: PatternSimulator?) -> PatternSimulator {
        guard let kind = confounder(spec, domain: point.domain) else { return sim }
        var s = sim
        var g = SeededGenerator(seed: spec.seed ^ confounderSeedSalt, stream: UInt64(point.domain))
        Confounders.add(kind, to: &s, orientation: point.truth.orientation, substrate: substrate, generator: &g)
        return s
    }

    /// Separates the confounder draws from the planner's, which use the scan seed itself.
    static let confounderSeedSalt: UInt64 = 0xC0F0_0DE5

    /// The ground-truth table (docs/scan-layouts.md).
    public static func truthTable(_ points: [ScanPoint], labels: [String], material: Material) -> CSVTable {
        var t = CSVTable(header: ["file", "x_um", "y_um", "class", "domain", "axis_lab_x", "axis_lab_y", "axis_lab_z",
                                  "axis_h", "axis_k", "axis_l", "axis_crystal_x", "axis_crystal_y", "axis_crystal_z",
                                  "spread_deg", "tilt_deg", "tilts_deg", "n_orientations", "weights",
                                  "u11", "u12", "u13", "u21", "u22", "u23", "u31", "u32", "u33"])
        for (p, label) in zip(points, labels) {
            let d = p.truth.defect
            let lab = p.truth.diffracting ? p.truth.axisLab : nil
            let crystal = p.truth.diffracting ? d.axis : nil
            let uvw = crystal.map { material.lattice.directionIndices(of: $0) }
            let tilts = d.tilts
            var row = [label, csvNumber(p.xUm), csvNumber(p.yUm), p.truth.defectClass.rawValue, String(p.domain)]
            row += [lab?.x, lab?.y, lab?.z].map { csvNumber($0, digits: 6) }
            row += [uvw?.x, uvw?.y, uvw?.z].map { csvNumber($0, digits: 6) }
            row += [crystal?.x, crystal?.y, crystal?.z].map { csvNumber($0, digits: 6) }
            let diffracting = p.truth.diffracting
            row += [diffracting && d.spread > 0 ? csvNumber(d.spread, digits: 5) : "",
                    diffracting && !tilts.isEmpty ? csvNumber(tilts.reduce(0, +) / Double(tilts.count), digits: 5) : "",
                    diffracting ? tilts.map { String(format: "%.5f", $0) }.joined(separator: ";") : "",
                    diffracting ? String(d.orientationCount) : "0",
                    diffracting ? d.weights.map { String(format: "%.4f", $0) }.joined(separator: ";") : ""]
            row += p.truth.orientation.flat.map { String(format: "%.9f", $0) }
            t.rows.append(row)
        }
        return t
    }

    static func description(_ spec: ScanSpec, layout: ScanLayoutKind, count: Int) -> String {
        let classes = spec.classes.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
        return """
        {
          "generator": "lauemap simulate scan",
          "material": "\(spec.material.name)",
          "detector": "\(spec.detector.name)",
          "columns": \(spec.columns),
          "rows": \(spec.rows),
          "patterns": \(count),
          "step_um": \(spec.stepUm),
          "seed": \(spec.seed),
          "layout": "\(layout.rawValue)",
          "energy_kev": [\(spec.energyRange.lowerBound), \(spec.energyRange.upperBound)],
          "classes": [\(classes)]\(spec.confounders.isEmpty ? "" : ",\n  \"confounders\": [" + spec.confounders.map { "\"\($0.rawValue)\"" }.joined(separator: ", ") + "]")
        }

        """
    }
}

/// The first error raised by any parallel worker.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    func record(_ e: Error) { lock.lock(); if stored == nil { stored = e }; lock.unlock() }
    var error: Error? { lock.lock(); defer { lock.unlock() }; return stored }
}
