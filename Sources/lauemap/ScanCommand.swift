import ArgumentParser
import Foundation
import LaueCore
import LaueIO
import LaueIndexing
import LaueReport
import LaueScan

struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Process whole scans: classify every pattern, merge shards.",
        subcommands: [ScanRunCommand.self, ScanInspectCommand.self, ScanExportCommand.self, ScanMergeCommand.self, ScanSubmitCommand.self, ScanStatusCommand.self, ScanResubmitCommand.self, ScanEvaluateCommand.self]
    )
}

struct ScanRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Peak search, indexing and defect classification of every pattern of a scan.",
        discussion: """
            SCAN is a folder with scan.csv (file,x_um,y_um), an APS-style HDF5 stack, an APS 34-ID-E folder of \
            per-point HDF5 files, a BLISS HDF5 file, or the first frame of a numbered series with --raster \
            (docs/scan-layouts.md; 'scan inspect' shows what is found). Writes OUT/patterns.csv, \
            OUT/peaks.csv, OUT/results.h5 and OUT/maps/*.png (docs/scan-pipeline.md). A killed run continues \
            with --resume; --shard K/N (K = 0..N-1) processes one contiguous part, joined by 'scan merge'. \
            --config FILE.json supplies options from a file (keys = long option names without dashes; options after it win); \
            the file is recorded in run.json.
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

    @Flag(help: "Do not write the HTML report (OUT/report/index.html, as lauemap report OUT writes it).")
    var noReport = false

    func run() throws {
        try reportingErrors {
            if let maxFailed, maxFailed < 0 { throw LaueError(.invalidArgument, "--max-failed must be at least 0, not \(maxFailed)") }
            let (_, calibPath) = try input.open()
            let calibration = try LaueToolsCalibration.read(path: calibPath)
            let materials = try Material.loadList(input.material)
            var settings = ScanSettings(material: materials[0], calibration: calibration)
            settings.otherPhases = Array(materials.dropFirst())
            settings.classifierOptions.beamSize = beamSize
            settings.indexingOptions = try input.indexing(settings.indexingOptions)
            if input.scratchOnly { settings.neighbourIndexing = nil }
            var options = ScanRunOptions()
            if let jobs { guard jobs >= 1 else { throw LaueError(.invalidArgument, "--jobs must be at least 1") }; options.jobs = jobs }
            options.resume = resume
            options.overwrite = overwrite
            options.shard = try shard.map { try Shard(parsing: $0) }
            options.pointSpreadSigma = psf
            options.commandLine = CommandLine.arguments
            options.configFiles = ConfigFile.contents(CommandLine.arguments)
            let runner = try ScanRunner(source: try input.source(), settings: settings, output: out, options: options)
            let grid = ScanGrid(x: runner.manifest.patterns.map(\.xUm), y: runner.manifest.patterns.map(\.yUm))
            for w in grid.warnings { FileHandle.standardError.write(Data("lauemap: warning: \(input.scan): \(w)\n".utf8)) }
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
                if !noReport && options.shard == nil { lines.append(writeReport()) }
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
    @OptionGroup(title: "Scan layout") var layout: ScanLayoutArguments
    var scan: String { layout.scan }

    @Option(help: "Detector calibration (.det); default: calib.det in the scan folder.")
    var calib: String?

    @Option(help: ArgumentHelp("Material: built-in name or JSON material file; several, comma-separated, for several phases.",
                               discussion: "The first is the scan's material: rows, classes and maps are about its grain where it is found. The others (a substrate, a second phase) are indexed in every pattern so that their spots are explained by their own grains; their maps are in maps/phases/ and /maps/phases/ of results.h5."))
    var material: String

    @OptionGroup(title: "Indexing") var indexingArguments: IndexingArguments

    @OptionGroup(title: "Scan-guided indexing") var scanGuided: ScanGuidedArguments

    /// The indexing options these choose, on top of `base`.
    func indexing(_ base: IndexingOptions) throws -> IndexingOptions { try scanGuided.options(indexingArguments.options(base)) }

    /// Whether points left unindexed get the scan-guided second pass.
    var scratchOnly: Bool { scanGuided.scratchOnly }

    /// The same options as `scan run` arguments (for the shards of `scan submit`).
    var runArguments: [String] { layout.arguments + indexingArguments.arguments + scanGuided.arguments }

    func source() throws -> ScanSource { try layout.source() }

    /// The scan's manifest and the calibration file to use.
    func open() throws -> (ScanManifest, String) {
        let manifest = try ScanManifest.open(try source())
        guard let path = calib ?? manifest.calibrationPath else {
            throw LaueError(.missingData, file: scan, "no --calib given and no calib.det in the scan folder")
        }
        return (manifest, path)
    }
}

/// Where the scan is and how to read its layout: shared by `scan run`, `scan submit` and `scan inspect`.
struct ScanLayoutArguments: ParsableArguments {
    @Argument(help: ArgumentHelp("Scan: folder with scan.csv, HDF5 scan file (APS stack or BLISS), APS 34-ID-E folder of per-point HDF5 files, or the first frame of a numbered series (with --raster).",
                                 valueName: "scan"))
    var scan: String

    @Option(help: ArgumentHelp("Raster of a numbered frame series, COLUMNSxROWS (e.g. 12x10); frames from the one named, x fastest.", valueName: "cols>x<rows"))
    var raster: String?

    @Option(name: .customLong("step-um"), help: ArgumentHelp("Step of a numbered series in micrometres, X or X,Y (default 1).", valueName: "x,y"))
    var step: String?

    @Flag(help: "A numbered series scanned in snake order (every other row reversed).")
    var snake = false

    @Option(help: "BLISS scan number (the N of group N.1; default: the only scan holding frames).")
    var scanNumber: Int?

    @Option(help: "HDF5 dataset of the frames: a BLISS detector name under N.1/measurement/ or a dataset path (default: the layout's own).")
    var dataset: String?

    @Option(help: ArgumentHelp("CSV map of channels on the scan's stage positions (an XRF map: x_um,y_um,<name>...): each pattern takes the nearest map point's values within half the map's step.",
                               valueName: "map.csv"))
    var channelMap: String?

    @Option(help: ArgumentHelp("The main detector of an APS 34-ID-E folder recorded on several detectors (its /entry1/detector/ID); the others are side detectors indexed jointly (default: the detector of the first file).",
                               discussion: "A side detector takes part when calib_<ID>.det (ID with characters other than letters, digits, '-', '.' and '_' as '_') is in the folder (docs/scan-layouts.md)."))
    var mainDetector: String?

    func source() throws -> ScanSource {
        if step != nil || snake, raster == nil { throw LaueError(.invalidArgument, "--step-um and --snake describe a numbered series: give --raster too") }
        if let n = scanNumber, n < 0 { throw LaueError(.invalidArgument, "--scan-number must be at least 0, not \(n)") }
        return ScanSource(path: scan, raster: try raster.map { try ScanRaster(parsing: $0) }, step: try step.map { try ScanSource.parseStep($0) },
                          snake: snake, scanNumber: scanNumber, dataset: dataset, channelMap: channelMap, mainDetector: mainDetector)
    }

    /// The layout options as arguments (for the shards of `scan submit`).
    var arguments: [String] { (try? source().arguments) ?? [] }
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

struct ScanInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show what a scan holds: layout, patterns, raster, steps, detector size, channels, missing points.",
        discussion: "Reads the scan as 'scan run' would (same layout options), and one frame; processes nothing."
    )

    @OptionGroup var layout: ScanLayoutArguments

    func run() throws {
        try reportingErrors {
            let manifest = try ScanManifest.open(try layout.source())
            emit((["scan: \(layout.scan)"] + ScanInspection(manifest).lines).joined(separator: "\n"))
        }
    }
}

struct ScanExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a run's orientation map as an Oxford .ctf (MTEX, orix, Channel 5), IPF maps and pole figures, in the lab or a tilted sample frame.",
        discussion: """
            scan run writes OUT/orientations.ctf in the lab frame; this writes one in the sample frame of a tilted \
            sample (e.g. --sample-tilt 40 at BM32, 45 at 34-ID-E): Bunge Euler angles of the rotation from the \
            sample frame to the crystal frame (x || a, z || c*), and OUT/maps/sample_tilt<DEG>/ with IPF maps of the \
            sample x, y and z axes and pole figures projected along sample z, docs/scan-pipeline.md.
            """
    )

    @Argument(help: "Output folder of scan run (with patterns.csv).")
    var output: String

    @Option(help: "Material(s) of the run, as given to scan run: built-in names or JSON material files, comma-separated.")
    var material: String

    @Option(help: "The .ctf to write (default: OUT/orientations_tilt<DEG>.ctf); the .ang goes beside it.")
    var ctf: String?

    // .unconditional: a negative tilt ("--sample-tilt -30") is a value, not an option.
    @Option(parsing: .unconditional, help: "Sample tilt in degrees: the sample frame is the lab frame turned by -tilt about lab y (LaueTools' sample2 frame at 40).")
    var sampleTilt: Double = 0

    func run() throws {
        try reportingErrors {
            guard sampleTilt.isFinite, abs(sampleTilt) <= 90 else { throw LaueError(.invalidArgument, "--sample-tilt must be within ±90 degrees") }
            let records = try ScanOutputs.readPatterns((output as NSString).appendingPathComponent("patterns.csv"))
            let materials = try Material.loadList(material)
            let names = materials.map(\.name).joined(separator: ",")
            // The run records its material: a .ctf must not put another phase's lattice over its orientations.
            let runFile = (output as NSString).appendingPathComponent("run.json")
            if let data = FileManager.default.contents(atPath: runFile), let run = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                let recorded = run["material"] as? String ?? ((run["provenance"] as? [String: Any])?["material"] as? [String: Any])?["name"] as? String
                if let recorded, recorded != names {
                    throw LaueError(.invalidArgument, file: runFile, item: "material", "the run used \(recorded), not --material \(material)")
                }
            }
            let path = ctf ?? (output as NSString).appendingPathComponent(String(format: "orientations_tilt%g.ctf", sampleTilt))
            let title = (output as NSString).lastPathComponent
            try AtomicFile.write(OrientationMapExport.ctf(records: records, materials: materials, title: title, sampleTiltDegrees: sampleTilt), to: path)
            let angPath = (path as NSString).deletingPathExtension + ".ang"
            try AtomicFile.write(OrientationMapExport.ang(records: records, materials: materials, title: title, sampleTiltDegrees: sampleTilt), to: angPath)
            emit("wrote \(path) and \(angPath) (\(records.filter { $0.status == .indexed }.count) indexed of \(records.count) patterns)")
            // IPF maps of the sample axes and pole figures in the same frame (the scan's material's rows).
            let folder = (output as NSString).appendingPathComponent(String(format: "maps/sample_tilt%g", sampleTilt))
            let figures = try SampleFrameFigures.write(records: records, material: materials[0], tiltDegrees: sampleTilt, folder: folder,
                                                      title: (output as NSString).lastPathComponent)
            emit("wrote \(figures.count) figures in \(folder): " + figures.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))
        }
    }
}

extension ScanRunCommand {
    /// The run's HTML report (OUT/report/index.html); a report that cannot be written is a warning (the
    /// results are complete without it).
    func writeReport() -> String {
        let folder = (out as NSString).appendingPathComponent(ScanOutputs.reportFolder)
        do {
            let run = try ReportedRun(folder: out)
            return "report: " + (try HTMLReport(runs: [run], title: "LaueMap report: \(run.name)").write(to: folder))
        } catch {
            FileHandle.standardError.write(Data("lauemap: warning: no report written: \(error)\n".utf8))
            return "no report (see the warning)"
        }
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

    @Option(help: "Material(s) of the shards, as given to scan run: built-in names or JSON material files, comma-separated.")
    var material: String

    func run() throws {
        try reportingErrors {
            let materials = try Material.loadList(material)
            let outputs = try ScanMerge.merge(folders, into: out, material: materials[0], otherPhases: Array(materials.dropFirst()))
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
            if let names = run?["material"] as? String, let m = try? Material.loadList(names).first { symmetry = m.symmetryRotations }
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
