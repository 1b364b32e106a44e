import Foundation
import LaueCluster
import LaueIO
import LaueScan
import LaueTestSupport
import Testing

/// A 16 x 16 simulated scan and its single-process run, shared by the tests below.
enum SharedScan {
    static let scan = ClusterScans.simulate(seed: 616, grid: 16, label: "cluster-scan")
    static let reference: String = try! ClusterScans.singleRun(scan)

    static func expectSameAsReference(_ out: String, _ comment: String) {
        for f in ["patterns.csv", "peaks.csv"] {
            #expect(ClusterScans.text(out, f) == ClusterScans.text(reference, f), "\(f) differs from the single run (\(comment))")
        }
    }
}

@Suite(.serialized) struct SlurmClusterTests {
    /// The PBS scripts, run by bash the way PBS runs them (array index in PBS_ARRAY_INDEX, a single
    /// resubmitted shard in LAUEMAP_SHARD), merge to the single run's result.
    @Test func pbsScriptsRunByHandMergeToTheSingleRun() throws {
        let exe = try #require(Fixtures.lauemapExecutable, "lauemap executable not found next to the tests")
        let out = Fixtures.temporaryFolder("pbs-by-hand")
        let manifest = try ScanManifest.open(SharedScan.scan)
        var plan = ClusterPlan(scan: SharedScan.scan, calibration: manifest.calibrationPath, material: "LiCoO2", output: out,
                               patternCount: manifest.patterns.count, shards: 3, lauemap: exe)
        plan.scheduler = .pbs
        plan.cpusPerTask = 2
        let run = ClusterRun(plan: plan, system: RecordingSystem(.pbs))
        try run.submit()
        for k in 0..<3 {
            let env = k == 2 ? ["LAUEMAP_SHARD": "2"] : ["PBS_ARRAY_INDEX": String(k)]
            let r = try Command.run("/bin/bash", [plan.shardScript], environment: env)
            #expect(r.status == 0, "shard \(k): \(ClusterScans.text(plan.logFolder, "shard-\(k).log"))")
        }
        let m = try Command.run("/bin/bash", [plan.mergeScript])
        #expect(m.status == 0, "merge: \(ClusterScans.text(plan.logFolder, "merge.log"))")
        SharedScan.expectSameAsReference(out, "PBS scripts by hand")
        #expect(try run.status().shards.allSatisfy { $0.state == .complete })
    }

    /// A real single-node SLURM cluster: `scan submit --shards 4 --wait` equals the single run; a shard
    /// task cancelled mid-run is reported as failed with its log, and `scan resubmit` continues it
    /// (kept rows) to the same merged result.
    @Test(.enabled(if: LocalSlurm.available || LocalSlurm.required, "needs root and slurm-wlm + munge (tools/install-deps)"))
    func submitsShardsToARealSlurmCluster() throws {
        let exe = try #require(Fixtures.lauemapExecutable, "lauemap executable not found next to the tests")
        _ = SharedScan.reference
        let cluster = try LocalSlurm()
        defer { cluster.stop() }
        let env = cluster.environment

        // 1. Four shards, merged, waited for.
        let whole = Fixtures.temporaryFolder("slurm-whole")
        let submit = try Command.run(exe, ["scan", "submit", SharedScan.scan, "--material", "LiCoO2", "--out", whole, "--shards", "4",
                                           "--cpus-per-task", "1", "--time", "00:10:00", "--wait", "--timeout", "300"], environment: env)
        #expect(submit.status == 0, "scan submit --wait: \(submit.stdout) \(submit.stderr)")
        #expect(submit.stdout.contains("shards: 4 complete (256/256 patterns); merge complete"))
        SharedScan.expectSameAsReference(whole, "4 SLURM shards")
        #expect(FileManager.default.fileExists(atPath: whole + "/results.h5"))

        // 2. Cancel shard 1 mid-run, see it reported, resubmit it alone.
        let out = Fixtures.temporaryFolder("slurm-killed")
        let started = try Command.run(exe, ["scan", "submit", SharedScan.scan, "--material", "LiCoO2", "--out", out, "--shards", "4",
                                            "--cpus-per-task", "1"], environment: env)
        #expect(started.status == 0, "\(started.stderr)")
        let plan = try ClusterPlan.read(output: out)
        let jobs = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: plan.jobsFile))) as! [[String: Any]]
        let array = try #require((jobs[0]["tasks"] as? [[String: Any]])?.first?["job"] as? String)
        let part = plan.shardFolder(1) + "/.work/patterns.part.csv"
        let deadline = Date().addingTimeInterval(120)
        var rowsAtKill = 0
        while Date() < deadline {
            rowsAtKill = max(0, ((try? String(contentsOfFile: part, encoding: .utf8))?.split(separator: "\n").count ?? 0) - 1)
            if rowsAtKill >= 16 { break }
            usleep(10_000)
        }
        let cancel = try Command.run("/usr/bin/scancel", ["\(array)_1"], environment: env)
        #expect(cancel.status == 0, "\(cancel.stderr)")
        #expect(rowsAtKill >= 16 && rowsAtKill < 64, "cancelled with \(rowsAtKill) of 64 rows")

        let waited = try Command.run(exe, ["scan", "status", out, "--wait", "--timeout", "300"], environment: env)
        #expect(waited.status == 1, "a failed shard makes status --wait fail")
        #expect(waited.stdout.contains("3 complete, 1 failed"), "\(waited.stdout)")
        #expect(waited.stdout.contains("shard 1  patterns 64..<128") && waited.stdout.contains("failed  job \(array)_1  log: \(plan.shardLog(1))"),
                "\(waited.stdout)")
        #expect(waited.stdout.contains("lauemap scan resubmit \(out)"))
        #expect(!FileManager.default.fileExists(atPath: out + "/patterns.csv"))

        let again = try Command.run(exe, ["scan", "resubmit", out, "--wait", "--timeout", "300"], environment: env)
        #expect(again.status == 0, "scan resubmit --wait: \(again.stdout) \(again.stderr)")
        #expect(again.stdout.contains("merge complete"))
        SharedScan.expectSameAsReference(out, "shard 1 cancelled and resubmitted")
        let log = ClusterScans.text(plan.logFolder, "shard-1.log")
        #expect(log.contains("resuming after"), "the resubmitted shard kept its rows: \(log)")
    }
}
