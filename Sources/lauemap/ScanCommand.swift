import ArgumentParser
import Foundation
import LaueCore
import LaueIO
import LaueIndexing
import LaueScan

struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Process whole scans: classify every pattern, merge shards.",
        subcommands: [ScanRunCommand.self, ScanMergeCommand.self, ScanSubmitCommand.self, ScanStatusCommand.self, ScanResubmitCommand.self, ScanEvaluateCommand.self]
    )
}

struct ScanRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Peak search, indexing and defect classification of every pattern of a scan.",
        discussion: """
            SCAN is a folder with scan.csv (file,x_um,y_um) or an APS-style HDF5 scan. Writes OUT/patterns.csv, \
            OUT/peaks.csv, OUT/results.h5 and OUT/maps/*.png (docs/scan-pipeline.md). A killed run continues \
            with --resume; --shard K/N (K = 0..N-1) processes one contiguous part, joined by 'scan merge'.
            """
    )

    @OptionGroup var input: ScanInput

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "Worker threads (default: all cores).")
    var jobs: Int?

    @Flag(help: "Continue the run in OUT where it stopped.")
    var resume = false

    @Flag(help: "Replace a previous run in OUT.")
    var overwrite = false

    @Option(help: "Process shard K of N (0-based), e.g. 0/4.")
    var shard: String?

    @Option(help: "Detector point-spread sigma in pixels (default: estimated over the scan).")
    var psf: Double?

    @Option(help: "Beam size in micrometres (length for the GND density estimate).")
    var beamSize: Double = 0.5

    @Option(help: ArgumentHelp("Exit with status 1 when more than this many patterns failed (default: only when all did).",
                               discussion: "The outputs are written all the same; failed rows carry their reasons in patterns.csv."))
    var maxFailed: Int?

    @Flag(help: "No progress output.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            if let maxFailed, maxFailed < 0 { throw LaueError(.invalidArgument, "--max-failed must be at least 0, not \(maxFailed)") }
            let (_, calibPath) = try input.open()
            let calibration = try LaueToolsCalibration.read(path: calibPath)
            var settings = ScanSettings(material: try Material.load(input.material), calibration: calibration)
            settings.classifierOptions.beamSize = beamSize
            settings.indexingOptions = try input.indexing(settings.indexingOptions)
            if input.scratchOnly { settings.neighbourIndexing = nil }
            var options = ScanRunOptions()
            if let jobs { guard jobs >= 1 else { throw LaueError(.invalidArgument, "--jobs must be at least 1") }; options.jobs = jobs }
            options.resume = resume
            options.overwrite = overwrite
            options.shard = try shard.map { try Shard(parsing: $0) }
            options.pointSpreadSigma = psf
            let runner = try ScanRunner(scan: input.scan, settings: settings, output: out, options: options)
            let observer = RunObserver(quiet: quiet, label: options.shard.map { "shard \($0)" } ?? "scan")
            runner.observer = observer
            let s = try runner.run()
            var lines: [String] = []
            let done = s.range.count
            if s.complete {
                lines.append(String(format: "%d patterns (%@) in %.1f s%@; point spread %@", done,
                                    s.resumedFrom > 0 ? "\(s.resumedFrom) from a previous run" : "all new", s.seconds,
                                    s.processed > 0 ? String(format: ", %.1f patterns/s", Double(s.processed) / max(s.seconds, 1e-9)) : "",
                                    s.pointSpreadSigma.map { String(format: "%.3f px", $0) } ?? "fitted per pattern"))
                if s.neighbourIndexed > 0 { lines.append("\(s.neighbourIndexed) indexed from their neighbours' orientations (indexed_by in patterns.csv)") }
                if s.neighbourReplaced > 0 { lines.append("\(s.neighbourReplaced) scratch orientations replaced: odd ones out by their neighbours', other crystals by the particle's") }
                if s.failed > 0 || s.unindexed > 0 { lines.append("\(s.failed) failed, \(s.unindexed) unindexed (reasons in patterns.csv)") }
                lines.append("outputs in \(out): " + s.outputs.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))
            } else {
                lines.append("stopped after \(s.processed) patterns; continue with --resume")
            }
            emit(lines.joined(separator: "\n"))
            // A pipeline must see a run in which nothing could be read as a failure.
            if s.complete, done > 0, s.failed == done {
                throw LaueError(.missingData, file: input.scan, "every one of the \(done) patterns failed (reasons in \(out)/patterns.csv)")
            }
            if s.complete, let maxFailed, s.failed > maxFailed {
                throw LaueError(.missingData, file: input.scan, "\(s.failed) patterns failed, more than --max-failed \(maxFailed) (reasons in \(out)/patterns.csv)")
            }
        }
    }
}

/// The scan, its calibration and material: shared by `scan run` and `scan submit`.
struct ScanInput: ParsableArguments {
    @Argument(help: "Scan folder (scan.csv) or HDF5 scan file.")
    var scan: String

    @Option(help: "Detector calibration (.det); default: calib.det in the scan folder.")
    var calib: String?

    @Option(help: "Material: built-in name or JSON material file.")
    var material: String

    @OptionGroup(title: "Indexing") var indexingArguments: IndexingArguments

    @OptionGroup(title: "Scan-guided indexing") var scanGuided: ScanGuidedArguments

    /// The indexing options these choose, on top of `base`.
    func indexing(_ base: IndexingOptions) throws -> IndexingOptions { try scanGuided.options(indexingArguments.options(base)) }

    /// Whether points left unindexed get the scan-guided second pass.
    var scratchOnly: Bool { scanGuided.scratchOnly }

    /// The same options as `scan run` arguments (for the shards of `scan submit`).
    var runArguments: [String] { indexingArguments.arguments + scanGuided.arguments }

    /// The scan's manifest and the calibration file to use.
    func open() throws -> (ScanManifest, String) {
        let manifest = try ScanManifest.open(scan)
        guard let path = calib ?? manifest.calibrationPath else {
            throw LaueError(.missingData, file: scan, "no --calib given and no calib.det in the scan folder")
        }
        return (manifest, path)
    }
}

final class RunObserver: ScanRunObserver {
    let quiet: Bool
    let label: String
    var progress: ProgressReporter?

    init(quiet: Bool, label: String) { self.quiet = quiet; self.label = label }

    func scanStarted(total: Int, alreadyDone: Int, pointSpreadSigma: Double?) {
        guard !quiet else { return }
        if alreadyDone > 0 { FileHandle.standardError.write(Data("\(label): resuming after \(alreadyDone) of \(total) patterns\n".utf8)) }
        progress = ProgressReporter(label: label, total: total, initial: alreadyDone)
    }

    func scanProgress(done: Int, total: Int) { if !quiet { progress?.update(done) } }

    func patternFailed(_ record: PatternRecord) {
        FileHandle.standardError.write(Data("\(label): pattern \(record.index) (\(record.file)) failed: \(record.reason)\n".utf8))
    }
}

struct ScanMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the output folders of the shards of one scan.",
        discussion: "Checks that the shards belong to one run and cover every pattern once."
    )

    @Argument(help: "Shard output folders.")
    var folders: [String]

    @Option(help: "Merged output folder.")
    var out: String

    @Option(help: "Material (for the orientation maps): built-in name or JSON material file.")
    var material: String

    func run() throws {
        try reportingErrors {
            let outputs = try ScanMerge.merge(folders, into: out, material: try Material.load(material))
            emit("merged \(folders.count) shards into \(out): " + outputs.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))
        }
    }
}

struct ScanEvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a scan run against ground truth (a simulated scan's truth.csv).",
        discussion: "Confusion matrix, recall/precision/F1, axis, spread and tilt errors, defect fractions."
    )

    @Argument(help: "Output folder of scan run (with patterns.csv).")
    var output: String

    @Option(help: "Ground truth table (default: truth.csv of the scan recorded in run.json).")
    var truth: String?

    func run() throws {
        try reportingErrors {
            let patterns = (output as NSString).appendingPathComponent("patterns.csv")
            let records = try ScanOutputs.readPatterns(patterns)
            var truthPath = truth
            var symmetry: [Mat3]? = nil
            let run = FileManager.default.contents(atPath: (output as NSString).appendingPathComponent("run.json"))
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
            if let name = run?["material"] as? String, let m = try? Material.load(name) { symmetry = m.symmetryRotations }
            if truthPath == nil, let j = run, let scan = j["scan"] as? String {
                var isDir: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: scan, isDirectory: &isDir)
                truthPath = ((isDir.boolValue ? scan : (scan as NSString).deletingLastPathComponent) as NSString).appendingPathComponent("truth.csv")
            }
            guard let t = truthPath else { throw LaueError(.missingData, file: output, "no --truth given and no run.json naming the scan") }
            let e = try ScanEvaluation(truth: try CSVTable.read(path: t), results: records, source: t, symmetry: symmetry)
            emit(e.report)
        }
    }
}
