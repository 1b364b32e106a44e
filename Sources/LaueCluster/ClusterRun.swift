import Foundation
import LaueCore
import LaueIO
import LaueScan

/// Where one shard stands.
public enum ShardState: String, Sendable {
    case notSubmitted = "not submitted"
    case pending, running, complete
    /// Left the queue without finishing (failed, killed, cancelled or out of time).
    case failed
}

/// Where the merge job stands.
public enum MergeState: String, Sendable {
    case notSubmitted = "not submitted"
    /// Queued behind the shards.
    case waiting
    case running, complete
    /// A shard failed, so the merge (afterok) cannot start until the shard is resubmitted.
    case blocked
    /// The merge job ended without producing the merged run.
    case failed
}

public struct ShardStatus: Sendable {
    public var index: Int
    public var range: Range<Int>
    /// Patterns with a committed row.
    public var done: Int
    public var state: ShardState
    /// The job (array id and index) that runs or ran the shard.
    public var job: String?
    public var log: String
}

public struct ClusterStatus: Sendable {
    public var shards: [ShardStatus]
    public var merge: MergeState
    public var mergeJob: String?
    public var mergeLog: String
    /// Jobs pending for a reason waiting cannot cure (`QueuedJob.neverStarts`): "id (reason)".
    public var neverStarting: [String] = []

    /// Nothing more will happen without the user: merged, or a shard or the merge failed.
    public var isFinished: Bool {
        merge == .complete || merge == .failed
            || (!shards.contains { $0.state == .pending || $0.state == .running } && shards.contains { $0.state != .complete })
    }
    public var succeeded: Bool { merge == .complete }
    public var failedShards: [ShardStatus] { shards.filter { $0.state == .failed || $0.state == .notSubmitted } }

    /// Counts per state, e.g. "shards: 2 complete, 1 running, 1 pending; merge waiting".
    public var summary: String {
        let order: [ShardState] = [.complete, .running, .pending, .failed, .notSubmitted]
        let counts = order.compactMap { s -> String? in
            let n = shards.filter { $0.state == s }.count
            return n > 0 ? "\(n) \(s.rawValue)" : nil
        }
        let done = shards.reduce(0) { $0 + $1.done }, total = shards.reduce(0) { $0 + $1.range.count }
        return "shards: " + counts.joined(separator: ", ") + " (\(done)/\(total) patterns); merge \(merge.rawValue)"
    }
}

/// One submission: which job runs which shard, and the merge job after them.
struct Submission: Codable {
    struct Task: Codable { var shard: Int; var job: String; var arrayIndex: Int? }
    var tasks: [Task]
    var merge: String?
    var submitted: String
}

/// A scan run split into shards on a batch scheduler: submission, status, waiting, resubmission of
/// failed shards. Everything is read back from the output folder, so any process can follow the run.
public struct ClusterRun: Sendable {
    public let plan: ClusterPlan
    public let system: BatchSystem

    public init(plan: ClusterPlan, system: BatchSystem? = nil) {
        self.plan = plan
        self.system = system ?? plan.scheduler.system
    }

    /// The cluster run in an output folder written by `submit`.
    public static func open(output: String, system: BatchSystem? = nil) throws -> ClusterRun {
        ClusterRun(plan: try ClusterPlan.read(output: output), system: system)
    }

    // MARK: Submission

    /// The scripts and the commands that `submit` would write and run.
    public func dryRun() -> String {
        let all = Array(0..<plan.shards)
        let arrayCommand = system.describeSubmission(script: plan.shardScript, array: all, afterSuccessOf: [], environment: [:])
        let mergeCommand = system.describeSubmission(script: plan.mergeScript, array: nil, afterSuccessOf: ["<shard job id>"], environment: [:])
        return """
            # \(plan.shardScript)
            \(BatchScript.shards(plan))
            # \(plan.mergeScript)
            \(BatchScript.merge(plan))
            # submission
            \(arrayCommand)
            \(mergeCommand)

            """
    }

    /// Writes the plan and the scripts into the output folder, submits the shard array and the merge
    /// job that depends on it. Returns the job ids (array, merge).
    @discardableResult
    public func submit() throws -> (shards: String, merge: String) {
        try plan.validate()
        let fm = FileManager.default
        for f in [plan.planFile, (plan.output as NSString).appendingPathComponent("run.json")] where fm.fileExists(atPath: f) {
            throw LaueError(.invalidArgument, file: plan.output,
                            "already holds a run (\((f as NSString).lastPathComponent)); follow it with 'lauemap scan status', or choose another --out")
        }
        for folder in [plan.schedulerLogFolder, (plan.output as NSString).appendingPathComponent("shards")] {
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try plan.write()
        try writeScripts()
        let all = Array(0..<plan.shards)
        let array = try system.submit(script: plan.shardScript, array: all, afterSuccessOf: [], environment: [:])
        var record = Submission(tasks: all.map { .init(shard: $0, job: array, arrayIndex: plan.shards > 1 || plan.scheduler == .slurm ? $0 : nil) },
                                merge: nil, submitted: ClusterRun.now())
        try appendSubmission(record)
        let merge = try system.submit(script: plan.mergeScript, array: nil, afterSuccessOf: [array], environment: [:])
        record.merge = merge
        try replaceLastSubmission(record)
        return (array, merge)
    }

    /// Resubmits the shards that failed (or `shards`, if given) with `--resume` semantics, and a new
    /// merge job after them. Refuses while other shards of the run are still queued or running.
    @discardableResult
    public func resubmit(shards requested: [Int]? = nil) throws -> (shards: [String], merge: String) {
        let status = try self.status()
        let active = status.shards.filter { $0.state == .pending || $0.state == .running }
        let redo: [Int]
        if let requested {
            for k in requested {
                guard k >= 0 && k < plan.shards else { throw LaueError(.invalidArgument, "no shard \(k): the run has shards 0..\(plan.shards - 1)") }
                if status.shards[k].state == .complete { throw LaueError(.invalidArgument, file: plan.shardFolder(k), "shard \(k) is complete; nothing to redo") }
            }
            redo = Array(Set(requested)).sorted()
        } else {
            redo = status.failedShards.map(\.index)
        }
        if !active.isEmpty {
            throw LaueError(.invalidArgument, file: plan.output,
                            "shards \(active.map { String($0.index) }.joined(separator: ", ")) are still queued or running; resubmit when they have ended ('lauemap scan status --wait')")
        }
        if redo.isEmpty && status.merge == .complete {
            throw LaueError(.invalidArgument, file: plan.output, "the run is complete; nothing to resubmit")
        }
        if status.merge == .waiting || status.merge == .blocked, let stale = status.mergeJob {
            try system.cancel([stale])          // its dependency can no longer be satisfied
        }
        try writeScripts()
        var tasks: [Submission.Task] = [], ids: [String] = []
        if plan.scheduler == .slurm || redo.count <= 1 {
            if !redo.isEmpty {
                let id = try system.submit(script: plan.shardScript, array: redo, afterSuccessOf: [], environment: [:])
                ids.append(id)
                tasks += redo.map { .init(shard: $0, job: id, arrayIndex: plan.scheduler == .slurm ? $0 : nil) }
            }
        } else {
            // PBS arrays are ranges: one array per contiguous run of shards, single jobs otherwise.
            var runs: [[Int]] = []
            for k in redo { if let last = runs.last?.last, last + 1 == k { runs[runs.count - 1].append(k) } else { runs.append([k]) } }
            for run in runs {
                let id = try system.submit(script: plan.shardScript, array: run, afterSuccessOf: [], environment: [:])
                ids.append(id)
                tasks += run.map { .init(shard: $0, job: id, arrayIndex: run.count > 1 ? $0 : nil) }
            }
        }
        var record = Submission(tasks: tasks, merge: nil, submitted: ClusterRun.now())
        try appendSubmission(record)
        let merge = try system.submit(script: plan.mergeScript, array: nil, afterSuccessOf: ids, environment: [:])
        record.merge = merge
        try replaceLastSubmission(record)
        return (ids, merge)
    }

    func writeScripts() throws {
        for (path, text) in [(plan.shardScript, BatchScript.shards(plan)), (plan.mergeScript, BatchScript.merge(plan))] {
            try AtomicFile.write(text, to: path)
            chmod(path, 0o755)
        }
    }

    // MARK: Status

    /// Asks the scheduler first, then reads the folders: a job that was not queued at the time of the
    /// query has finished writing.
    public func status() throws -> ClusterStatus {
        let submissions = try readSubmissions()
        let ids = Array(Set(submissions.flatMap { $0.tasks.map(\.job) + [$0.merge].compactMap { $0 } }))
        let queued = try system.queued(ids)
        var latest: [Int: Submission.Task] = [:]
        for s in submissions { for t in s.tasks { latest[t.shard] = t } }

        var shards: [ShardStatus] = []
        for k in 0..<plan.shards {
            let progress = try? RunProgress.read(folder: plan.shardFolder(k))
            let task = latest[k]
            var state: ShardState
            if let task, let q = queued.first(where: { $0.id == task.job && $0.arrayIndex == task.arrayIndex }) {
                state = q.isRunning ? .running : .pending
            } else if progress?.complete == true {
                state = .complete
            } else {
                state = task == nil ? .notSubmitted : .failed
            }
            let jobName = task.map { t in t.arrayIndex.map { plan.scheduler == .slurm ? "\(t.job)_\($0)" : t.job.replacingOccurrences(of: "[]", with: "[\($0)]") } ?? t.job }
            shards.append(ShardStatus(index: k, range: plan.range(ofShard: k), done: progress?.done ?? 0, state: state, job: jobName, log: plan.shardLog(k)))
        }

        let mergeJob = submissions.last?.merge
        let merged = (try? RunProgress.read(folder: plan.output))??.complete == true
        let anyFailed = shards.contains { $0.state == .failed || $0.state == .notSubmitted }
        var merge: MergeState
        if let mergeJob, let q = queued.first(where: { $0.id == mergeJob }) {
            merge = q.isRunning ? .running : (anyFailed ? .blocked : .waiting)
        } else if merged {
            merge = .complete
        } else if mergeJob == nil {
            merge = .notSubmitted
        } else if shards.allSatisfy({ $0.state == .complete }) {
            merge = .failed
        } else {
            merge = anyFailed ? .blocked : .waiting
        }
        let stuck = queued.filter(\.neverStarts).map { q in (q.arrayIndex.map { "\(q.id)_\($0)" } ?? q.id) + " (\(q.reason))" }
        return ClusterStatus(shards: shards, merge: merge, mergeJob: mergeJob, mergeLog: plan.mergeLog, neverStarting: stuck)
    }

    /// Polls until the run is merged or cannot go on, reporting each change of the summary. A merge
    /// job left waiting behind a failed shard is cancelled (resubmission queues a new one).
    public func wait(timeout: TimeInterval?, poll: TimeInterval = 2, report: (ClusterStatus) -> Void = { _ in }) throws -> ClusterStatus {
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        var last = ""
        while true {
            let s = try status()
            if s.summary != last { report(s); last = s.summary }
            if s.isFinished {
                if s.merge == .blocked, let stale = s.mergeJob { try? system.cancel([stale]) }
                return s
            }
            if !s.neverStarting.isEmpty {
                throw LaueError(.external, file: plan.output,
                                "jobs can never start: \(s.neverStarting.joined(separator: ", ")): the scheduler cannot grant what they ask (CPUs per task, nodes, time, account or QOS beyond the partition's limits); cancel them and resubmit with other resources ('lauemap scan submit --help')")
            }
            if let deadline, Date() >= deadline {
                throw LaueError(.external, file: plan.output,
                                "still running after \(Int(timeout ?? 0)) s (\(s.summary)); the jobs go on: follow them with 'lauemap scan status'")
            }
            Thread.sleep(forTimeInterval: poll)
        }
    }

    // MARK: jobs.json

    func readSubmissions() throws -> [Submission] {
        guard let data = FileManager.default.contents(atPath: plan.jobsFile) else { return [] }
        do { return try JSONDecoder().decode([Submission].self, from: data) } catch {
            throw LaueError(.invalidFormat, file: plan.jobsFile, "not a LaueMap job list (\(error))")
        }
    }

    func writeSubmissions(_ list: [Submission]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(list) + Data("\n".utf8), to: plan.jobsFile)
    }

    func appendSubmission(_ s: Submission) throws { try writeSubmissions(try readSubmissions() + [s]) }

    func replaceLastSubmission(_ s: Submission) throws {
        var list = try readSubmissions()
        if list.isEmpty { list = [s] } else { list[list.count - 1] = s }
        try writeSubmissions(list)
    }

    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
}
