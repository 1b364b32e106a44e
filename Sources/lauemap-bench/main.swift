// lauemap-bench: throughput benchmarks of LaueMap's stages (release builds only).
// Usage: lauemap-bench simulate [--patterns N]
// Results and the commands behind them are recorded in docs/performance.md.
import Dispatch
import Foundation
import LaueCore
import LaueIO
import LaueSimulation
import LauePeaks

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

func option(_ name: String, _ fallback: Int) -> Int {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) { return v }
    return fallback
}

func benchSimulate() throws {
    let n = option("--patterns", 24)
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let lco = try Material.builtin("LiCoO2")
    print("simulate: LiCoO2, GND 0.5 deg about <1-100>, background + Poisson noise, \(n) patterns per case, \(cores) cores")
    print("| detector | frame | patterns/s, 1 core | patterns/s, \(cores) cores | ms/pattern (1 core) |")
    print("|---|---|---|---|---|")
    for name in ["medium", "aps"] {
        let det = try SimulatedDetector.builtin(name)
        let sim = try PatternSimulator(material: lco, detector: det)
        let axis = ScanPlanner.defaultAxes(for: lco)[0]
        let truths: [PatternTruth] = (0..<n).map { i in
            var g = SeededGenerator(seed: UInt64(100 + i))
            return PatternTruth(defect: .gnd(axis: axis, spread: 0.5, profile: .uniform), orientation: Quaternion.random(using: &g).matrix)
        }
        _ = sim.simulate(truths[0], seed: 0)          // warm-up
        let serial = seconds { for (i, t) in truths.enumerated() { _ = sim.simulate(t, seed: UInt64(i)) } }
        let parallel = seconds {
            DispatchQueue.concurrentPerform(iterations: cores) { w in
                var i = w
                while i < n { _ = sim.simulate(truths[i], seed: UInt64(i)); i += cores }
            }
        }
        let c = det.calibration
        print(String(format: "| %@ | %dx%d | %.1f | %.1f | %.1f |", name, c.width, c.height, Double(n) / serial,
                     Double(n) / parallel, serial / Double(n) * 1000))
    }
}

func median(_ v: [Double]) -> Double { let s = v.sorted(); return s[s.count / 2] }

/// Peak search + shape on real images, single-threaded: median wall time of `--repeat` runs.
func benchPeaks() throws {
    let repeatCount = option("--repeat", 15)
    let images = CommandLine.arguments.dropFirst(2).filter { !$0.hasPrefix("--") && Int($0) == nil }
    print("| image | peaks | peak search + shape, ms (median of \(repeatCount)) | image read, ms |")
    print("|---|---|---|---|")
    let searcher = PeakSearcher()
    for path in images {
        var reads: [Double] = [], searches: [Double] = []
        var count = 0
        for _ in 0..<repeatCount {
            var image: LaueImage? = nil
            reads.append(try seconds { image = try ImageReader.read(path: path) })
            searches.append(seconds { count = searcher.search(image!).peaks.count })
        }
        print(String(format: "| %@ | %d | %.1f | %.1f |", (path as NSString).lastPathComponent, count,
                     median(searches) * 1000, median(reads) * 1000))
        if CommandLine.arguments.contains("--phases") {
            print("   phases (last run, ms): " + searcher.phaseSeconds.sorted { $0.key < $1.key }
                .map { String(format: "%@ %.1f", $0.key, $0.value * 1000) }.joined(separator: ", "))
        }
    }
}

let command = CommandLine.arguments.dropFirst().first ?? "help"
switch command {
case "simulate": try benchSimulate()
case "peaks": try benchPeaks()
default:
    print("usage: lauemap-bench simulate [--patterns N] | peaks IMAGE... [--repeat N] [--phases]")
}
