import Foundation
import LaueCluster
import LaueCore
import LaueScan
import LaueTestSupport
import Testing

/// A scheduler that only records: submissions get ids 100, 101, ...; the test sets what is queued.
final class RecordingSystem: BatchSystem, @unchecked Sendable {
    let kind: BatchSchedulerKind
    let lock = NSLock()
    var submissions: [(script: String, array: [Int]?, dependencies: [String])] = []
    var queue: [QueuedJob] = []
    var cancelled: [String] = []

    init(_ kind: BatchSchedulerKind) { self.kind = kind }

    func submit(script: String, array: [Int]?, afterSuccessOf dependencies: [String], environment: [String: String]) throws -> String {
        lock.lock(); defer { lock.unlock() }
        submissions.append((script, array, dependencies))
        return String(99 + submissions.count)
    }
    func queued(_ ids: [String]) throws -> [QueuedJob] { lock.lock(); defer { lock.unlock() }; return queue.filter { ids.contains($0.id) } }
    func cancel(_ ids: [String]) throws { lock.lock(); defer { lock.unlock() }; cancelled += ids; queue.removeAll { ids.contains($0.id) } }
    func describeSubmission(script: String, array: [Int]?, afterSuccessOf dependencies: [String], environment: [String: String]) -> String { "" }
}

@Suite struct BatchScriptTests {
    static let lauemap = Fixtures.lauemapExecutable ?? "/bin/true"

    func plan(_ kind: BatchSchedulerKind, output: String = "/data/run 1", shards: Int = 4) -> ClusterPlan {
        var p = ClusterPlan(scan: "/data/scan", calibration: "/data/calib.det", material: "LiCoO2", output: output,
                            patternCount: 1000, shards: shards, lauemap: BatchScriptTests.lauemap, jobName: "lco")
        p.scheduler = kind
        p.partition = "short"
        p.account = "mat123"
        p.time = "01:30:00"
        p.cpusPerTask = 8
        p.directives = kind == .slurm ? ["--mem=16G"] : ["-l filesystems=home:eagle"]
        p.runArguments = ["--psf", "1.1"]
        return p
    }

    @Test func slurmScriptsCarryTheResourcesAndTheShardCommand() {
        let p = plan(.slurm)
        let s = BatchScript.shards(p)
        for line in ["#SBATCH --job-name=lco", "#SBATCH --array=0-3", "#SBATCH --cpus-per-task=8", "#SBATCH --time=01:30:00",
                     "#SBATCH --partition=short", "#SBATCH --account=mat123", "#SBATCH --mem=16G",
                     "K=${LAUEMAP_SHARD:-${SLURM_ARRAY_TASK_ID:?", "OUT='/data/run 1'"] {
            #expect(s.contains(line), "missing: \(line)")
        }
        #expect(s.contains("scan run /data/scan --calib /data/calib.det --material LiCoO2 --jobs 8 --resume --psf 1.1"))
        #expect(s.contains("--out \"$OUT/shards/shard-$K\" --shard \"$K/4\""))
        let m = BatchScript.merge(p)
        #expect(m.contains("#SBATCH --job-name=lco-merge") && m.contains("#SBATCH --cpus-per-task=1"))
        #expect(m.contains("scan merge '/data/run 1/shards/shard-0' '/data/run 1/shards/shard-1' '/data/run 1/shards/shard-2' '/data/run 1/shards/shard-3' --out '/data/run 1' --material LiCoO2"))
        #expect(!m.contains("--array"))
    }

    @Test func pbsScriptsUseTheSameTemplate() {
        let p = plan(.pbs)
        let s = BatchScript.shards(p)
        for line in ["#PBS -N lco", "#PBS -l select=1:ncpus=8", "#PBS -l walltime=01:30:00", "#PBS -q short", "#PBS -A mat123",
                     "#PBS -l filesystems=home:eagle", "#PBS -j oe", "K=${LAUEMAP_SHARD:-${PBS_ARRAY_INDEX:?"] {
            #expect(s.contains(line), "missing: \(line)")
        }
        #expect(!s.contains("#PBS -J"), "the array range goes on the qsub command line")
        let run = ClusterRun(plan: p)
        let dry = run.dryRun()
        #expect(dry.contains("qsub -J 0-3 '/data/run 1/cluster/shards.pbs'"))
        #expect(dry.contains("qsub -W 'depend=afterok:<shard job id>' '/data/run 1/cluster/merge.pbs'"))
        // Shell bodies are identical apart from the array variable.
        let slurmBody = BatchScript.shards(plan(.slurm)).split(separator: "\n").filter { !$0.hasPrefix("#") }
        let pbsBody = s.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(slurmBody.count == pbsBody.count)
    }

    @Test func planValidation() throws {
        var p = plan(.slurm)
        p.time = "90 minutes"
        #expect(throws: LaueError.self) { try p.validate() }
        p.time = "2-00:00:00"
        try p.validate()
        p.shards = 2000
        #expect(throws: LaueError.self) { try p.validate() }
        #expect(p.range(ofShard: 0) == 0..<0)
        p.shards = 3
        #expect((0..<3).map { p.range(ofShard: $0) } == [0..<333, 333..<666, 666..<1000])
        #expect(p.range(ofShard: 3).isEmpty && p.range(ofShard: -1).isEmpty)
    }

    /// A line break in any value that reaches a script is refused; shell metacharacters in paths stay
    /// words (the generated scripts run by bash create nothing they name).
    @Test func scriptsAreInertAgainstInjection() throws {
        let base = plan(.slurm)
        var variants: [ClusterPlan] = []
        var p = base; p.output = "/data/run\ntouch /tmp/injected"; variants.append(p)
        p = base; p.scan = "/data/scan\rid"; variants.append(p)
        p = base; p.directives = ["--mem=8G\nrm -rf ~"]; variants.append(p)
        p = base; p.calibration = "/data/c\n.det"; variants.append(p)
        p = base; p.runArguments = ["--psf", "1\n2"]; variants.append(p)
        for v in variants {
            #expect(throws: LaueError.self) { try v.validate() }
        }
        // Metacharacters: the scripts run (lauemap = /bin/true) and create no file.
        let dir = Fixtures.temporaryFolder("inject")
        for kind in [BatchSchedulerKind.slurm, .pbs] {
            var m = plan(kind, output: dir + "/out $(touch made1) `touch made2`; touch made3 'q' \"d\" *")
            m.lauemap = "/bin/true"
            m.scan = dir + "/scan;touch made4"
            for script in [BatchScript.shards(m), BatchScript.merge(m)] {
                let path = dir + "/job.sh"
                try script.write(toFile: path, atomically: true, encoding: .utf8)
                let r = try Command.run("/bin/bash", ["-c", "cd '\(dir)' && LAUEMAP_SHARD=0 bash job.sh"])
                #expect(r.status == 0, "\(r.stderr)")
            }
            let made = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("made") }
            #expect(made.isEmpty, "injected commands ran: \(made)")
        }
    }

    /// Submission, status and resubmission against a recording scheduler (no cluster needed).
    @Test func statusAndResubmissionFollowTheFolders() throws {
        let out = Fixtures.temporaryFolder("cluster-logic")
        var p = plan(.slurm, output: out, shards: 3)
        p.patternCount = 30
        let system = RecordingSystem(.slurm)
        let run = ClusterRun(plan: p, system: system)
        let ids = try run.submit()
        #expect(ids == ("100", "101"))
        #expect(system.submissions[0].array == [0, 1, 2] && system.submissions[1].dependencies == ["100"])
        #expect(FileManager.default.isExecutableFile(atPath: p.shardScript))
        #expect(throws: LaueError.self) { try run.submit() }   // the folder now holds a run

        system.queue = [QueuedJob(id: "100", arrayIndex: 0, state: "RUNNING"), QueuedJob(id: "100", arrayIndex: 1, state: "PENDING"),
                        QueuedJob(id: "100", arrayIndex: 2, state: "PENDING"), QueuedJob(id: "101", arrayIndex: nil, state: "PENDING")]
        var s = try run.status()
        #expect(s.shards.map(\.state) == [.running, .pending, .pending] && s.merge == .waiting && !s.isFinished)
        #expect(s.shards[0].job == "100_0")
        #expect(throws: LaueError.self) { try run.resubmit() }   // shards still queued

        // Shard 0 finished, shard 1 died with 4 rows committed, shard 2 still running.
        try writeRun(p, shard: 0, complete: true)
        try writeRun(p, shard: 1, complete: false, rows: 4)
        system.queue = [QueuedJob(id: "100", arrayIndex: 2, state: "RUNNING"), QueuedJob(id: "101", arrayIndex: nil, state: "PENDING")]
        s = try run.status()
        #expect(s.shards.map(\.state) == [.complete, .failed, .running] && s.merge == .blocked && !s.isFinished)
        #expect(s.shards[1].done == 4)

        try writeRun(p, shard: 2, complete: true)
        system.queue = [QueuedJob(id: "101", arrayIndex: nil, state: "PENDING")]
        s = try run.status()
        #expect(s.isFinished && !s.succeeded && s.failedShards.map(\.index) == [1])
        let again = try run.resubmit()
        #expect(system.cancelled == ["101"], "the merge stuck behind the failed shard is cancelled")
        #expect(again.shards == ["102"] && again.merge == "103")
        #expect(system.submissions[2].array == [1] && system.submissions[3].dependencies == ["102"])
        system.queue = [QueuedJob(id: "102", arrayIndex: 1, state: "RUNNING"), QueuedJob(id: "103", arrayIndex: nil, state: "PENDING")]
        s = try run.status()
        #expect(s.shards.map(\.state) == [.complete, .running, .complete] && s.merge == .waiting)
        #expect(s.shards[1].job == "102_1")
    }

    /// `--wait` stops on a job the partition can never run (squeue reason PartitionConfig: more CPUs
    /// per task than its nodes have) instead of waiting forever; an ordinary wait goes on.
    @Test func waitStopsOnJobsThatCanNeverStart() throws {
        let out = Fixtures.temporaryFolder("cluster-never")
        var p = plan(.slurm, output: out, shards: 2)
        p.patternCount = 20
        let system = RecordingSystem(.slurm)
        let run = ClusterRun(plan: p, system: system)
        try run.submit()
        system.queue = [QueuedJob(id: "100", arrayIndex: 0, state: "PENDING", reason: "Priority"),
                        QueuedJob(id: "100", arrayIndex: 1, state: "PENDING", reason: "Resources"),
                        QueuedJob(id: "101", arrayIndex: nil, state: "PENDING", reason: "Dependency")]
        #expect(try run.status().neverStarting.isEmpty)
        #expect { _ = try run.wait(timeout: 0.2, poll: 0.05) } throws: { e in (e as? LaueError)?.description.contains("still running") ?? false }
        system.queue[1].reason = "PartitionConfig"
        #expect(try run.status().neverStarting == ["100_1 (PartitionConfig)"])
        #expect { _ = try run.wait(timeout: 60, poll: 0.05) } throws: { e in
            let text = (e as? LaueError)?.description ?? ""
            return text.contains("can never start") && text.contains("100_1 (PartitionConfig)") && text.contains(out)
        }
    }

    @Test func pbsResubmitsContiguousRangesAsArrays() throws {
        let out = Fixtures.temporaryFolder("cluster-pbs")
        var p = plan(.pbs, output: out, shards: 6)
        p.patternCount = 60
        let system = RecordingSystem(.pbs)
        let run = ClusterRun(plan: p, system: system)
        try run.submit()
        for k in [0, 3] { try writeRun(p, shard: k, complete: true) }
        let again = try run.resubmit()
        #expect(system.submissions.dropFirst(2).dropLast().map(\.array) == [[1, 2], [4, 5]])
        #expect(again.shards.count == 2 && system.submissions.last!.dependencies == again.shards)
    }

    /// Writes what `scan run` leaves in a shard folder (run.json, committed rows).
    func writeRun(_ p: ClusterPlan, shard k: Int, complete: Bool, rows: Int = 0) throws {
        let folder = p.shardFolder(k)
        try FileManager.default.createDirectory(atPath: folder + "/.work", withIntermediateDirectories: true)
        let r = p.range(ofShard: k)
        let json = """
            {"calibration":{"distance_mm":70,"height":1024,"pixel_size_mm":0.08,"width":1024,"xbet_deg":0,"xcen_px":512,"xgam_deg":0,"ycen_px":512},
             "complete":\(complete),"material":"LiCoO2","pattern_count":\(p.patternCount),"psf_sigma_px":1.0,"range":[\(r.lowerBound),\(r.upperBound)],
             "scan":"\(p.scan)","shard":[\(k),\(p.shards)]}
            """
        try json.write(toFile: folder + "/run.json", atomically: true, encoding: .utf8)
        try (["header"] + (0..<rows).map { "row\($0)" }).map { $0 + "\n" }.joined().write(toFile: folder + "/.work/patterns.part.csv", atomically: true, encoding: .utf8)
    }
}
