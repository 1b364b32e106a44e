import Foundation
import LaueCore

/// A job the scheduler still holds (queued, running or finishing).
public struct QueuedJob: Sendable, Equatable {
    /// Job id as submission returned it (for an array: the array's id).
    public var id: String
    /// Array index, for array tasks.
    public var arrayIndex: Int?
    /// Scheduler state, e.g. PENDING, RUNNING (SLURM) or Q, R (PBS).
    public var state: String
    /// Why a pending job waits, as the scheduler says (SLURM's `%r`, e.g. Priority, Resources,
    /// PartitionConfig); empty when unknown.
    public var reason: String

    public init(id: String, arrayIndex: Int?, state: String, reason: String = "") {
        self.id = id; self.arrayIndex = arrayIndex; self.state = state; self.reason = reason
    }

    public var isRunning: Bool { ["RUNNING", "COMPLETING", "R", "E", "B"].contains(state) }

    /// SLURM pending reasons of a request the partition, QOS or account can never grant (more CPUs,
    /// nodes or time than its limits, an unknown account or QOS, unsatisfiable constraints): such a
    /// job waits forever.
    public static let neverStartingReasons: Set<String> = [
        "PartitionConfig", "PartitionNodeLimit", "PartitionTimeLimit", "BadConstraints", "InvalidAccount", "InvalidQOS",
        "QOSMaxCpuPerJobLimit", "QOSMaxNodePerJobLimit", "QOSMaxWallDurationPerJobLimit", "QOSMaxMemoryPerJob",
        "AssocMaxCpuPerJobLimit", "AssocMaxNodesPerJobLimit", "AssocMaxWallDurationPerJobLimit", "AccountNotAllowed", "QOSNotAllowed",
    ]

    /// Pending for a reason that cannot go away by waiting.
    public var neverStarts: Bool { !isRunning && QueuedJob.neverStartingReasons.contains(reason) }
}

/// The commands of a batch scheduler that a cluster run needs.
public protocol BatchSystem: Sendable {
    var kind: BatchSchedulerKind { get }
    /// Submits `script` as an array over `array`, or as one job; returns the job id.
    func submit(script: String, array: [Int]?, afterSuccessOf dependencies: [String], environment: [String: String]) throws -> String
    /// The jobs among `ids` (and their array tasks) that the scheduler still holds.
    func queued(_ ids: [String]) throws -> [QueuedJob]
    func cancel(_ ids: [String]) throws
    /// The command lines `submit` would run, for `--dry-run`.
    func describeSubmission(script: String, array: [Int]?, afterSuccessOf dependencies: [String], environment: [String: String]) -> String
}

extension BatchSchedulerKind {
    /// The scheduler's client commands, found on PATH.
    public var system: BatchSystem { self == .slurm ? SlurmSystem() : PBSSystem() }
}

/// SLURM: `sbatch --parsable`, `squeue`, `scancel`. Job state comes from `squeue`, not `sacct`
/// (accounting is often not set up, e.g. on a single-node test cluster).
public struct SlurmSystem: BatchSystem {
    public var kind: BatchSchedulerKind { .slurm }
    public init() {}

    func arguments(script: String, array: [Int]?, dependencies: [String]) -> [String] {
        var args = ["--parsable"]
        if let array { args.append("--array=" + BatchScript.arraySpec(array)) }
        if !dependencies.isEmpty { args.append("--dependency=afterok:" + dependencies.joined(separator: ":")) }
        return args + [script]
    }

    public func submit(script: String, array: [Int]?, afterSuccessOf dependencies: [String], environment: [String: String]) throws -> String {
        let out = try CommandLineTool.run("sbatch", arguments(script: script, array: array, dependencies: dependencies), environment: environment)
        // --parsable prints "id" or "id;cluster".
        guard let id = out.split(separator: "\n").last?.split(separator: ";").first.map(String.init), Int(id) != nil else {
            throw LaueError(.external, file: script, "sbatch printed no job id: \(out)")
        }
        return id
    }

    public func queued(_ ids: [String]) throws -> [QueuedJob] {
        guard !ids.isEmpty else { return [] }
        // All of the user's jobs, filtered here: squeue -j fails outright when one id has expired.
        let out = try CommandLineTool.run("squeue", ["-h", "-r", "-u", CommandLineTool.userName, "-o", "%F|%K|%T|%r"])
        let wanted = Set(ids)
        return out.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "|", maxSplits: 3, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count >= 3, wanted.contains(f[0]) else { return nil }
            return QueuedJob(id: f[0], arrayIndex: Int(f[1]), state: f[2], reason: f.count > 3 ? f[3] : "")
        }
    }

    public func cancel(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        _ = try CommandLineTool.run("scancel", ids)
    }

    public func describeSubmission(script: String, array: [Int]?, afterSuccessOf dependencies: [String], environment: [String: String]) -> String {
        let env = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\(BatchScript.quote($0.value)) " }.joined()
        return env + "sbatch " + arguments(script: script, array: array, dependencies: dependencies).map(BatchScript.quote).joined(separator: " ")
    }
}

/// PBS Pro: `qsub -J`, `qstat -t`, `qdel`. Written to the same template as SLURM; tested as script
/// text only (no PBS server on the test machines).
public struct PBSSystem: BatchSystem {
    public var kind: BatchSchedulerKind { .pbs }
    public init() {}

    func arguments(script: String, array: [Int]?, dependencies: [String], environment: [String: String]) -> [String] {
        var args: [String] = []
        if let array, array.count > 1 {
            // PBS takes only X-Y ranges: callers pass contiguous shards here.
            args += ["-J", "\(array.min()!)-\(array.max()!)"]
        }
        var env = environment
        if let array, array.count == 1 { env["LAUEMAP_SHARD"] = String(array[0]) }
        if !env.isEmpty { args += ["-v", env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")] }
        if !dependencies.isEmpty { args += ["-W", "depend=afterok:" + dependencies.joined(separator: ":")] }
        return args + [script]
    }

    public func submit(script: String, array: [Int]?, afterSuccessOf dependencies: [String], environment: [String: String]) throws -> String {
        if let array, array.count > 1, array.max()! - array.min()! + 1 != Set(array).count {
            throw LaueError(.invalidArgument, "PBS arrays take a contiguous range of shards; resubmit them one by one")
        }
        let out = try CommandLineTool.run("qsub", arguments(script: script, array: array, dependencies: dependencies, environment: environment))
        guard let id = out.split(separator: "\n").last.map({ $0.trimmingCharacters(in: .whitespaces) }), !id.isEmpty else {
            throw LaueError(.external, file: script, "qsub printed no job id")
        }
        return id
    }

    public func queued(_ ids: [String]) throws -> [QueuedJob] {
        guard !ids.isEmpty else { return [] }
        let out = try CommandLineTool.run("qstat", ["-t", "-u", CommandLineTool.userName])
        // Lines: "1234[2].server  name  user  time  S  queue"; ids are matched on their numeric part.
        func number(_ id: String) -> String { String(id.prefix { $0.isNumber }) }
        let wanted = Dictionary(ids.map { (number($0), $0) }, uniquingKeysWith: { a, _ in a })
        return out.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard f.count >= 5, let id = wanted[number(f[0])] else { return nil }
            var index: Int? = nil
            if let open = f[0].firstIndex(of: "["), let close = f[0].firstIndex(of: "]") {
                index = Int(f[0][f[0].index(after: open)..<close])
                if index == nil { return nil }          // the array's own line ("1234[]")
            }
            return QueuedJob(id: id, arrayIndex: index, state: f[f.count - 2])
        }
    }

    public func cancel(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        _ = try CommandLineTool.run("qdel", ids)
    }

    public func describeSubmission(script: String, array: [Int]?, afterSuccessOf dependencies: [String], environment: [String: String]) -> String {
        "qsub " + arguments(script: script, array: array, dependencies: dependencies, environment: environment).map(BatchScript.quote).joined(separator: " ")
    }
}

/// Runs a scheduler client command with a time limit and returns its standard output.
enum CommandLineTool {
    static var userName: String {
        if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "root"
    }

    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 60) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw LaueError(.external, "cannot run \(tool): \(error.localizedDescription)")
        }
        // Read while it runs (a full pipe would block it), with a deadline.
        let group = DispatchGroup()
        nonisolated(unsafe) var stdout = Data(), stderr = Data()
        group.enter(); DispatchQueue.global().async { stdout = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter(); DispatchQueue.global().async { stderr = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            throw LaueError(.external, "\(tool) did not answer within \(Int(timeout)) s")
        }
        p.waitUntilExit()
        let text = String(decoding: stdout, as: UTF8.self)
        if p.terminationStatus == 127 { throw LaueError(.external, "\(tool) not found: is the scheduler's client installed and on PATH?") }
        guard p.terminationStatus == 0 else {
            let message = String(decoding: stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw LaueError(.external, "\(tool) \(arguments.joined(separator: " ")) failed (exit \(p.terminationStatus)): \(message)")
        }
        return text
    }
}
