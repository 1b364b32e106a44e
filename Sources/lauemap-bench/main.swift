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
import LaueDefects
import LaueScan
import LaueXANES
import LaueCorrelation

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
func weightedMedian(_ pairs: [(Double, Double)]) -> Double {
    let sorted = pairs.sorted { $0.0 < $1.0 }
    let total = sorted.reduce(0) { $0 + $1.1 }
    var acc = 0.0
    for (v, w) in sorted { acc += w; if acc >= total / 2 { return v } }
    return .nan
}

/// Peak search + shape on real images, single-threaded: median wall time of `--repeat` runs.
func benchPeaks() throws {
    let repeatCount = option("--repeat", 15)
    let images = CommandLine.arguments.dropFirst(2).filter { !$0.hasPrefix("--") && Int($0) == nil }
    print("| image | peaks | peak search + shape, ms (median of \(repeatCount)) | fastest, ms | image read, ms |")
    print("|---|---|---|---|---|")
    let searcher = PeakSearcher()
    for path in images {
        var reads: [Double] = [], searches: [Double] = []
        var count = 0
        for _ in 0..<repeatCount {
            var image: LaueImage? = nil
            reads.append(try seconds { image = try ImageReader.read(path: path) })
            searches.append(seconds { count = searcher.search(image!).peaks.count })
        }
        print(String(format: "| %@ | %d | %.1f | %.1f | %.1f |", (path as NSString).lastPathComponent, count,
                     median(searches) * 1000, searches.min()! * 1000, median(reads) * 1000))
        if CommandLine.arguments.contains("--fits") {
            let fits = searcher.search(try ImageReader.read(path: path)).peaks.compactMap(\.fit)
            let its = fits.map { Double($0.iterations) }.sorted()
            print(String(format: "   fits %d, iterations median %.0f, mean %.1f, max %.0f; converged %d", fits.count, its.isEmpty ? 0 : its[its.count / 2],
                         its.reduce(0, +) / Double(max(its.count, 1)), its.last ?? 0, fits.filter(\.converged).count))
        }
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
    let po = PeakSearchOptions()
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
    let po = PeakSearchOptions()
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

/// Diagnostics for tuning the classifier: per simulated pattern, the truth and what the evidence says.
func classifyDiagnostics() throws {
    let n = option("--count", 4)
    let material = try Material.builtin(stringOption("--material", "LiCoO2"))
    let detector = try SimulatedDetector.builtin(stringOption("--detector", "medium"))
    let seed = option("--seed", 1000)
    let first = option("--first", 0)
    let sim = try PatternSimulator(material: material, detector: detector)
    let po = PeakSearchOptions()
    let searcher = PeakSearcher(options: po)
    let indexer = try Indexer(material: material, calibration: detector.calibration)
    let classes = stringOption("--classes", DefectClass.physical.map(\.rawValue).joined(separator: ",")).split(separator: ",").map { try! DefectClass(label: String($0)) }
    for c in classes {
        for i in first..<(first + n) {
            let stream = DefectClass.physical.firstIndex(of: c)!
            var g = SeededGenerator(seed: UInt64(seed + i), stream: UInt64(stream))
            let u = Quaternion.random(using: &g).matrix
            let defect = ScanPlanner.randomDefect(c, material: material, generator: &g)
            let truth = PatternTruth(defect: defect, orientation: u)
            let image = sim.simulate(truth, seed: UInt64(seed + i) &* 31 &+ UInt64(stream))
            let found = searcher.search(image)
            let r = indexer.index(found.peaks.map(ObservedSpot.init))
            print("== \(c.rawValue) #\(i) spread \(String(format: "%.3f", defect.spread)) tilts \(defect.tilts.map { String(format: "%.3f", $0) }) w \(defect.weights.map { String(format: "%.2f", $0) }) psf \(String(format: "%.2f", found.psfSigma)) peaks \(found.peaks.count)")
            guard let grain = r.grains.first else { print("   unindexed: \(r.reason ?? "")"); continue }
            let ev = SpotEvidence.gather(peaks: found.peaks, grain: grain, predictor: indexer.predictor)
            guard let fit = OrientationSpread.fit(ev, psfVariance: nil) else { print("   no fit"); continue }
            let fixed = OrientationSpread.fit(ev, psfVariance: found.psfSigma * found.psfSigma)!
            let trueAxis = truth.axisLab
            func axisError(_ a: Vec3) -> Double { trueAxis.map { acos(min(1, abs($0.dot(a)))) * 180 / .pi } ?? .nan }
            let dir = RotationAxisFit.fit(ev, initial: fit.axis)
            print(String(format: "   indexed %d used %d  lambda %.5f %.5f %.5f  eta %.1f  R %.2f  width %.3f  axisErr %.1f  s %.2f | fixed-s eta %.1f R %.2f width %.3f axisErr %.1f | dirfit err %.2f median %.1f cond %.3f", grain.indexedCount, fit.spotCount,
                         fit.eigenvalues[0], fit.eigenvalues[1], fit.eigenvalues[2], fit.oneAxisRatio, fit.residual, fit.uniformWidth, axisError(fit.axis), fit.pointSpreadVariance,
                         fixed.oneAxisRatio, fixed.residual, fixed.uniformWidth, axisError(fixed.axis), dir.map { axisError($0.axis) } ?? .nan, dir?.medianAngle ?? .nan, dir?.conditioning ?? .nan))
            if let dir {
                var pairs: [(Double, Double)] = []
                for e in ev { let sn = e.sensitivity(to: dir.axis); if sn > 5 { pairs.append(((e.streak.lambdaMajor - e.streak.lambdaMinor) / (sn * sn), e.intensity.squareRoot())) } }
                let v = weightedMedian(pairs)
                print(String(format: "   dir spread: uniform width %.3f  gaussian fwhm %.3f", (12 * v).squareRoot(), 2.355 * v.squareRoot()))
            }
            if !CommandLine.arguments.contains("--spots") { continue }
            let ranked = ev.sorted { $0.sensitivity(to: fit.axis) > $1.sensitivity(to: fit.axis) }
            for e in ranked.prefix(CommandLine.arguments.contains("--all") ? 100 : 8) {
                let d = e.displacement(fit.axis)
                let pa = atan2(d.y, d.x) * 180 / .pi
                var da = abs(pa - e.streak.angle).truncatingRemainder(dividingBy: 180); if da > 90 { da = 180 - da }
                let p = e.streak.profile
                print(String(format: "    sens %5.1f I %8.0f AR %5.2f L %5.1f minorF %4.2f dAng %4.1f n %d seps %@ dips %@ widths %@ kurt %.2f", e.sensitivity(to: fit.axis), e.intensity,
                             e.streak.aspectRatio, e.streak.length, 2.355 * e.streak.lambdaMinor.squareRoot(), da, p.count,
                             p.separations.map { String(format: "%.1f", $0) }.joined(separator: ","), p.dipRatios.map { String(format: "%.2f", $0) }.joined(separator: ","),
                             p.widths.map { String(format: "%.1f", $0) }.joined(separator: ","), p.kurtosis))
            }
        }
    }
}

struct Outcome { var truth: PatternTruth; var a: DefectAssessment?; var note: String; var index = 0 }
final class OutcomeBox: @unchecked Sendable {
    var items: [Outcome?]
    init(count: Int) { items = [Outcome?](repeating: nil, count: count) }
}

/// Classifier evaluation on simulated patterns: confusion matrix, recall, macro-F1, axis and parameter errors.
/// Seeds 1000-1999 (stream = class) are the tuning set; the tests use other seeds.
func classifyEvaluation() throws {
    let n = option("--count", 20)
    let seed = option("--seed", 1000)
    let material = try Material.builtin(stringOption("--material", "LiCoO2"))
    let detector = try SimulatedDetector.builtin(stringOption("--detector", "medium"))
    let verbose = CommandLine.arguments.contains("--verbose")
    let sim = try PatternSimulator(material: material, detector: detector)
    // --confounders: each pattern gets one real-frame confounder (docs/classification.md, "Confounders").
    let confounded = CommandLine.arguments.contains("--confounders")
    let silicon = confounded ? try PatternSimulator(material: Material.builtin("Si"), detector: detector) : nil
    // --scale-to-pixels: defect ranges scaled by this detector's degrees per pixel relative to `medium`
    // (the same spot displacement in pixels) instead of fixed degrees.
    let pixelScale = DefectRanges.pixelScale(of: detector.calibration, reference: try SimulatedDetector.builtin("medium").calibration)
    let ranges = CommandLine.arguments.contains("--scale-to-pixels") ? DefectRanges().scaled(by: pixelScale) : DefectRanges()
    var options = PeakSearchOptions()
    // --block-size PX: the background block edge to try (docs/peaks.md, `blockSize`).
    if let b = Int(stringOption("--block-size", "")) { options.blockSize = b }
    // --no-coarse: without the coarse pass of the peak search (docs/peaks.md, "Detection").
    if CommandLine.arguments.contains("--no-coarse") { options.detectCoarseSpots = false }
    let po = options
    // --psf auto: the point spread measured on a perfect crystal of this detector (as a beamline
    // measures it on its calibration crystal, and as the classifier tests do).
    var pg = SeededGenerator(seed: 424242)
    let measuredPSF = PeakSearcher(options: po).search(sim.simulate(PatternTruth(defect: .noDefect, orientation: Quaternion.random(using: &pg).matrix), seed: 1)).psfSigma
    let classes = DefectClass.physical
    let jobs = ProcessInfo.processInfo.activeProcessorCount
    let total = classes.count * n
    let lock = NSLock()
    let box = OutcomeBox(count: total)
    let t0 = Date()
    DispatchQueue.concurrentPerform(iterations: jobs) { w in
        let searcher = PeakSearcher(options: po)
        // --scan-settings: the indexing options of scan run (mean deviation up to 1.5 px).
        var io = CommandLine.arguments.contains("--scan-settings")
            ? ScanSettings(material: material, calibration: detector.calibration).indexingOptions : IndexingOptions()
        // With confounders the frame may hold up to four grains of the material: the pattern's grain is
        // the indexed one nearest its true orientation.
        if confounded { io.maxGrains = 4 }
        // Indexing limits to try (docs/indexing.md): --max-deviation PX, --min-indexed N.
        if let d = Double(stringOption("--max-deviation", "")) { io.maximumMeanDeviation = d }
        io.minimumIndexed = option("--min-indexed", io.minimumIndexed)
        io.seedSpots = option("--seed-spots", io.seedSpots)
        io.candidates = option("--candidates", io.candidates)
        io.refinedCandidates = option("--refined", io.refinedCandidates)
        if let t = Double(stringOption("--angle-tolerance", "")) { io.angleTolerance = t }
        let indexer = try! Indexer(material: material, calibration: detector.calibration, options: io)
        var co = ClassifierOptions()
        if let p = Double(stringOption("--psf", "")) { co.pointSpreadSigma = p } else if stringOption("--psf", "") == "auto" { co.pointSpreadSigma = measuredPSF }
        co.minimumSpots = option("--min-spots", co.minimumSpots)
        co.maximumSpots = option("--max-spots", co.maximumSpots)
        let classifier = DefectClassifier(predictor: indexer.predictor, options: co)
        var k = w
        while k < total {
            let c = classes[k / n], i = k % n
            var g = SeededGenerator(seed: UInt64(seed + i), stream: UInt64(classes.firstIndex(of: c)!))
            let u = Quaternion.random(using: &g).matrix
            let defect = ScanPlanner.randomDefect(c, material: material, ranges: ranges, generator: &g)
            let truth = PatternTruth(defect: defect, orientation: u)
            var s = sim
            if confounded { Confounders.add(Confounders.Kind.allCases[i % Confounders.Kind.allCases.count], to: &s, orientation: u,
                                            substrate: silicon, generator: &g) }
            let image = s.simulate(truth, seed: UInt64(seed + i) &* 31 &+ UInt64(k / n))
            let found = searcher.search(image)
            let r = indexer.index(found.peaks.map(ObservedSpot.init))
            var o = Outcome(truth: truth, a: nil, note: r.reason ?? "", index: i)
            let grain = confounded ? r.grains.filter { material.misorientation($0.orientation, u) < 2 }.first : r.grains.first
            if let grain { o.a = classifier.classify(found, grain: grain).0 } else if !r.grains.isEmpty { o.note = "the pattern's grain not indexed (\(r.grains.count) other; \(r.reason ?? "-"))" }
            // --dump DIR: unindexed and unclassified patterns as CLASS_I.tif, with their grain's reflections
            // (x y hkl, LaueTools pixels) in CLASS_I.txt.
            let dump = stringOption("--dump", "")
            if !dump.isEmpty && (o.a == nil || o.a?.defectClass == .unclassified) {
                try? TIFFWriter.write(image, to: "\(dump)/\(c.rawValue)_\(i).tif")
                let pred = sim.predictor.spots(orientation: u).map { "\($0.x) \($0.y) \($0.hkl)" }.joined(separator: "\n")
                try? pred.write(toFile: "\(dump)/\(c.rawValue)_\(i).txt", atomically: true, encoding: .utf8)
            }
            // --peak-errors: per unindexed pattern, each peak's distance to the grain's nearest reflection from
            // its position and from its centroid, its pixels, and `u` when unfitted.
            if o.a == nil && CommandLine.arguments.contains("--peak-errors") {
                let pred = sim.predictor.spots(orientation: u)
                func nearest(_ x: Double, _ y: Double) -> Double { pred.map { hypot($0.x - x, $0.y - y) }.min() ?? .infinity }
                o.note += " {" + found.peaks.map {
                    String(format: "%.1f/%.1f/%d%@", nearest($0.x, $0.y), nearest($0.centroidX, $0.centroidY), $0.pixelCount, $0.fit == nil ? "u" : "")
                }.joined(separator: " ") + "}"
            }
            if o.a == nil { o.note += String(format: " [%d reflections of the grain on the detector, %d peaks; spread %.3f°, tilts %@]", sim.predictor.spots(orientation: u).count, found.peaks.count, defect.spread, defect.tilts.map { String(format: "%.2f", $0) }.joined(separator: ",")) }
            lock.lock(); box.items[k] = o; lock.unlock()
            k += jobs
        }
    }
    let elapsed = Date().timeIntervalSince(t0)
    let outcomes = box.items
    let labels = classes + [.unclassified, .unindexed]
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: classes.count)
    var axisErrors: [Double] = [], paramErrors: [DefectClass: [Double]] = [:]
    for o in outcomes.compactMap({ $0 }) {
        let t = o.truth.defect.defectClass
        let p = o.a?.defectClass ?? .unindexed
        confusion[classes.firstIndex(of: t)!][labels.firstIndex(of: p) ?? labels.count - 2] += 1
        let d = o.truth.defect
        var line = String(format: "%@ #%d -> %@ conf %.2f", t.rawValue, o.index, p.rawValue, o.a?.confidence ?? 0)
        if t == p, let a = o.a {
            if let ax = a.axisLab, let tr = o.truth.axisLab {
                let e = acos(min(1, abs(ax.dot(tr)))) * 180 / .pi
                axisErrors.append(e); line += String(format: " axisErr %.2f", e)
            }
            switch t {
            case .gnd, .randomDislocations:
                paramErrors[t, default: []].append((a.spread ?? 0) / d.spread - 1)
            case .tiltBoundary, .stackingTiltBoundaries:
                paramErrors[t, default: []].append((a.tilt ?? 0) / (d.tilts.reduce(0, +) / Double(d.tilts.count)) - 1)
            case .tiltBoundaryGND:
                paramErrors[t, default: []].append((a.tilt ?? 0) / d.tilts[0] - 1)
                paramErrors[.unclassified, default: []].append((a.spread ?? 0) / d.spread - 1)
            default: break
            }
        }
        if let a = o.a, let s = a.spread3D {
            line += String(format: " | eta %.1f R %.2f res %.3f l1 %.5f spread %@ tilts %@ n %d truth spread %.3f tilts %@ | votes %@ %@", s.oneAxisRatio, s.residual, a.resolution, s.eigenvalues[0],
                           a.spread.map { String(format: "%.3f", $0) } ?? "-", a.tilts.map { String(format: "%.3f", $0) }.joined(separator: ","), a.orientationCount,
                           d.spread, d.tilts.map { String(format: "%.3f", $0) }.joined(separator: ","),
                           a.votes.map { "\($0.key.rawValue)=\(String(format: "%.2f", $0.value))" }.sorted().joined(separator: " "), a.reason ?? "")
            line += " | " + a.diagnostics.sorted { $0.key < $1.key }.map { "\($0.key)=\(String(format: "%.3f", $0.value))" }.joined(separator: " ")
        } else { line += " " + (o.a?.reason ?? o.note) }
        if verbose || t != p { print(line) }
    }
    print("\nconfusion (rows truth, columns predicted): " + labels.map(\.rawValue).joined(separator: " | "))
    var f1s: [Double] = []
    for (i, c) in classes.enumerated() {
        let tp = Double(confusion[i][i])
        let recall = tp / Double(confusion[i].reduce(0, +))
        let predicted = Double(confusion.map { $0[i] }.reduce(0, +))
        let precision = predicted > 0 ? tp / predicted : 0
        let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        f1s.append(f1)
        print(String(format: "%-26@ %@  recall %.3f precision %.3f F1 %.3f", c.rawValue, confusion[i].map { String(format: "%3d", $0) }.joined(separator: " "), recall, precision, f1))
    }
    print(String(format: "macro-F1 %.3f; median axis error %.2f deg (n=%d); %.1f s for %d patterns", f1s.reduce(0, +) / Double(f1s.count), axisErrors.isEmpty ? .nan : median(axisErrors), axisErrors.count, elapsed, total))
    for (c, e) in paramErrors.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
        let a = e.map { abs($0) }.sorted()
        print(String(format: "  %@ relative error: median %.3f, 90%% %.3f, max %.3f (signed median %.3f)", c == .unclassified ? "tilt_boundary_gnd spread" : c.rawValue, a[a.count / 2], a[min(a.count - 1, Int(Double(a.count) * 0.9))], a.last!, e.sorted()[e.count / 2]))
    }
}

/// XANES map analysis and registration (docs/performance.md): a 100 x 100 map with 60 energies
/// (written to OUT.h5 for the Larch side-by-side), then registration of two 200 x 200 maps.
func benchXANES() throws {
    let repeats = option("--repeat", 5)
    let out = CommandLine.arguments.dropFirst(2).first { !$0.hasPrefix("--") && Int($0) == nil } ?? "/tmp/lauemap-xanes-bench"
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let defects = SyntheticDefectMap(columns: 50, rows: 50, stepUm: 0.4, seed: 3)
    let grid = MapGrid(columns: 100, rows: 100, stepX: 0.2, stepY: 0.2)
    var sim = XANESSimulation(defects: defects, xanesGrid: grid)
    sim.energies = (0..<60).map { 7692 + Double($0) }
    sim.offsetUm = (0, 0)
    let map = try sim.run().before
    try XANESMapReader.writeHDF5(map, to: out + "/map100.h5")
    var edge: EdgeMap? = nil
    var times: [Double] = []
    for _ in 0..<repeats { times.append(try seconds { edge = try EdgeMap.analyse(map) }) }
    let valid = edge!.edgeEnergy.filter(\.isFinite).count
    print(String(format: "edge map 100 x 100 x 60: %.1f ms (best of %d; median %.1f ms), %d valid pixels; ranges e0 %.1f pre %g..%g norm %g..%g nnorm %d",
                 1000 * times.min()!, repeats, 1000 * times.sorted()[times.count / 2], valid, edge!.ranges.e0!, edge!.ranges.pre1!, edge!.ranges.pre2!,
                 edge!.ranges.norm1!, edge!.ranges.norm2!, edge!.ranges.nnorm!))
    // Per-pixel values for the Larch comparison.
    var csv = "pixel,edge_step,half_height_e\n"
    for p in 0..<grid.count where edge!.edgeEnergy[p].isFinite { csv += "\(p),\(edge!.edgeStep[p]),\(edge!.edgeEnergy[p])\n" }
    try csv.write(toFile: out + "/lauemap_edge.csv", atomically: true, encoding: .utf8)
    let r = edge!.ranges
    try "\(r.e0!) \(r.pre1!) \(r.pre2!) \(r.norm1!) \(r.norm2!) \(r.nnorm!)\n".write(toFile: out + "/ranges.txt", atomically: true, encoding: .utf8)

    // Registration: a 200 x 200 XANES edge-step map onto a 200 x 200 Laue channel.
    let laue = SyntheticDefectMap(columns: 200, rows: 200, stepUm: 0.1, seed: 5)
    let g2 = MapGrid(columns: 200, rows: 200, stepX: 0.12, stepY: 0.12, originX: -11.94, originY: -11.94)
    var sim2 = XANESSimulation(defects: laue, xanesGrid: g2)
    sim2.energies = (0..<30).map { 7700 + 2 * Double($0) }
    sim2.rotationDegrees = 6
    sim2.offsetUm = (10.2, 9.7)
    let moving = try EdgeMap.analyse(try sim2.run().before)
    var result: RegistrationResult? = nil
    var regTimes: [Double] = []
    for _ in 0..<max(1, repeats / 2) {
        regTimes.append(try seconds {
            result = try Registration.register(fixed: GriddedMap(grid: laue.grid, values: laue.intensity), moving: GriddedMap(grid: moving.grid, values: moving.edgeStep))
        })
    }
    let t = result!.transform
    print(String(format: "registration 200 x 200 onto 200 x 200: %.0f ms (best of %d); rotation %.2f deg (truth 6), translation (%.3f, %.3f) µm (truth 10.2, 9.7), r %.3f",
                 1000 * regTimes.min()!, regTimes.count, t.rotationDegrees, t.translationX, t.translationY, result!.correlation))
}

/// One pattern through the scan pipeline, with what each stage saw: peaks, grain, sub-orientations,
/// evidence per reflection, the assessment and its diagnostics.
func diagnosePattern() throws {
    let args = CommandLine.arguments.dropFirst(2).filter { !$0.hasPrefix("--") }
    guard args.count >= 3 else { print("usage: lauemap-bench diagnose IMAGE CALIB MATERIAL [FRAME]"); return }
    let image = try ImageReader.read(path: args[args.startIndex], frame: args.count > 3 ? Int(args[args.startIndex + 3]) ?? 0 : 0)
    let calib = try LaueToolsCalibration.read(path: args[args.startIndex + 1], frameSize: (image.width, image.height))
    let settings = ScanSettings(material: try Material.load(args[args.startIndex + 2]), calibration: calib)
    let found = PeakSearcher(options: settings.peakOptions).search(image)
    let indexer = try Indexer(material: settings.material, calibration: calib, options: settings.indexingOptions)
    let seedArg = CommandLine.arguments.first { $0.hasPrefix("--seed=") }.map { String($0.dropFirst(7)) }
    let seedValues = seedArg?.split(separator: ",").compactMap { Double($0) } ?? []
    let r = seedValues.count == 9
        ? indexer.index(found.peaks.map(ObservedSpot.init), near: [Mat3(seedValues)])
        : indexer.index(found.peaks.map(ObservedSpot.init))
    print("\(found.peaks.count) peaks in \(found.spots.count) spots, psf sigma \(found.psfSigma), core FWHM \(found.psfFWHM ?? .nan)")
    guard let grain = r.grains.first else { print("unindexed: \(r.reason ?? "")"); return }
    print("grain: \(grain.indexedCount) spots, mean deviation \(grain.meanDeviation)")
    if CommandLine.arguments.contains("--flags") {
        for s in grain.spots {
            let p = found.peaks[s.peakIndex]
            print(String(format: "   %@ at %.1f %.1f (pred %.1f %.1f) I %.0f AR %.1f L %.1f comp %d sat %d edge %d overlap %d", s.hkl.description, s.x, s.y,
                         s.xPredicted, s.yPredicted, p.intensity, p.streak.aspectRatio, p.streak.length, p.components, p.saturated ? 1 : 0, p.edge ? 1 : 0, p.overlapping ? 1 : 0))
        }
    }
    let classifier = DefectClassifier(predictor: indexer.predictor, options: settings.classifierOptions)
    let (a, sub) = classifier.classify(found, grain: grain)
    for s in sub.subOrientations {
        print(String(format: "sub-orientation %.3f deg (%.3f %.3f %.3f), support %d of %d, intensity %.2f, chance %.1e", s.angle,
                     s.rotation.x, s.rotation.y, s.rotation.z, s.support, s.expected, s.relativeIntensity, s.chance))
    }
    if let r = sub.subOrientations.first?.rotation, CommandLine.arguments.contains("--spots") {
        for s in grain.spots.prefix(40) {
            guard let j = indexer.predictor.jacobian(s.hkl, orientation: grain.orientation) else { continue }
            let e = (j.dx.dot(r) * .pi / 180, j.dy.dot(r) * .pi / 180)
            let c = found.peaks[s.peakIndex].streak.centre
            let target = (c.x + e.0, c.y + e.1)
            let near = found.peaks.min { hypot($0.streak.centre.x - target.0, $0.streak.centre.y - target.1) < hypot($1.streak.centre.x - target.0, $1.streak.centre.y - target.1) }!
            print(String(format: "   %@ I %.0f disp %.1f nearest spot %.1f px away (I %.0f) family %d incomplete %d target %.0f %.0f", s.hkl.description, s.intensity, hypot(e.0, e.1),
                         hypot(near.streak.centre.x - target.0, near.streak.centre.y - target.1), near.intensity, sub.families[s.peakIndex]?.count ?? 0,
                         sub.incomplete.contains(s.peakIndex) ? 1 : 0, target.0, target.1))
        }
    }
    let multi = sub.families.values.filter { $0.count > 1 }.count
    print("families with sub-spots: \(multi) of \(sub.families.count), incomplete \(sub.incomplete.count)")
    for e in a.spots {
        let p = e.streak.profile
        print(String(format: "  %@ I %.0f L %.1f AR %.2f n %d seps %@ dips %@ label %@", e.hkl.description, e.intensity, e.streak.length,
                     e.streak.aspectRatio, p.count, p.separations.map { String(format: "%.1f", $0) }.joined(separator: ","),
                     p.dipRatios.map { String(format: "%.2f", $0) }.joined(separator: ","), e.label.rawValue))
    }
    if let r = sub.subOrientations.first?.rotation, CommandLine.arguments.contains("--tensor") {
        let n = r.normalized
        for e in a.spots {
            let d = e.displacement(n)       // px per degree about n
            let c = e.covariance
            // one-axis prediction direction
            let ang = atan2(d.y, d.x) * 180 / .pi
            let ev = LinearAlgebra.symmetricEigen2(c.xx, c.xy, c.yy)
            print(String(format: "  %@ sens %.1f dirM %.1f dirC %.1f l1 %.1f l2 %.2f  -> v=%.4f deg2", e.hkl.description, hypot(d.x, d.y), ang < 0 ? ang + 180 : ang, ev.angle, ev.large, ev.small, (ev.large - 1) / (d.x * d.x + d.y * d.y)))
        }
    }
    print("class \(a.defectClass.rawValue) confidence \(a.confidence) reason \(a.reason ?? "") tilts \(a.tilts) spread \(a.spread ?? .nan)")
    print(a.diagnostics.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
}

let command = CommandLine.arguments.dropFirst().first ?? "help"
switch command {
case "simulate": try benchSimulate()
case "peaks": try benchPeaks()
case "index-sim": try benchIndexSimulated()
case "index": try benchIndexReal()
case "classify-diag": try classifyDiagnostics()
case "classify-eval": try classifyEvaluation()
case "xanes": try benchXANES()
case "diagnose": try diagnosePattern()
default:
    print("usage: lauemap-bench simulate [--patterns N] | peaks IMAGE... [--repeat N] [--phases]")
}
