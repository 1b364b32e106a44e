import ArgumentParser
import Foundation
import LaueCluster
import LaueCore
import LaueIO
import LaueIndexing
import LaueScan

struct ScanSubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Run a scan as a SLURM (or PBS) job array of shards, then merge them (docs/cluster.md).",
        discussion: """
            Writes OUT/cluster/shards.sbatch (one array task per shard, each running 'scan run --shard K/N \
            --resume' into OUT/shards/shard-K) and OUT/cluster/merge.sbatch, submits the array and a merge job \
            that starts after every shard succeeded. Logs: OUT/cluster/logs/shard-K.log and merge.log. \
            Follow with 'scan status OUT'; redo failed shards with 'scan resubmit OUT'.
            """
    )

    @OptionGroup var input: ScanInput

    @Option(help: "Output folder (shards in OUT/shards, merged results in OUT).")
    var out: String

    @Option(help: "Number of shards (array tasks).")
    var shards: Int

    @Option(help: "SLURM partition or PBS queue.")
    var partition: String?

    @Option(help: "Account or project to charge.")
    var account: String?

    @Option(help: "Wall-clock limit of one shard task, HH:MM:SS.")
    var time: String?

    @Option(help: "Cores per shard task (scan run --jobs).")
    var cpusPerTask: Int = 4

    @Option(help: "Extra scheduler directive, verbatim (repeatable), e.g. --directive=--mem=8G or --directive='-l filesystems=home:eagle' (with '=' when the value starts with a dash).")
    var directive: [String] = []

    @Option(help: "Batch scheduler: slurm or pbs.")
    var scheduler: String = "slurm"

    @Option(help: "The lauemap executable the tasks run (default: this one).")
    var lauemap: String?

    @Option(help: "Detector point-spread sigma in pixels, passed to every shard (default: estimated).")
    var psf: Double?

    @Option(help: "Beam size in micrometres, passed to every shard.")
    var beamSize: Double?

    @Flag(help: "Print the scripts and the submission commands; submit nothing.")
    var dryRun = false

    @Flag(help: "Wait for the merge and report per-shard status (exit status 1 if a shard or the merge failed).")
    var wait = false

    @Option(help: "With --wait: give up waiting after this many seconds (the jobs go on).")
    var timeout: Double?

    func run() throws {
        try reportingErrors {
            guard let kind = BatchSchedulerKind(rawValue: scheduler) else {
                throw LaueError(.invalidArgument, "--scheduler must be slurm or pbs, not \"\(scheduler)\"")
            }
            let (manifest, calibPath) = try input.open()
            _ = try LaueToolsCalibration.read(path: calibPath)
            _ = try Material.loadList(input.material)
            var plan = ClusterPlan(scan: input.scan, calibration: calibPath, material: input.material, output: out,
                                   patternCount: manifest.patterns.count, shards: shards, lauemap: lauemap ?? currentExecutable())
            plan.scheduler = kind
            plan.partition = partition
            plan.account = account
            plan.time = time
            plan.cpusPerTask = cpusPerTask
            plan.directives = directive
            if let psf { plan.runArguments += ["--psf", String(psf)] }
            if let beamSize { plan.runArguments += ["--beam-size", String(beamSize)] }
            _ = try input.indexing(IndexingOptions())
            plan.runArguments += input.runArguments
            try plan.validate()
            let run = ClusterRun(plan: plan)
            if dryRun { emit(run.dryRun()); return }
            let ids = try run.submit()
            emit("submitted \(plan.shards) shards of \(plan.patternCount) patterns as job \(ids.shards), merge job \(ids.merge) (\(kind.rawValue)); "
                 + "follow with: lauemap scan status \(plan.output)")
            if wait { try waitAndReport(run, timeout: timeout) }
        }
    }
}

struct ScanResubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resubmit",
        abstract: "Resubmit the failed shards of a 'scan submit' run (finished rows are kept) and a new merge job."
    )

    @Argument(help: "Output folder of scan submit.")
    var out: String

    @Option(help: "Shard to resubmit (repeatable; default: every failed shard).")
    var shard: [Int] = []

    @Flag(help: "Wait for the merge and report per-shard status.")
    var wait = false

    @Option(help: "With --wait: give up waiting after this many seconds (the jobs go on).")
    var timeout: Double?

    func run() throws {
        try reportingErrors {
            let run = try ClusterRun.open(output: out)
            let ids = try run.resubmit(shards: shard.isEmpty ? nil : shard)
            emit(ids.shards.isEmpty ? "resubmitted the merge as job \(ids.merge)"
                 : "resubmitted as job \(ids.shards.joined(separator: ", ")), merge job \(ids.merge)")
            if wait { try waitAndReport(run, timeout: timeout) }
        }
    }
}

struct ScanStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per-shard status of a 'scan submit' run (exit status 1 once a shard or the merge has failed)."
    )

    @Argument(help: "Output folder of scan submit.")
    var out: String

    @Flag(help: "Wait until the run is merged or cannot go on.")
    var wait = false

    @Option(help: "With --wait: give up waiting after this many seconds.")
    var timeout: Double?

    func run() throws {
        try reportingErrors {
            let run = try ClusterRun.open(output: out)
            if wait { try waitAndReport(run, timeout: timeout); return }
            let s = try run.status()
            emit(statusReport(s, run.plan))
            if s.isFinished && !s.succeeded { throw ExitCode(1) }
        }
    }
}

/// Waits, printing each change of the summary to standard error, then the full report; exit status 1
/// unless merged.
func waitAndReport(_ run: ClusterRun, timeout: Double?) throws {
    let s = try run.wait(timeout: timeout) { s in
        FileHandle.standardError.write(Data("\(ISO8601DateFormatter().string(from: Date())) \(s.summary)\n".utf8))
    }
    emit(statusReport(s, run.plan))
    if !s.succeeded { throw ExitCode(1) }
}

func statusReport(_ s: ClusterStatus, _ plan: ClusterPlan) -> String {
    var lines = [s.summary]
    if !s.neverStarting.isEmpty {
        lines.append("can never start (the partition, QOS or account cannot grant what they ask): " + s.neverStarting.joined(separator: ", "))
    }
    for shard in s.shards {
        var line = String(format: "shard %d  patterns %d..<%d  %d/%d  %@", shard.index, shard.range.lowerBound, shard.range.upperBound,
                          shard.done, shard.range.count, shard.state.rawValue)
        if let job = shard.job { line += "  job \(job)" }
        if shard.state == .failed || shard.state == .notSubmitted {
            line += "  log: \(shard.log)"
            lines.append(line)
            lines += lastLines(shard.log, 3).map { "    | " + $0 }
        } else {
            lines.append(line)
        }
    }
    switch s.merge {
    case .complete: lines.append("merged into \(plan.output) (patterns.csv, peaks.csv, results.h5, maps/)")
    case .failed:
        lines.append("merge failed (job \(s.mergeJob ?? "?")); log: \(s.mergeLog)")
        lines += lastLines(s.mergeLog, 5).map { "    | " + $0 }
        lines.append("resubmit the merge with: lauemap scan resubmit \(plan.output)")
    case .blocked:
        lines.append("resubmit the failed shards (their finished rows are kept) with: lauemap scan resubmit \(plan.output)")
    default: break
    }
    return lines.joined(separator: "\n")
}

func lastLines(_ path: String, _ n: Int) -> [String] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return ["(no log yet)"] }
    return Array(text.split(separator: "\n").suffix(n).map(String.init))
}

/// Absolute path of the running lauemap (what the shard tasks run by default).
func currentExecutable() -> String {
    if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
    return Bundle.main.executablePath ?? CommandLine.arguments[0]
}
