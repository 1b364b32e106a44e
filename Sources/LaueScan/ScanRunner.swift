import Dispatch
import Foundation
import LaueCore
import LaueIO

/// A contiguous part of a scan: shard `index` (0-based) of `count` takes patterns
/// [index * n / count, (index + 1) * n / count).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 0, index < count else {
            throw LaueError(.invalidArgument, "shard \(index)/\(count): need 0 <= K < N (K is 0-based)")
        }
        self.index = index; self.count = count
    }

    /// Parses "K/N".
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw LaueError(.invalidArgument, "shard must be K/N (e.g. 0/4), not \"\(text)\"")
        }
        try self.init(index: k, count: n)
    }

    public func range(of total: Int) -> Range<Int> { (index * total / count)..<((index + 1) * total / count) }
    public var description: String { "\(index)/\(count)" }
}

/// How a scan run goes: parallelism, the part of the scan, resumption.
public struct ScanRunOptions: Sendable {
    /// Worker threads (default: all cores).
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    public var shard: Shard? = nil
    /// Continue the run found in the output folder instead of refusing to overwrite it.
    public var resume = false
    /// Replace a previous run in the output folder.
    public var overwrite = false
    /// Patterns per checkpoint (nil: 8 per worker, at least 16).
    public var batchSize: Int? = nil
    /// Point-spread sigma in pixels; nil: estimated over the scan (`PatternProcessor.estimatePointSpread`).
    public var pointSpreadSigma: Double? = nil
    /// Write results.h5 and the PNG maps when the run covers the whole scan.
    public var writeMapsAndHDF5 = true
    /// Stop after this many newly processed patterns (tests of interrupted runs); nil: run to the end.
    public var stopAfter: Int? = nil
    /// The command line that started this invocation (recorded in run.json's `invocations`).
    public var commandLine: [String] = []
    /// The config files it read (`--config`): path -> JSON text, recorded beside the command line.
    public var configFiles: [String: String] = [:]

    public init() {}
}

/// What a run did.
public struct ScanRunSummary: Sendable {
    public var range: Range<Int>
    public var resumedFrom: Int
    public var processed: Int
    /// Per class, failed and unindexed: over the whole range when the run completed, else over the
    /// patterns processed by this call.
    public var counts: [DefectClass: Int]
    public var failed: Int
    public var unindexed: Int
    public var seconds: Double
    public var pointSpreadSigma: Double?
    public var complete: Bool
    public var outputs: [String]
    /// Points indexed by the scan-guided second pass (from neighbours or orientation clusters).
    public var neighbourIndexed = 0
    /// Scratch-indexed points that took their neighbours' orientation (odd ones out, second pass).
    public var neighbourReplaced = 0
}

/// Events of a run, for progress bars and logs (called on the run's own thread).
public protocol ScanRunObserver: AnyObject {
    func scanStarted(total: Int, alreadyDone: Int, pointSpreadSigma: Double?)
    func scanProgress(done: Int, total: Int)
    func patternFailed(_ record: PatternRecord)
}

/// Runs the per-pattern pipeline over a scan (or one shard of it) into an output folder, streaming:
/// patterns are processed in parallel in batches, and each batch is appended in scan order to
/// append-only part files and flushed, so that memory stays bounded and a killed run can resume
/// exactly where its last complete batch ended. When the range is done, the part files become
/// `patterns.csv` and `peaks.csv` (renamed atomically) and, for a whole scan, `results.h5` and the
/// maps are written (docs/scan-pipeline.md).
public final class ScanRunner {
    public let scanPath: String
    /// The scan as given (path and layout options), recorded in run.json.
    public let source: ScanSource
    public let manifest: ScanManifest
    public let settings: ScanSettings
    public let output: String
    public var options: ScanRunOptions
    public weak var observer: ScanRunObserver?

    public convenience init(scan: String, settings: ScanSettings, output: String, options: ScanRunOptions = ScanRunOptions()) throws {
        try self.init(source: ScanSource(path: scan), settings: settings, output: output, options: options)
    }

    public init(source given: ScanSource, settings: ScanSettings, output: String, options: ScanRunOptions = ScanRunOptions()) throws {
        scanPath = URL(fileURLWithPath: given.path).standardizedFileURL.path
        var source = given
        source.path = scanPath
        source.channelMap = source.channelMap.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        self.source = source
        manifest = try ScanManifest.open(source)
        // Side detectors of the scan (34-ID-E) take part with their own calibrations unless the
        // settings give them.
        var settings = settings
        if settings.sideCalibrations.isEmpty { settings.sideCalibrations = try manifest.sideCalibrations() }
        guard settings.sideCalibrations.count == manifest.sideDetectors.count || manifest.sideDetectors.isEmpty else {
            throw LaueError(.invalidArgument, file: source.path,
                            "\(settings.sideCalibrations.count) side-detector calibrations for \(manifest.sideDetectors.count) side detectors")
        }
        if let mismatch = manifest.sideFrameMismatches(settings.sideCalibrations).compactMap({ $0 }).first {
            throw LaueError(.invalidFormat, mismatch)
        }
        self.settings = settings
        self.output = output
        self.options = options
    }

    var workFolder: String { (output as NSString).appendingPathComponent(".work") }
    var patternsPart: String { (workFolder as NSString).appendingPathComponent("patterns.part.csv") }
    var peaksPart: String { (workFolder as NSString).appendingPathComponent("peaks.part.csv") }
    var runFile: String { (output as NSString).appendingPathComponent("run.json") }
    public var patternsFile: String { (output as NSString).appendingPathComponent("patterns.csv") }
    public var peaksFile: String { (output as NSString).appendingPathComponent("peaks.csv") }

    /// Reads a pattern's image (HDF5 reads are serialised by `HDF5File.library`).
    func read(_ p: ScanPattern) throws -> LaueImage { try manifest.readImage(p) }

    public func run() throws -> ScanRunSummary {
        let t0 = Date()
        let fm = FileManager.default
        let total = manifest.patterns.count
        let range = options.shard?.range(of: total) ?? 0..<total
        try fm.createDirectory(atPath: output, withIntermediateDirectories: true)
        // One writer per output folder (a second run, resume or merge is refused while this one lives).
        let lock = try FolderLock(folder: output, purpose: "scan run of \(scanPath)")
        defer { lock.release() }

        // Previous run in the folder?
        var metadata = RunMetadata(source: source, patternCount: total, shard: options.shard, range: range,
                                   material: settings.materials.map(\.name).joined(separator: ","), calibration: settings.calibration,
                                   pointSpreadSigma: nil, complete: false)
        metadata.record(settings)
        if let finished = try reconcile(with: &metadata, range: range) { return finished }
        // The detector's point spread, once per scan (every shard computes the same value).
        var settings = self.settings
        if let given = options.pointSpreadSigma { metadata.pointSpreadSigma = given }
        if metadata.pointSpreadSigma == nil, settings.classifierOptions.pointSpreadSigma == nil {
            let probe = try PatternProcessor(settings: settings)
            metadata.pointSpreadSigma = probe.estimatePointSpread(manifest, read: read)
        }
        if settings.classifierOptions.pointSpreadSigma == nil { settings.classifierOptions.pointSpreadSigma = metadata.pointSpreadSigma }
        metadata.provenance = Provenance.record(settings: settings, source: source, manifest: manifest)
        let previousInvocations = options.resume ? ((try? RunMetadata.read(runFile))??.invocations ?? []) : []
        var invocation: [String: Any] = ["command_line": options.commandLine, "started": Provenance.now()]
        if !options.configFiles.isEmpty {
            invocation["config_files"] = options.configFiles.keys.sorted().map { path -> [String: Any] in
                ["path": path, "settings": (try? JSONSerialization.jsonObject(with: Data(options.configFiles[path]!.utf8))) ?? options.configFiles[path]!]
            }
        }
        metadata.invocations = previousInvocations + [invocation]
        try metadata.write(runFile)

        // Part files: recover the committed prefix.
        try fm.createDirectory(atPath: workFolder, withIntermediateDirectories: true)
        for (part, final) in [(patternsPart, patternsFile), (peaksPart, peaksFile)] where !fm.fileExists(atPath: part) && fm.fileExists(atPath: final) {
            try fm.moveItem(atPath: final, toPath: part)      // finalisation was interrupted between renames
        }
        let done = try PartFiles.recover(patterns: patternsPart, peaks: peaksPart, range: range)
        let start = range.lowerBound + done
        observer?.scanStarted(total: range.count, alreadyDone: done, pointSpreadSigma: metadata.pointSpreadSigma)

        let jobs = max(1, options.jobs)
        let batch = options.batchSize ?? max(16, 8 * jobs)
        let processors = ProcessorBox(try (0..<jobs).map { _ in try PatternProcessor(settings: settings) })
        let searches = FrameSearchCache()
        // Only a run over the whole scan makes the scan-guided pass (shards and ranges do not).
        let keepSearches = settings.neighbourIndexing != nil && range == 0..<total
        let patternsOut = try PartFiles.appender(patternsPart)
        let peaksOut = try PartFiles.appender(peaksPart)
        defer { try? patternsOut.close(); try? peaksOut.close() }
        let limit = options.stopAfter.map { min(range.upperBound, start + $0) } ?? range.upperBound
        var (counts, processed, failed, unindexed, next) = try firstPass(start..<limit, of: range, settings: settings, batch: batch,
                                                                         processors: processors, searches: keepSearches ? searches : nil,
                                                                         patternsOut: patternsOut, peaksOut: peaksOut)
        var outputs: [String] = []
        var neighbourIndexed = 0, neighbourReplaced = 0
        let complete = next == range.upperBound
        if complete {
            try patternsOut.close(); try peaksOut.close()
            // The second pass writes new tables beside the part files, which stay as the first pass
            // left them: a run killed from here on redoes the pass from the same rows.
            var patternsSource = patternsPart, peaksSource = peaksPart
            if range == 0..<total, let guided = settings.neighbourIndexing {
                let pass = try NeighbourIndexing.run(patterns: patternsPart, peaks: peaksPart, work: workFolder,
                                                     manifest: manifest, processors: processors.items, options: guided, cache: searches)
                (patternsSource, peaksSource) = (pass.patterns, pass.peaks)
                neighbourIndexed = pass.indexed
                neighbourReplaced = pass.replaced
            }
            if range == 0..<total, !manifest.channels.isEmpty {
                let withChannels = (workFolder as NSString).appendingPathComponent("patterns.channels.csv")
                try ScanChannels.append(manifest.channels, to: patternsSource, output: withChannels)
                patternsSource = withChannels
            }
            // The finished run.json is written first (it needs disk space) and renamed into place last
            // (a rename needs none): a full disk fails before anything is published.
            metadata.complete = true
            metadata.invocations[metadata.invocations.count - 1]["finished"] = Provenance.now()
            let finished = (workFolder as NSString).appendingPathComponent("run.json.complete")
            try metadata.write(finished)
            if options.writeMapsAndHDF5 && range == 0..<total {
                outputs += try ScanOutputs.writeAll(patterns: patternsSource, peaks: peaksSource, folder: output, work: workFolder,
                                                    materials: settings.materials, title: (scanPath as NSString).lastPathComponent,
                                                    provenance: metadata.provenance)
            }
            try fm.moveItemReplacing(peaksSource, peaksFile)
            try fm.moveItemReplacing(patternsSource, patternsFile)
            outputs = [patternsFile, peaksFile] + outputs
            // Totals over the whole range (a resumed run only saw part of it).
            counts = [:]; failed = 0; unindexed = 0
            try ScanOutputs.forEachPattern(patternsFile) { r in
                counts[r.defectClass, default: 0] += 1
                if r.status == .failed { failed += 1 }
                if r.status == .unindexed { unindexed += 1 }
            }
            try fm.moveItemReplacing(finished, runFile)
            try? fm.removeItem(atPath: workFolder)
        }
        return ScanRunSummary(range: range, resumedFrom: done, processed: processed, counts: counts, failed: failed,
                              unindexed: unindexed, seconds: Date().timeIntervalSince(t0),
                              pointSpreadSigma: metadata.pointSpreadSigma, complete: complete, outputs: outputs,
                              neighbourIndexed: neighbourIndexed, neighbourReplaced: neighbourReplaced)
    }

    /// A previous run in the output folder: removed with `overwrite`, refused without `resume`, else
    /// checked to be the same run (settings, point spread), whose point spread `metadata` takes. Returns
    /// the summary of a previous run that is already complete (nothing left to do).
    private func reconcile(with metadata: inout RunMetadata, range: Range<Int>) throws -> ScanRunSummary? {
        let fm = FileManager.default
        guard let previous = try RunMetadata.read(runFile) else { return nil }
        if options.overwrite {
            try? fm.removeItem(atPath: workFolder)
            for f in [patternsFile, peaksFile] { try? fm.removeItem(atPath: f) }
            ScanOutputs.removeFinalOutputs(in: output)
        } else if !options.resume {
            throw LaueError(.invalidArgument, file: output,
                            "holds a previous run (run.json); use --resume to continue it or --overwrite to replace it")
        } else {
            try previous.checkSameRun(as: metadata, folder: output)
            if let given = options.pointSpreadSigma, given != previous.pointSpreadSigma {
                throw LaueError(.invalidArgument, file: output,
                                "--resume: the previous run in this folder used point spread \(previous.pointSpreadSigma.map { String($0) } ?? "none"), not --psf \(given); use --overwrite to start again")
            }
            metadata.pointSpreadSigma = previous.pointSpreadSigma
            if previous.complete {
                observer?.scanStarted(total: range.count, alreadyDone: range.count, pointSpreadSigma: previous.pointSpreadSigma)
                return ScanRunSummary(range: range, resumedFrom: range.count, processed: 0, counts: [:], failed: 0, unindexed: 0,
                                      seconds: 0, pointSpreadSigma: previous.pointSpreadSigma, complete: true, outputs: [])
            }
        }
        return nil
    }

    /// The first pass over `patterns` (part of `range`): batches read, searched, indexed and classified
    /// on all processors, their spots then rows appended to the part files. With `searches`, the frame
    /// searches the scan-guided pass will need are kept there. Returns the batch totals and where it
    /// stopped.
    private func firstPass(_ patterns: Range<Int>, of range: Range<Int>, settings: ScanSettings, batch: Int,
                           processors: ProcessorBox, searches: FrameSearchCache?, patternsOut: FileHandle,
                           peaksOut: FileHandle) throws -> (counts: [DefectClass: Int], processed: Int, failed: Int, unindexed: Int, next: Int) {
        let material = settings.material, seededMinimum = settings.indexingOptions.seededMinimumIndexed
        var counts: [DefectClass: Int] = [:]
        var processed = 0, failed = 0, unindexed = 0
        var next = patterns.lowerBound
        while next < patterns.upperBound {
            let end = min(next + batch, patterns.upperBound)
            let base = next
            let manifest = self.manifest
            let results = processors.map(end - next) { processor, k in
                let pattern = manifest.patterns[base + k]
                let search = processor.searchFrame(pattern) { try manifest.readImage($0) }
                let result = processor.process(search, of: pattern)
                // The points the scan-guided pass will try keep their peaks (not searched again there).
                if let searches {
                    if NeighbourIndexing.isCandidate(result.record, material: material, minimumPeaks: seededMinimum) {
                        searches.store(pattern.index, search)
                    } else if result.record.isIndexed(as: material) {
                        searches.store(pattern.index, search, likely: true)
                    }
                }
                return result
            }
            // Spots first, then the rows that commit them.
            var peakText = "", patternText = ""
            for r in results {
                for s in r.spots { peakText += s.csvLine + "\n" }
                patternText += r.record.csvLine + "\n"
                counts[r.record.defectClass, default: 0] += 1
                if r.record.status == .failed { failed += 1; observer?.patternFailed(r.record) }
                if r.record.status == .unindexed { unindexed += 1 }
            }
            try PartFiles.append(peakText, to: peaksOut, path: peaksPart)
            try PartFiles.append(patternText, to: patternsOut, path: patternsPart)
            processed += end - next
            next = end
            observer?.scanProgress(done: next - range.lowerBound, total: range.count)
        }
        return (counts, processed, failed, unindexed, next)
    }
}

final class ProcessorBox: @unchecked Sendable {
    let items: [PatternProcessor]
    init(_ items: [PatternProcessor]) { self.items = items }

    /// `body(processor, k)` for k in 0..<count on all processors at once (worker w takes k = w, w + n,
    /// ...); results in order of k.
    func map(_ count: Int, _ body: @Sendable (PatternProcessor, Int) -> PatternResult) -> [PatternResult] {
        let results = Slots<PatternResult>(count: count)
        let workers = min(items.count, count)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var k = w
            while k < count {
                results.set(k, body(items[w], k))
                k += workers
            }
        }
        return results.all.map { $0! }
    }
}

extension FileManager {
    /// rename(2): atomic, replaces the destination.
    func moveItemReplacing(_ from: String, _ to: String) throws {
        guard rename(from, to) == 0 else {
            throw LaueError(.unreadable, file: to, "cannot move \(from) into place: \(String(cString: strerror(errno)))")
        }
    }
}
