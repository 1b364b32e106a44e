import Foundation
import LaueCore
import LaueIO

/// Joins the output folders of the shards of one scan into one output folder, as if the scan had
/// run in one piece: rows in scan order, then `results.h5` and the maps.
public enum ScanMerge {
    /// With scan-guided indexing (recorded in the shards' run.json), the merged rows get the second
    /// pass (`NeighbourIndexing`) over the whole scan, on `jobs` threads, reading the scan's images again.
    /// `material` and `otherPhases` are those the shards were run with (`ScanSettings`).
    public static func merge(_ folders: [String], into output: String, material: Material, otherPhases: [Material] = [],
                             jobs: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> [String] {
        let materials = [material] + otherPhases
        let names = materials.map(\.name).joined(separator: ",")
        guard !folders.isEmpty else { throw LaueError(.invalidArgument, "scan merge: no input folders") }
        var parts: [(RunMetadata, String)] = []
        for f in folders {
            let run = (f as NSString).appendingPathComponent("run.json")
            guard let m = try RunMetadata.read(run) else { throw LaueError(.missingData, file: f, "no run.json: not a scan run output folder") }
            guard m.complete else {
                throw LaueError(.invalidArgument, file: f, "the run is not complete (\(m.shard.map { "shard \($0)" } ?? "whole scan")); finish it with scan run --resume")
            }
            parts.append((m, f))
        }
        parts.sort { $0.0.range.lowerBound < $1.0.range.lowerBound }
        let first = parts[0].0
        for (m, f) in parts {
            if m.source != first.source || m.patternCount != first.patternCount {
                throw LaueError(.invalidArgument, file: f, "belongs to another run (scan \(m.scan), \(m.patternCount) patterns)")
            }
            if m.pointSpreadSigma != first.pointSpreadSigma {
                throw LaueError(.invalidArgument, file: f, "was run with another point spread (\(m.pointSpreadSigma.map { String($0) } ?? "none"))")
            }
            if let what = m.differentSetting(from: first) {
                throw LaueError(.invalidArgument, file: f, "was run with another \(what) than \(parts[0].1)")
            }
        }
        guard names == first.material else {
            throw LaueError(.invalidArgument, file: parts[0].1, "was run with material \(first.material), not \(names)")
        }
        // Coverage: contiguous, no gap, no overlap.
        var expected = 0
        for (m, f) in parts {
            if m.range.lowerBound > expected { throw LaueError(.missingData, file: f, "patterns \(expected)..<\(m.range.lowerBound) are in no shard given") }
            if m.range.lowerBound < expected { throw LaueError(.invalidArgument, file: f, "overlaps another shard (patterns from \(m.range.lowerBound))") }
            expected = m.range.upperBound
        }
        if expected != first.patternCount { throw LaueError(.missingData, "scan merge: patterns \(expected)..<\(first.patternCount) are in no shard given") }

        let fm = FileManager.default
        try fm.createDirectory(atPath: output, withIntermediateDirectories: true)
        let lock = try FolderLock(folder: output, purpose: "scan merge of \(folders.count) shards")
        defer { lock.release() }
        let work = (output as NSString).appendingPathComponent(".work")
        try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        let patterns = (work as NSString).appendingPathComponent("patterns.part.csv")
        let peaks = (work as NSString).appendingPathComponent("peaks.part.csv")
        try concatenate(parts.map { (($0.1 as NSString).appendingPathComponent("patterns.csv"), $0.0.range) }, header: PartFiles.patternsHeader,
                        indexColumn: PatternRecord.patternIndexColumn, every: true, to: patterns)
        try concatenate(parts.map { (($0.1 as NSString).appendingPathComponent("peaks.csv"), $0.0.range) }, header: PartFiles.peaksHeader,
                        indexColumn: SpotRecord.columns.firstIndex(of: "pattern_index")!, every: false, to: peaks)
        let settings = first.settings(materials: materials)
        var (patternsSource, peaksSource) = (patterns, peaks)
        // The scan itself is needed by the second pass; without one, only for its recorded channels.
        let manifest = settings.neighbourIndexing != nil ? try ScanManifest.open(first.source) : try? ScanManifest.open(first.source)
        if let guided = settings.neighbourIndexing, let manifest {
            let processors = try (0..<max(1, jobs)).map { _ in try PatternProcessor(settings: settings) }
            (patternsSource, peaksSource, _, _) = try NeighbourIndexing.run(patterns: patterns, peaks: peaks, work: work,
                                                                            manifest: manifest, processors: processors, options: guided)
        }
        if let channels = manifest?.channels, !channels.isEmpty {
            let withChannels = (work as NSString).appendingPathComponent("patterns.channels.csv")
            try ScanChannels.append(channels, to: patternsSource, output: withChannels)
            patternsSource = withChannels
        }
        // The merged run.json is written before anything is published and renamed into place last.
        var merged = first
        merged.shard = nil
        merged.range = 0..<first.patternCount
        merged.complete = true
        merged.invocations = first.invocations + [["merged_shards": folders, "finished": Provenance.now()]]
        let finished = (work as NSString).appendingPathComponent("run.json.complete")
        try merged.write(finished)
        let outputs = try ScanOutputs.writeAll(patterns: patternsSource, peaks: peaksSource, folder: output, work: work, materials: materials,
                                               title: (first.scan as NSString).lastPathComponent, provenance: first.provenance)
        let finalPatterns = (output as NSString).appendingPathComponent("patterns.csv")
        let finalPeaks = (output as NSString).appendingPathComponent("peaks.csv")
        try fm.moveItemReplacing(peaksSource, finalPeaks)
        try fm.moveItemReplacing(patternsSource, finalPatterns)
        try fm.moveItemReplacing(finished, (output as NSString).appendingPathComponent("run.json"))
        try? fm.removeItem(atPath: work)
        return [finalPatterns, finalPeaks] + outputs
    }

    /// Writes `header` then every file's lines after its header, checking each header and that the
    /// file holds its shard's rows: with `every`, exactly one row per pattern of its range in order;
    /// otherwise rows of patterns within its range, in order. A truncated or edited shard is refused.
    static func concatenate(_ files: [(String, Range<Int>)], header: String, indexColumn: Int, every: Bool, to path: String) throws {
        let out = try TextSink(path)
        try out.write(header)
        let columns = CSVTable.fields(of: Substring(header.dropLast())).count
        for (f, range) in files {
            var next = range.lowerBound
            try LineReader.forEachLine(f) { line, number in
                if number == 0 {
                    guard line + "\n" == header else { throw LaueError(.invalidFormat, file: f, "unexpected header: \(line.prefix(80))") }
                    return
                }
                let fields = CSVTable.fields(of: Substring(line))
                guard fields.count == columns, indexColumn < fields.count, let index = Int(fields[indexColumn]) else {
                    throw LaueError(.invalidFormat, file: f, item: "line \(number + 1)", "not a complete row of \(columns) columns: the shard's table is damaged; run the shard again")
                }
                let expected = every ? index == next : (index >= next && index < range.upperBound)
                guard expected else {
                    throw LaueError(.invalidFormat, file: f, item: "line \(number + 1)",
                                    "pattern \(index) where \(every ? "pattern \(next)" : "patterns \(next)..<\(range.upperBound)") belongs: the shard's table is damaged or not its own; run the shard again")
                }
                next = every ? index + 1 : index
                try out.write(line + "\n")
            }
            if every && next != range.upperBound {
                throw LaueError(.missingData, file: f, "holds patterns \(range.lowerBound)..<\(next) of its \(range.lowerBound)..<\(range.upperBound): truncated; run the shard again with --resume")
            }
        }
        try out.close()
    }
}
