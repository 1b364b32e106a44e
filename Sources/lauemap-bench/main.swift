// lauemap-bench: throughput benchmarks of LaueMap's stages (release builds only).
// Usage: lauemap-bench simulate [--patterns N]
// Results and the commands behind them are recorded in docs/performance.md.
import Dispatch
import Foundation
import LaueCore
import LaueIO
import LaueSimulation

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

let command = CommandLine.arguments.dropFirst().first ?? "help"
switch command {
case "simulate": try benchSimulate()
default:
    print("usage: lauemap-bench simulate [--patterns N]")
}
