import Foundation
import LaueCore
import LaueIO
import LaueScan

/// The batch system that runs the shards.
public enum BatchSchedulerKind: String, Codable, Sendable, CaseIterable {
    /// SLURM job arrays (`sbatch --array`), as at ESRF and most university clusters.
    case slurm
    /// PBS Pro job arrays (`qsub -J`), as at APS/ALCF (Polaris, Aurora).
    case pbs
}

/// One scan run split into shards on a cluster: the `scan run` arguments shared by every shard, the
/// number of shards and the resources of one array task. Saved as `OUT/cluster/plan.json`, so that
/// status, waiting and resubmission need only the output folder.
public struct ClusterPlan: Codable, Sendable, Equatable {
    /// Absolute path of the scan (folder with scan.csv, or HDF5 file).
    public var scan: String
    /// Absolute path of the calibration, or nil for calib.det in the scan folder.
    public var calibration: String?
    /// Built-in material name or absolute path of a JSON material file.
    public var material: String
    /// Absolute path of the output folder (shards in `shards/`, merged results at the top).
    public var output: String
    /// Number of patterns in the scan (fixes the shard ranges).
    public var patternCount: Int
    public var shards: Int
    public var scheduler: BatchSchedulerKind = .slurm
    /// SLURM partition or PBS queue.
    public var partition: String?
    /// Account or project to charge (`--account` / `-A`).
    public var account: String?
    /// Wall-clock limit of one shard task, HH:MM:SS (nil: the partition's default).
    public var time: String?
    /// Cores of one shard task; `scan run --jobs` uses all of them.
    public var cpusPerTask: Int = 4
    /// Extra scheduler directive lines, written verbatim after the generated ones.
    public var directives: [String] = []
    /// Absolute path of the `lauemap` executable the tasks run.
    public var lauemap: String
    /// Further `scan run` options (e.g. `--psf 1.2`), passed to every shard.
    public var runArguments: [String] = []
    /// Job name prefix.
    public var jobName: String

    public init(scan: String, calibration: String?, material: String, output: String, patternCount: Int, shards: Int,
                lauemap: String, jobName: String? = nil) {
        self.scan = ClusterPlan.absolute(scan)
        self.calibration = calibration.map(ClusterPlan.absolute)
        // A material file is named by its absolute path; a built-in name stays as it is.
        // (each of a comma-separated list of phases).
        self.material = material.split(separator: ",", omittingEmptySubsequences: false).map { m in
            FileManager.default.fileExists(atPath: String(m)) ? ClusterPlan.absolute(String(m)) : String(m)
        }.joined(separator: ",")
        self.output = ClusterPlan.absolute(output)
        self.patternCount = patternCount
        self.shards = shards
        self.lauemap = ClusterPlan.absolute(lauemap)
        self.jobName = jobName ?? "lauemap-" + (ClusterPlan.absolute(output) as NSString).lastPathComponent
    }

    /// Throws unless the plan can be submitted.
    public func validate() throws {
        guard shards >= 1 else { throw LaueError(.invalidArgument, "--shards must be at least 1") }
        guard patternCount >= shards else {
            throw LaueError(.invalidArgument, file: scan, "\(patternCount) patterns cannot be split into \(shards) shards")
        }
        guard cpusPerTask >= 1 else { throw LaueError(.invalidArgument, "--cpus-per-task must be at least 1") }
        if let time, time.range(of: #"^(\d+-)?\d+(:\d{2}){0,2}$"#, options: .regularExpression) == nil {
            throw LaueError(.invalidArgument, "--time must be HH:MM:SS (or D-HH:MM:SS), not \"\(time)\"")
        }
        guard FileManager.default.isExecutableFile(atPath: lauemap) else {
            throw LaueError(.invalidArgument, file: lauemap, "not an executable (the lauemap the shard tasks run)")
        }
        for name in [jobName] + [partition, account].compactMap({ $0 }) where name.contains(where: { $0.isWhitespace || $0 == "'" }) {
            throw LaueError(.invalidArgument, "\"\(name)\": names may not hold spaces or quotes")
        }
        // Scheduler directives and comments are lines of the script: a line break in any value would
        // start a command of its own (shell words are quoted, directive lines cannot be).
        let values: [(String, String)] = [("scan", scan), ("--out", output), ("--material", material), ("lauemap", lauemap)]
            + (calibration.map { [("--calib", $0)] } ?? []) + directives.map { ("--directive", $0) } + runArguments.map { ("a scan run option", $0) }
        for (what, value) in values where value.contains(where: { $0.isNewline || $0 == "\0" }) {
            throw LaueError(.invalidArgument, "\(what) \"\(value.debugDescription.dropFirst().dropLast())\": a line break cannot go into a batch script")
        }
    }

    /// Patterns of shard `k` (the same split as `scan run --shard k/N`); empty for a `k` outside the plan.
    public func range(ofShard k: Int) -> Range<Int> {
        guard let shard = try? Shard(index: k, count: shards) else { return 0..<0 }
        return shard.range(of: patternCount)
    }

    // MARK: Layout of the output folder

    public var clusterFolder: String { (output as NSString).appendingPathComponent("cluster") }
    public var planFile: String { (clusterFolder as NSString).appendingPathComponent("plan.json") }
    public var jobsFile: String { (clusterFolder as NSString).appendingPathComponent("jobs.json") }
    public var logFolder: String { (clusterFolder as NSString).appendingPathComponent("logs") }
    /// Where the scheduler's own output (e.g. its cancellation notices) goes.
    public var schedulerLogFolder: String { (logFolder as NSString).appendingPathComponent("scheduler") }
    public var shardScript: String { (clusterFolder as NSString).appendingPathComponent(scheduler == .slurm ? "shards.sbatch" : "shards.pbs") }
    public var mergeScript: String { (clusterFolder as NSString).appendingPathComponent(scheduler == .slurm ? "merge.sbatch" : "merge.pbs") }
    public func shardFolder(_ k: Int) -> String { ((output as NSString).appendingPathComponent("shards") as NSString).appendingPathComponent("shard-\(k)") }
    public func shardLog(_ k: Int) -> String { (logFolder as NSString).appendingPathComponent("shard-\(k).log") }
    public var mergeLog: String { (logFolder as NSString).appendingPathComponent("merge.log") }

    // MARK: Persistence

    public func write() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self) + Data("\n".utf8), to: planFile)
    }

    /// The plan of the cluster run in `output`.
    public static func read(output: String) throws -> ClusterPlan {
        let path = ((absolute(output) as NSString).appendingPathComponent("cluster") as NSString).appendingPathComponent("plan.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LaueError(.missingData, file: output, "no cluster/plan.json: not the output folder of 'lauemap scan submit'")
        }
        do { return try JSONDecoder().decode(ClusterPlan.self, from: data) } catch {
            throw LaueError(.invalidFormat, file: path, "not a LaueMap cluster plan (\(error))")
        }
    }

    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
    }
}
