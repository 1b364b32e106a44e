import Foundation

/// The two job scripts of a cluster run, written from one template for SLURM and PBS: the shard
/// script (one array task per shard, each running `scan run --shard K/N --resume` into its own folder)
/// and the merge script (`scan merge`, submitted to start after every shard succeeded).
public enum BatchScript {
    /// The shard script. For SLURM it holds the whole array (`--array` on the command line overrides
    /// it when shards are resubmitted); for PBS the array is given to `qsub -J`, and a single shard by
    /// `qsub -v LAUEMAP_SHARD=K` (PBS arrays cannot list arbitrary indices).
    public static func shards(_ plan: ClusterPlan) -> String {
        let spec = plan.scheduler == .slurm ? arraySpec(Array(0..<plan.shards)) : nil
        var lines = header(plan, name: plan.jobName, cpus: plan.cpusPerTask, arraySpec: spec, array: true)
        let taskVariable = plan.scheduler == .slurm ? "SLURM_ARRAY_TASK_ID" : "PBS_ARRAY_INDEX"
        let job = plan.scheduler == .slurm ? "${SLURM_ARRAY_JOB_ID:-?}_${SLURM_ARRAY_TASK_ID:-?}" : "${PBS_JOBID:-?}"
        var run = [plan.lauemap, "scan", "run", plan.scan]
        if let c = plan.calibration { run += ["--calib", c] }
        run += ["--material", plan.material, "--jobs", String(plan.cpusPerTask), "--resume"] + plan.runArguments
        lines += [
            "",
            "# Shard K of \(plan.shards) (0-based). Patterns of shard K: [K*\(plan.patternCount)/\(plan.shards), (K+1)*\(plan.patternCount)/\(plan.shards)).",
            "# --resume keeps the rows a killed earlier attempt committed, so a resubmitted shard continues.",
            "set -euo pipefail",
            "K=${LAUEMAP_SHARD:-${\(taskVariable):?run as an array task or with LAUEMAP_SHARD set}}",
            "OUT=\(quote(plan.output))",
            "mkdir -p \"$OUT/cluster/logs\"",
            "exec >>\"$OUT/cluster/logs/shard-$K.log\" 2>&1",
            "echo \"lauemap shard $K/\(plan.shards): job \(job) on $(hostname) at $(date -u +%FT%TZ)\"",
            "status=0",
            run.map(quote).joined(separator: " ") + " \\",
            "    --out \"$OUT/shards/shard-$K\" --shard \"$K/\(plan.shards)\" || status=$?",
            "echo \"lauemap shard $K/\(plan.shards): exit status $status at $(date -u +%FT%TZ)\"",
            "exit $status",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The merge script: joins the shard folders into the output folder.
    public static func merge(_ plan: ClusterPlan) -> String {
        var lines = header(plan, name: plan.jobName + "-merge", cpus: 1, arraySpec: nil, array: false)
        let merge = [plan.lauemap, "scan", "merge"] + (0..<plan.shards).map(plan.shardFolder)
            + ["--out", plan.output, "--material", plan.material]
        lines += [
            "",
            "# Runs after every shard task succeeded (submitted with an afterok dependency).",
            "set -euo pipefail",
            "exec >>\(quote(plan.mergeLog)) 2>&1",
            "echo \"lauemap merge: job ${\(plan.scheduler == .slurm ? "SLURM_JOB_ID" : "PBS_JOBID"):-?} at $(date -u +%FT%T.%3NZ)\"",
            "status=0",
            merge.map(quote).joined(separator: " ") + " || status=$?",
            "echo \"lauemap merge: exit status $status at $(date -u +%FT%T.%3NZ)\"",
            "exit $status",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Scheduler directives shared by both scripts.
    static func header(_ plan: ClusterPlan, name: String, cpus: Int, arraySpec: String?, array: Bool) -> [String] {
        var lines = ["#!/bin/bash", "# Written by lauemap scan submit for \(plan.scan)"]
        switch plan.scheduler {
        case .slurm:
            lines.append("#SBATCH --job-name=\(name)")
            if let arraySpec { lines.append("#SBATCH --array=\(arraySpec)") }
            lines += ["#SBATCH --ntasks=1", "#SBATCH --cpus-per-task=\(cpus)"]
            if let t = plan.time { lines.append("#SBATCH --time=\(t)") }
            if let p = plan.partition { lines.append("#SBATCH --partition=\(p)") }
            if let a = plan.account { lines.append("#SBATCH --account=\(a)") }
            let pattern = array ? "slurm-%A_%a.out" : "slurm-%j.out"
            lines.append("#SBATCH --output=\((plan.schedulerLogFolder as NSString).appendingPathComponent(pattern))")
            lines += plan.directives.map { $0.hasPrefix("#SBATCH") ? $0 : "#SBATCH " + $0 }
        case .pbs:
            lines.append("#PBS -N \(name)")
            lines.append("#PBS -l select=1:ncpus=\(cpus)")
            if let t = plan.time { lines.append("#PBS -l walltime=\(t)") }
            if let p = plan.partition { lines.append("#PBS -q \(p)") }
            if let a = plan.account { lines.append("#PBS -A \(a)") }
            lines += ["#PBS -j oe", "#PBS -o \(plan.schedulerLogFolder)/"]
            lines += plan.directives.map { $0.hasPrefix("#PBS") ? $0 : "#PBS " + $0 }
        }
        return lines
    }

    /// Compact array specification: "0-3", "1,4-6".
    static func arraySpec(_ indices: [Int]) -> String {
        let sorted = Array(Set(indices)).sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// Single-quotes a shell word unless it is plainly safe.
    static func quote(_ s: String) -> String {
        if !s.isEmpty && s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+=:,@%".contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
