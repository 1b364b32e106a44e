import ArgumentParser
import Foundation
import LaueCore
import LaueIO
import LaueReport
import LaueScan
import LaueSimulation

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Simulate small LiCoO2 particles, classify every pattern and print the defect-fraction table.",
        discussion: """
            Needs no input: simulates PARTICLES raster scans of LiCoO2 particles with defect domains (the built-in \
            'medium' detector), runs 'scan run' on each, prints the table of 'lauemap table' and the agreement \
            with the simulation's ground truth. Everything is written under --out (scans, results, maps).
            """
    )

    @Option(help: "Output folder.")
    var out: String = "lauemap-demo"

    @Option(help: "Number of particles (scans).")
    var particles: Int = 3

    @Option(help: "Grid of each scan as COLUMNSxROWS.")
    var grid: String = "16x16"

    @Option(help: "Random seed of the first particle.")
    var seed: UInt64 = 2026

    @Option(help: "Worker threads (default: all cores).")
    var jobs: Int?

    func run() throws {
        try reportingErrors {
            let dims = try parseGrid(grid)
            guard particles >= 1 else { throw LaueError(.invalidArgument, "--particles must be at least 1") }
            let lco = try Material.builtin("LiCoO2")
            let detector = try SimulatedDetector.builtin("medium")
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var folders: [String] = []
            var evaluations: [ScanEvaluation] = []
            for k in 0..<particles {
                let name = String(format: "particle-%02d", k + 1)
                let scan = (out as NSString).appendingPathComponent("scans/" + name)
                let result = (out as NSString).appendingPathComponent(name)
                // Class frequencies close to a published LiCoO2 study (42 % GND, 25 % tilt boundary,
                // 10 % both, 17 % stacking among defect-present patterns).
                var spec = ScanSpec(material: lco, detector: detector, columns: dims.columns, rows: dims.rows, stepUm: 0.5, seed: seed + UInt64(k))
                spec.classWeights = [0.15, 0.36, 0.21, 0.085, 0.145, 0.05]
                // The second particle is thick: a depth tail down the detector on every spot, as on the
                // GaN/Si frames of BM32 (a real-frame confounder, reported in depth_tail_px, never a GND).
                if k == 1 { spec.tail = SpotTail(angle: 90, length: 3, fraction: 0.3) }
                if !FileManager.default.fileExists(atPath: (scan as NSString).appendingPathComponent("truth.csv")) {
                    var options = SimulatedScanWriter.Options()
                    if let jobs { options.jobs = max(1, jobs) }
                    let reporter = ProgressReporter(label: "simulate \(name)", total: dims.columns * dims.rows)
                    _ = try SimulatedScanWriter.write(spec, to: scan, options: options) { done, _ in reporter.update(done) }
                }
                let calibration = try LaueToolsCalibration.read(path: (scan as NSString).appendingPathComponent("calib.det"))
                var options = ScanRunOptions()
                options.overwrite = true
                if let jobs { options.jobs = max(1, jobs) }
                let runner = try ScanRunner(scan: scan, settings: ScanSettings(material: lco, calibration: calibration),
                                            output: result, options: options)
                let observer = RunObserver(quiet: false, label: "classify \(name)")
                runner.observer = observer
                _ = try runner.run()
                folders.append(result)
                let truth = try CSVTable.read(path: (scan as NSString).appendingPathComponent("truth.csv"))
                evaluations.append(try ScanEvaluation(truth: truth, results: try ScanOutputs.readPatterns(runner.patternsFile),
                                                              symmetry: lco.symmetryRotations))
            }
            let table = try DefectFractionTable.load(folders: folders)
            var text = "Defect fractions, \(particles) simulated LiCoO2 particle(s), \(dims.columns)x\(dims.rows) patterns each:\n\n"
            text += table.render(.md)
            text += "\nAgreement with the simulation's ground truth (macro-F1 over the six classes): "
            text += evaluations.enumerated().map { String(format: "particle %d %.3f", $0.offset + 1, $0.element.macroF1) }.joined(separator: ", ")
            text += "\nResults, maps and results.h5 under \(out)/particle-NN/; details: lauemap scan evaluate \(folders[0])\n"
            let report = try HTMLReport(runs: try folders.map { try ReportedRun(folder: $0) }, title: "LaueMap demo: \(particles) simulated LiCoO2 particle(s)")
                .write(to: (out as NSString).appendingPathComponent("report"))
            text += "Report (open in a browser): \(report)\n"
            emit(text)
        }
    }
}
