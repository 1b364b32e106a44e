// lauemap-bench: throughput benchmarks of LaueMap's stages (release builds only).
// Usage: lauemap-bench simulate [--patterns N]
// Results and the commands behind them are recorded in docs/performance.md.
import Dispatch
import Foundation
import LaueCore
import LaueIO
import LaueSimulation
import LauePeaks
import LaueIndexing

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

func stringOption(_ name: String, _ fallback: String) -> String {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return fallback
}

/// Simulated patterns at random orientations: peak search + indexing success and accuracy.
func benchIndexSimulated() throws {
    let n = option("--count", 50)
    let material = try Material.builtin(stringOption("--material", "LiCoO2"))
    let detector = try SimulatedDetector.builtin(stringOption("--detector", "medium"))
    let sim = try PatternSimulator(material: material, detector: detector)
    var po = PeakSearchOptions()
    po.setGrouping(calibration: detector.calibration)
    let searcher = PeakSearcher(options: po)
    let indexer = try Indexer(material: material, calibration: detector.calibration)
    var ok = 0, unindexed = 0, wrong = 0
    var worst = 0.0
    var times: [Double] = [], counts: [Int] = []
    var reasons: [String: Int] = [:]
    for i in 0..<n {
        var g = SeededGenerator(seed: UInt64(1000 + i))
        let u = Quaternion.random(using: &g).matrix
        let image = sim.simulate(PatternTruth(defect: .noDefect, orientation: u), seed: UInt64(i))
        let peaks = searcher.search(image).peaks.map(ObservedSpot.init)
        var result: IndexingResult? = nil
        times.append(seconds { result = indexer.index(peaks) })
        guard let r = result, let grain = r.grains.first else {
            unindexed += 1; reasons[result?.reason ?? "?", default: 0] += 1; continue
        }
        let angle = material.misorientation(grain.orientation, u)
        worst = max(worst, angle)
        counts.append(grain.indexedCount)
        if angle <= 0.02 { ok += 1 } else { wrong += 1; print("  pattern \(i): misorientation \(angle) deg, \(grain.indexedCount) spots of \(peaks.count)") }
    }
    print(String(format: "%@ on %@: %d/%d indexed within 0.02 deg, %d wrong, %d unindexed; worst correct %.4f deg; median %d spots; indexing median %.1f ms",
                 material.name, detector.name, ok, n, wrong, unindexed, worst, counts.sorted()[counts.count / 2], median(times) * 1000))
    for (k, v) in reasons { print("  unindexed: \(v) x \(k)") }
}

/// Indexing + refinement of a real image's peaks, single-threaded: median of `--repeat` runs.
func benchIndexReal() throws {
    let args = CommandLine.arguments.dropFirst(2).filter { !$0.hasPrefix("--") && Int($0) == nil }
    guard args.count == 3 else { print("usage: lauemap-bench index IMAGE CALIB MATERIAL [--repeat N]"); return }
    let image = try ImageReader.read(path: args[0])
    let calib = try LaueToolsCalibration.read(path: args[1], frameSize: (image.width, image.height))
    let material = try Material.load(args[2])
    var po = PeakSearchOptions()
    po.setGrouping(calibration: calib)
    let spots = PeakSearcher(options: po).search(image).peaks.map(ObservedSpot.init)
    let indexer = try Indexer(material: material, calibration: calib)
    _ = indexer.index(spots)      // warm-up (angle table, caches)
    var times: [Double] = []
    var result: IndexingResult? = nil
    for _ in 0..<option("--repeat", 15) { times.append(seconds { result = indexer.index(spots) }) }
    let g = result?.grains.first
    print(String(format: "| %@ | %d | %d | %.3f | %.1f |", (args[0] as NSString).lastPathComponent, spots.count,
                 g?.indexedCount ?? 0, g?.meanDeviation ?? .nan, median(times) * 1000))
}

let command = CommandLine.arguments.dropFirst().first ?? "help"
switch command {
case "simulate": try benchSimulate()
case "peaks": try benchPeaks()
case "index-sim": try benchIndexSimulated()
case "index": try benchIndexReal()
default:
    print("usage: lauemap-bench simulate [--patterns N] | peaks IMAGE... [--repeat N] [--phases]")
}
