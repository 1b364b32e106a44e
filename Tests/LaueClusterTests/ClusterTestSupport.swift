import Foundation
import LaueCore
import LaueIO
import LaueScan
import LaueSimulation
import LaueTestSupport

/// Small simulated scans and helpers shared by the cluster tests.
enum ClusterScans {
    static let lco = try! Material.builtin("LiCoO2")

    static func simulate(seed: UInt64, grid: Int, label: String) -> String {
        let dir = Fixtures.temporaryFolder(label)
        var spec = ScanSpec(material: lco, detector: try! SimulatedDetector.builtin("medium"), columns: grid, rows: grid, stepUm: 0.5, seed: seed)
        spec.pointsPerDomain = 16
        _ = try! SimulatedScanWriter.write(spec, to: dir, options: SimulatedScanWriter.Options())
        return dir
    }

    /// An uninterrupted single-process run of `scan`, the reference for sharded runs.
    static func singleRun(_ scan: String) throws -> String {
        let out = Fixtures.temporaryFolder("single")
        let manifest = try ScanManifest.open(scan)
        let settings = ScanSettings(material: lco, calibration: try LaueToolsCalibration.read(path: manifest.calibrationPath!))
        var options = ScanRunOptions()
        options.jobs = 2
        _ = try ScanRunner(scan: scan, settings: settings, output: out, options: options).run()
        return out
    }

    static func text(_ folder: String, _ file: String) -> String {
        (try? String(contentsOfFile: (folder as NSString).appendingPathComponent(file), encoding: .utf8)) ?? "<missing \(file)>"
    }
}

/// A single-node SLURM cluster started for one test by tools/slurm/local-cluster.sh, stopped by PID.
final class LocalSlurm {
    static let script = Fixtures.root.appendingPathComponent("tools/slurm/local-cluster.sh").path

    /// slurm-wlm and munge are installed and we are root (slurmd needs it).
    static var available: Bool {
        getuid() == 0 && ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }
    /// tools/test sets LAUEMAP_REQUIRE_SLURM=1 (as root): the test must then run, not be skipped.
    static var required: Bool { ProcessInfo.processInfo.environment["LAUEMAP_REQUIRE_SLURM"] == "1" }

    let folder: String
    var environment: [String: String] { ["SLURM_CONF": (folder as NSString).appendingPathComponent("etc/slurm.conf")] }

    init() throws {
        // Short path: the munge socket lives inside (UNIX socket paths are limited to ~108 bytes).
        folder = "/tmp/lauemap-slurm-\(getpid())"
        let start = try Command.run("/bin/bash", [LocalSlurm.script, "start", folder])
        guard start.status == 0 else {
            throw LaueError(.external, "local SLURM cluster did not start: \(start.stderr)")
        }
    }

    func stop() {
        _ = try? Command.run("/bin/bash", [LocalSlurm.script, "stop", folder])
        try? FileManager.default.removeItem(atPath: folder)
    }
}
