import Foundation
import LaueCore
import LaueIO
import LaueDefects
import LaueIndexing

/// `run.json`: what a run in an output folder is (scan, part of it, material, calibration, point
/// spread) and whether it is complete. `--resume` checks that it continues the same run; `scan merge`
/// checks that shards belong together.
struct RunMetadata {
    /// The scan: its path and layout options (raster of a series, BLISS scan number, dataset).
    var source: ScanSource
    var scan: String { get { source.path } set { source.path = newValue } }
    var patternCount: Int
    var shard: Shard?
    var range: Range<Int>
    var material: String
    var calibration: DetectorCalibration
    /// The side detectors' calibrations (`ScanSettings.sideCalibrations`; run.json "side_calibrations").
    var sideCalibrations: [DetectorCalibration] = []
    var pointSpreadSigma: Double?
    var complete: Bool
    /// Indexing settings that change the rows: energy band, strain, the acceptance thresholds.
    var indexing = ScanSettings.defaultIndexingOptions
    /// Whether unindexed points were indexed again from their neighbours (`NeighbourIndexing`).
    var scanGuided = false
    /// Beam size for the GND density, micrometres.
    var beamSize = ClassifierOptions().beamSize
    /// What produced the results (`Provenance.record`): version, scan, inputs, material, calibration,
    /// every setting.
    var provenance: [String: Any] = [:]
    /// Each invocation that worked on the run: command line, start and finish times (UTC).
    var invocations: [[String: Any]] = []

    /// The indexing thresholds a run records in run.json ("indexing"), by name: numbers and counts.
    static var indexingNumbers: [(String, WritableKeyPath<IndexingOptions, Double>)] {
        [("max_chance", \.maximumChance), ("max_mean_deviation_px", \.maximumMeanDeviation), ("max_mean_deviation_deg", \.maximumMeanDeviationDegrees), ("min_fraction", \.minimumFraction),
         ("max_seeded_chance", \.maximumSeededChance), ("max_seeded_mean_deviation_px", \.maximumSeededMeanDeviation),
         ("max_seeded_mean_deviation_deg", \.maximumSeededMeanDeviationDegrees),
         ("max_seed_rotation_deg", \.maximumSeedRotation)]
    }
    static var indexingCounts: [(String, WritableKeyPath<IndexingOptions, Int>)] {
        [("min_peaks", \.minimumPeaks), ("min_indexed", \.minimumIndexed), ("unambiguous_indexed", \.unambiguousIndexed), ("seeded_min_indexed", \.seededMinimumIndexed),
         ("retry_seed_spots", \.retrySeedSpots)]
    }

    /// The run's settings taken from `settings` (what changes the rows besides scan, range and point spread).
    mutating func record(_ settings: ScanSettings) {
        indexing = settings.indexingOptions
        scanGuided = settings.neighbourIndexing != nil
        beamSize = settings.classifierOptions.beamSize
        sideCalibrations = settings.sideCalibrations
    }

    /// The settings of the run for `materials` (those it recorded by name, the scan's material first):
    /// what `scan merge` needs to finish merged shards exactly as one run would.
    func settings(materials: [Material]) -> ScanSettings {
        var s = ScanSettings(material: materials[0], calibration: calibration)
        s.sideCalibrations = sideCalibrations
        s.otherPhases = Array(materials.dropFirst())
        s.indexingOptions = indexing
        if !scanGuided { s.neighbourIndexing = nil }
        s.classifierOptions.beamSize = beamSize
        s.classifierOptions.pointSpreadSigma = pointSpreadSigma
        return s
    }

    /// The first setting in which `other` differs from this run (nil: none): material, calibration and
    /// the settings that change the rows.
    func differentSetting(from other: RunMetadata) -> String? {
        if material != other.material { return "material (\(material))" }
        let e = indexing.energyRange
        if e != other.indexing.energyRange { return "energy band (\(e.lowerBound)-\(e.upperBound) keV)" }
        if indexing.refineStrain != other.indexing.refineStrain { return "strain setting (--strain \(indexing.refineStrain ? "on" : "off"))" }
        for (name, k) in RunMetadata.indexingNumbers where indexing[keyPath: k] != other.indexing[keyPath: k] {
            return "indexing threshold \(name) (\(indexing[keyPath: k]))"
        }
        for (name, k) in RunMetadata.indexingCounts where indexing[keyPath: k] != other.indexing[keyPath: k] {
            return "indexing threshold \(name) (\(indexing[keyPath: k]))"
        }
        if scanGuided != other.scanGuided { return "scan-guided indexing setting (\(scanGuided ? "on" : "off"))" }
        if beamSize != other.beamSize { return "beam size (\(beamSize) um)" }
        if !RunMetadata.sameCalibration(calibration, other.calibration) { return "calibration" }
        if sideCalibrations.count != other.sideCalibrations.count
            || zip(sideCalibrations, other.sideCalibrations).contains(where: { !RunMetadata.sameCalibration($0, $1) }) {
            return "side detectors' calibrations"
        }
        return nil
    }

    /// Whether two calibrations agree to the precision run.json keeps.
    static func sameCalibration(_ a: DetectorCalibration, _ b: DetectorCalibration) -> Bool {
        abs(a.distance - b.distance) <= 1e-6 && abs(a.xcen - b.xcen) <= 1e-6 && abs(a.ycen - b.ycen) <= 1e-6
            && abs(a.xbet - b.xbet) <= 1e-6 && abs(a.xgam - b.xgam) <= 1e-6 && abs(a.pixelSize - b.pixelSize) <= 1e-9
            && abs(a.azimuth - b.azimuth) <= 1e-6 && a.width == b.width && a.height == b.height
    }

    /// A calibration as run.json writes it (`azimuth_deg` only for a detector off the top position).
    static func json(_ c: DetectorCalibration) -> [String: Any] {
        var j: [String: Any] = ["distance_mm": c.distance, "xcen_px": c.xcen, "ycen_px": c.ycen, "xbet_deg": c.xbet,
                                "xgam_deg": c.xgam, "pixel_size_mm": c.pixelSize, "width": c.width, "height": c.height]
        if c.azimuth != 0 { j["azimuth_deg"] = c.azimuth }
        return j
    }

    /// The calibration of a run.json object, or nil when a field is missing.
    static func calibration(_ c: [String: Any]) -> DetectorCalibration? {
        guard let distance = c["distance_mm"] as? Double, let xcen = c["xcen_px"] as? Double, let ycen = c["ycen_px"] as? Double,
              let xbet = c["xbet_deg"] as? Double, let xgam = c["xgam_deg"] as? Double, let pixel = c["pixel_size_mm"] as? Double,
              let w = c["width"] as? Int, let h = c["height"] as? Int else { return nil }
        return DetectorCalibration(distance: distance, xcen: xcen, ycen: ycen, xbet: xbet, xgam: xgam, pixelSize: pixel,
                                   width: w, height: h, azimuth: c["azimuth_deg"] as? Double ?? 0)
    }

    var json: [String: Any] {
        let c = calibration
        var j: [String: Any] = [
            "lauemap": "LaueMap scan run",
            "scan": scan, "source": source.options, "pattern_count": patternCount, "range": [range.lowerBound, range.upperBound],
            "material": material, "complete": complete,
            "calibration": RunMetadata.json(c),
        ]
        j["shard"] = shard.map { [$0.index, $0.count] } ?? NSNull()
        j["psf_sigma_px"] = pointSpreadSigma ?? NSNull()
        if !sideCalibrations.isEmpty { j["side_calibrations"] = sideCalibrations.map(RunMetadata.json) }
        var ix: [String: Any] = ["energy_kev": [indexing.energyRange.lowerBound, indexing.energyRange.upperBound],
                                 "strain": indexing.refineStrain, "scan_guided": scanGuided]
        for (name, k) in RunMetadata.indexingNumbers { ix[name] = indexing[keyPath: k] }
        for (name, k) in RunMetadata.indexingCounts { ix[name] = indexing[keyPath: k] }
        j["indexing"] = ix
        j["classification"] = ["beam_size_um": beamSize]
        if !provenance.isEmpty { j["provenance"] = provenance }
        if !invocations.isEmpty { j["invocations"] = invocations }
        return j
    }

    func write(_ path: String) throws {
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data + Data("\n".utf8), to: path)
    }

    static func read(_ path: String) throws -> RunMetadata? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let j = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let scan = j["scan"] as? String, let n = j["pattern_count"] as? Int, let r = j["range"] as? [Int], r.count == 2,
              let material = j["material"] as? String, let c = j["calibration"] as? [String: Any],
              let calib = RunMetadata.calibration(c) else {
            throw LaueError(.invalidFormat, file: path, "not a LaueMap run.json")
        }
        var shard: Shard? = nil
        if let s = j["shard"] as? [Int], s.count == 2 { shard = try Shard(index: s[0], count: s[1]) }
        let source: ScanSource
        do { source = try ScanSource(path: scan, options: j["source"] as? [String: Any] ?? [:]) } catch let e as LaueError {
            throw LaueError(.invalidFormat, file: path, item: "source", e.reason)
        }
        var m = RunMetadata(source: source, patternCount: n, shard: shard, range: r[0]..<r[1], material: material,
                            calibration: calib, pointSpreadSigma: j["psf_sigma_px"] as? Double, complete: j["complete"] as? Bool ?? false)
        if let sides = j["side_calibrations"] {
            guard let list = sides as? [[String: Any]], case let c = list.compactMap(RunMetadata.calibration), c.count == list.count else {
                throw LaueError(.invalidFormat, file: path, item: "side_calibrations", "not a list of calibrations")
            }
            m.sideCalibrations = c
        }
        if let ix = j["indexing"] as? [String: Any] {
            if let e = ix["energy_kev"] as? [Double], e.count == 2, e[0].isFinite, e[1].isFinite, e[0] < e[1] { m.indexing.energyRange = e[0]...e[1] }
            m.indexing.refineStrain = ix["strain"] as? Bool ?? false
            m.scanGuided = ix["scan_guided"] as? Bool ?? false
            for (name, k) in RunMetadata.indexingNumbers { if let v = ix[name] as? Double, v.isFinite { m.indexing[keyPath: k] = v } }
            for (name, k) in RunMetadata.indexingCounts { if let v = ix[name] as? Int { m.indexing[keyPath: k] = v } }
            // Runs recorded before the ambiguity rule (2026-12-07) had none: resuming one with the
            // rule would mix rows computed two ways, so their value reads as 0 (off) and is checked.
            if ix["unambiguous_indexed"] == nil { m.indexing.unambiguousIndexed = 0 }
            // Runs before the second try (2026-12-07) had none: not resumed with it.
            if ix["retry_seed_spots"] == nil { m.indexing.retrySeedSpots = 0 }
        }
        if let cl = j["classification"] as? [String: Any], let b = cl["beam_size_um"] as? Double, b.isFinite, b > 0 { m.beamSize = b }
        m.provenance = j["provenance"] as? [String: Any] ?? [:]
        m.invocations = j["invocations"] as? [[String: Any]] ?? []
        return m
    }

    /// Throws unless `other` describes the same run.
    func checkSameRun(as other: RunMetadata, folder: String) throws {
        func differ(_ what: String) -> LaueError {
            LaueError(.invalidArgument, file: folder, "--resume: the previous run in this folder has a different \(what); use --overwrite to start again")
        }
        if scan != other.scan { throw differ("scan (\(scan))") }
        if source != other.source { throw differ("scan layout (\(source.arguments.joined(separator: " ")))") }
        if patternCount != other.patternCount { throw differ("number of patterns (\(patternCount))") }
        if shard != other.shard { throw differ("shard (\(shard?.description ?? "none"))") }
        if let what = differentSetting(from: other) { throw differ(what) }
    }
}

/// The append-only part files of a run and their recovery after a kill.
enum PartFiles {
    static var patternsHeader: String { CSVTable.line(PatternRecord.columns) + "\n" }
    static var peaksHeader: String { CSVTable.line(SpotRecord.columns) + "\n" }

    /// Number of patterns already committed for `range`, after cutting any incomplete tail from the
    /// pattern part file and dropping spots of uncommitted patterns from the peak part file. Creates
    /// both files when absent.
    static func recover(patterns: String, peaks: String, range: Range<Int>) throws -> Int {
        let fm = FileManager.default
        guard fm.fileExists(atPath: patterns) else {
            try AtomicFile.write(patternsHeader, to: patterns)
            try AtomicFile.write(peaksHeader, to: peaks)
            return 0
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: patterns))
        var done = 0
        var keep = 0                                    // bytes of header + committed rows
        var lineStart = 0
        var first = true
        let bytes = [UInt8](data)
        var splitter = CSVRecordSplitter()              // records end at newlines outside quoted fields
        for i in 0..<bytes.count where splitter.ends(at: bytes[i]) {
            let line = String(decoding: bytes[lineStart..<i], as: UTF8.self)
            if first {
                guard line + "\n" == patternsHeader else {
                    throw LaueError(.invalidFormat, file: patterns, "not a part file of this LaueMap version (header differs); use --overwrite")
                }
                first = false
            } else {
                let f = CSVTable.fields(of: Substring(line))
                guard f.count == PatternRecord.columns.count, let idx = Int(f[PatternRecord.patternIndexColumn]),
                      idx == range.lowerBound + done else { break }
                done += 1
            }
            keep = i + 1
            lineStart = i + 1
        }
        if first { try AtomicFile.write(patternsHeader, to: patterns); keep = patternsHeader.utf8.count }
        if keep < bytes.count {
            guard truncate(patterns, off_t(keep)) == 0 else {
                throw LaueError(.unreadable, file: patterns, "cannot truncate: \(String(cString: strerror(errno)))")
            }
        }
        // Peaks: keep complete lines of committed patterns.
        let limit = range.lowerBound + done
        try AtomicFile.write(to: peaks) { temp in
            guard let out = FileHandle(forWritingAtPath: temp) ?? { _ = FileManager.default.createFile(atPath: temp, contents: nil); return FileHandle(forWritingAtPath: temp) }() else {
                throw LaueError(.unreadable, file: temp, "cannot write")
            }
            defer { try? out.close() }
            out.write(Data(peaksHeader.utf8))
            guard fm.fileExists(atPath: peaks) else { return }
            try LineReader.forEachLine(peaks) { line, number in
                guard number > 0 else { return }
                let f = CSVTable.fields(of: Substring(line))
                if SpotRecord.isComplete(fieldCount: f.count), let idx = Int(f[1]), idx < limit {
                    out.write(Data((line + "\n").utf8))
                }
            }
        }
        return done
    }

    static func appender(_ path: String) throws -> FileHandle {
        guard let h = FileHandle(forWritingAtPath: path) else { throw LaueError(.unreadable, file: path, "cannot open for appending") }
        try h.seekToEnd()
        return h
    }

    static func append(_ text: String, to handle: FileHandle, path: String) throws {
        guard !text.isEmpty else { return }
        do {
            try handle.write(contentsOf: Data(text.utf8))
            try handle.synchronize()
        } catch {
            throw LaueError(.unreadable, file: path, "cannot append: " + DiskSpace.reason(for: error, writing: path))
        }
    }
}

/// Streams the complete records of a CSV file, each with its number (a record ends at a newline outside
/// quoted fields, so a quoted field may hold newlines; a final record without a newline is ignored: it
/// is an interrupted write).
enum LineReader {
    static func forEachLine(_ path: String, _ body: (String, Int) throws -> Void) throws {
        guard let h = FileHandle(forReadingAtPath: path) else { throw LaueError(.unreadable, file: path, "cannot read") }
        defer { try? h.close() }
        var pending = [UInt8]()
        var number = 0
        var splitter = CSVRecordSplitter()
        while true {
            let chunk = h.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            var start = 0
            let bytes = [UInt8](chunk)
            for i in 0..<bytes.count where splitter.ends(at: bytes[i]) {
                pending += bytes[start..<i]
                try body(String(decoding: pending, as: UTF8.self), number)
                number += 1
                pending.removeAll(keepingCapacity: true)
                start = i + 1
            }
            pending += bytes[start...]
        }
    }
}

/// How far the run in an output folder has got: for schedulers and status reports, which only look
/// at the files (a run may be going on in another process).
public struct RunProgress: Sendable, Equatable {
    /// The part of the scan (nil: the whole scan).
    public var shard: Shard?
    /// Pattern indices of the run.
    public var range: Range<Int>
    /// Patterns with a committed row (complete lines of the part file, or all when complete).
    public var done: Int
    public var complete: Bool

    /// Reads `folder/run.json` and counts committed rows; nil when the folder holds no run yet.
    public static func read(folder: String) throws -> RunProgress? {
        guard let m = try RunMetadata.read((folder as NSString).appendingPathComponent("run.json")) else { return nil }
        if m.complete { return RunProgress(shard: m.shard, range: m.range, done: m.range.count, complete: true) }
        let part = ((folder as NSString).appendingPathComponent(".work") as NSString).appendingPathComponent("patterns.part.csv")
        var lines = 0
        if let data = FileManager.default.contents(atPath: part) {
            var splitter = CSVRecordSplitter()
            lines = data.reduce(0) { splitter.ends(at: $1) ? $0 + 1 : $0 } - 1     // complete rows after the header
        }
        return RunProgress(shard: m.shard, range: m.range, done: min(max(lines, 0), m.range.count), complete: false)
    }
}
