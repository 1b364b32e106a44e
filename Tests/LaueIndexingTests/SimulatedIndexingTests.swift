import Dispatch
import Foundation
import Testing
import LaueCore
import LaueIndexing
import LauePeaks
import LaueSimulation

final class ResultBox<T>: @unchecked Sendable {
    var items: [T?]
    init(_ n: Int) { items = [T?](repeating: nil, count: n) }
}

/// Results of many independent patterns computed on all cores.
func parallelMap<T: Sendable>(_ count: Int, _ body: @Sendable @escaping (Int) -> T) -> [T] {
    let box = ResultBox<T>(count)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: count) { i in
        let v = body(i)
        lock.lock(); box.items[i] = v; lock.unlock()
    }
    return box.items.map { $0! }
}

/// Indexing on simulated patterns (peak search on the rendered frame: background, Poisson and read
/// noise, hot pixels), 200 random orientations per material.
@Suite struct SimulatedIndexingTests {
    func run(material name: String, detector: String, count: Int = 200, seed: UInt64) throws -> (correct: Int, wrong: [Double], unindexed: [String]) {
        let material = try Material.builtin(name)
        let det = try SimulatedDetector.builtin(detector)
        let sim = try PatternSimulator(material: material, detector: det)
        let outcomes = parallelMap(count) { i -> (Double?, String?) in
            var g = SeededGenerator(seed: seed, stream: UInt64(i))
            let u = Quaternion.random(using: &g).matrix
            let image = sim.simulate(PatternTruth(defect: .noDefect, orientation: u), seed: seed &+ UInt64(i))
            let po = PeakSearchOptions()
            let peaks = PeakSearcher(options: po).search(image).peaks
            let indexer = try! Indexer(material: material, calibration: det.calibration)
            let r = indexer.index(peaks.map(ObservedSpot.init))
            guard let grain = r.grains.first else { return (nil, r.reason) }
            return (material.misorientation(grain.orientation, u), nil)
        }
        var correct = 0, wrong: [Double] = [], unindexed: [String] = []
        for (angle, reason) in outcomes {
            if let a = angle { if a <= 0.02 { correct += 1 } else { wrong.append(a) } } else { unindexed.append(reason ?? "?") }
        }
        return (correct, wrong, unindexed)
    }

    @Test(arguments: [("Ge", UInt64(11)), ("LiCoO2", UInt64(12)), ("GaN", UInt64(13))])
    func randomOrientationsIndexWithin002Degrees(_ material: String, _ seed: UInt64) throws {
        let (correct, wrong, unindexed) = try run(material: material, detector: "medium", seed: seed)
        #expect(correct >= 198, "\(material): \(correct)/200 correct; wrong \(wrong); unindexed \(unindexed)")
        #expect(wrong.isEmpty, "\(material): wrong orientations \(wrong)")
    }

    /// Stacking tilt boundaries (3-4 sub-grains 0.3-0.8° apart) on the far APS-like detector split every
    /// spot, and a confounder (a second crystal, a substrate, crowded spots, ...) adds peaks: the second
    /// try from the 20 strongest peaks (`retrySeedSpots`) indexes patterns the 12 strongest cannot, never
    /// a wrong orientation (seeds 7400+, not the tuning set).
    @Test func splitSpotsIndexOnTheSecondTry() throws {
        let material = try Material.builtin("LiCoO2")
        let det = try SimulatedDetector.builtin("aps")
        let sim = try PatternSimulator(material: material, detector: det)
        let silicon = try PatternSimulator(material: Material.builtin("Si"), detector: det)
        let outcomes = parallelMap(40) { i -> (retry: Double?, once: Double?) in
            var g = SeededGenerator(seed: 7400 &+ UInt64(i), stream: 4)
            let u = Quaternion.random(using: &g).matrix
            let defect = ScanPlanner.randomDefect(.stackingTiltBoundaries, material: material, generator: &g)
            var s = sim
            Confounders.add(Confounders.Kind.allCases[i % Confounders.Kind.allCases.count], to: &s, orientation: u, substrate: silicon, generator: &g)
            let peaks = PeakSearcher(options: PeakSearchOptions()).search(s.simulate(PatternTruth(defect: defect, orientation: u), seed: 7400 &+ UInt64(i))).peaks
            var once = IndexingOptions()
            once.retrySeedSpots = 0
            func angle(_ o: IndexingOptions) -> Double? {
                var o = o
                o.maxGrains = 4       // the pattern's crystal and the confounder's
                return (try! Indexer(material: material, calibration: det.calibration, options: o)).index(peaks.map(ObservedSpot.init)).grains
                    .map { material.misorientation($0.orientation, u) }.min()
            }
            return (angle(IndexingOptions()), angle(once))
        }
        // The pattern's crystal is found when a grain lies within 2.5° of it (its sub-grains are at most
        // three tilts of 0.8° away); a grain farther off is the confounder's crystal.
        let withRetry = outcomes.filter { ($0.retry ?? 99) < 2.5 }.count, without = outcomes.filter { ($0.once ?? 99) < 2.5 }.count
        #expect(withRetry >= without + 3, "the pattern's crystal indexed with the second try in \(withRetry), without in \(without) of 40")
        // The first try's grains are kept: every pattern found without the second try is found with it.
        #expect(outcomes.allSatisfy { ($0.once ?? 99) >= 2.5 || ($0.retry ?? 99) < 2.5 })
    }

    @Test func twoGrainPatternsFindBothGrains() throws {
        let material = try Material.builtin("LiCoO2")
        let det = try SimulatedDetector.builtin("medium")
        let sim = try PatternSimulator(material: material, detector: det, brightestSpotCounts: 2e5)
        var found = 0
        for i in 0..<10 {
            var g = SeededGenerator(seed: 500 + UInt64(i))
            let u1 = Quaternion.random(using: &g).matrix, u2 = Quaternion.random(using: &g).matrix
            var pixels = sim.diffractedIntensity(orientation: u1, defect: .noDefect, seed: 1)
            let second = sim.diffractedIntensity(orientation: u2, defect: .noDefect, seed: 2)
            for k in pixels.indices { pixels[k] += 0.8 * second[k] }
            DetectorSimulation.apply(det.effects, to: &pixels, width: 1024, height: 1024, generator: &g)
            let po = PeakSearchOptions()
            let peaks = PeakSearcher(options: po).search(LaueImage(width: 1024, height: 1024, pixels: pixels, pixelType: .uint16)).peaks
            var options = IndexingOptions()
            options.maxGrains = 2
            let r = try Indexer(material: material, calibration: det.calibration, options: options).index(peaks.map(ObservedSpot.init))
            let angles = r.grains.map { gr in [u1, u2].map { material.misorientation(gr.orientation, $0) }.min()! }
            #expect(angles.allSatisfy { $0 < 0.02 }, "pattern \(i): grains off by \(angles)")
            if r.grains.count == 2,
               Set(r.grains.map { gr in material.misorientation(gr.orientation, u1) < 0.02 ? 1 : 2 }).count == 2 { found += 1 }
        }
        #expect(found >= 9, "both grains found in \(found)/10 patterns")
    }

    @Test func tooFewSpotsNeverGiveAnOrientation() throws {
        let material = try Material.builtin("LiCoO2")
        let det = try SimulatedDetector.builtin("medium")
        let sim = try PatternSimulator(material: material, detector: det)
        let indexer = try Indexer(material: material, calibration: det.calibration)
        let po = PeakSearchOptions()
        for i in 0..<12 {
            var g = SeededGenerator(seed: 900 + UInt64(i))
            let u = Quaternion.random(using: &g).matrix
            let peaks = PeakSearcher(options: po).search(sim.simulate(PatternTruth(defect: .noDefect, orientation: u), seed: 3)).peaks
            for keep in [3, 5] {
                let r = indexer.index(Array(peaks.prefix(keep)).map(ObservedSpot.init))
                #expect(r.status == .unindexed, "\(keep) spots gave an orientation")
                #expect(r.reason != nil)
            }
            // 7 spots: the right orientation or none (a twin tie is refused).
            let r = indexer.index(Array(peaks.prefix(7)).map(ObservedSpot.init))
            #expect(r.grains.allSatisfy { material.misorientation($0.orientation, u) < 0.1 }, "7 spots gave a wrong orientation")
            #expect(r.status == .indexed || r.reason != nil)
        }
        // Pure noise: no orientation.
        var g = SeededGenerator(seed: 1)
        let noise = (0..<60).map { _ in ObservedSpot(x: 1 + 1023 * g.uniform(), y: 1 + 1023 * g.uniform(), intensity: 100 * g.uniform()) }
        let r = indexer.index(noise)
        #expect(r.status == .unindexed, "random spots indexed: \(r.grains.first?.indexedCount ?? 0)")
    }

    /// The mean-deviation limit follows the angle a defect spreads the spots over, not a fixed number
    /// of pixels: on an APS-like detector at 510 mm (0.023°/px) GND crystals spread 0.4-0.8° are refused
    /// at 1.5 px but indexed at 0.08° (3.6 px), on their own orientation; on the 150 mm `medium` detector
    /// the limit stays 1.5 px.
    @Test func deviationLimitFollowsTheDetectorAngle() throws {
        let material = try Material.builtin("LiCoO2")
        let aps = try SimulatedDetector.builtin("aps"), medium = try SimulatedDetector.builtin("medium")
        #expect(abs(try Indexer(material: material, calibration: aps.calibration).deviationLimit - 0.08 * .pi / 180 * 510 / 0.2) < 1e-9)
        #expect(try Indexer(material: material, calibration: medium.calibration).deviationLimit == 1.5)
        let sim = try PatternSimulator(material: material, detector: aps)
        let outcomes = parallelMap(12) { i -> (angular: Double?, pixels: Double?) in
            let (peaks, u) = gndPattern(sim, seed: 4400, i)
            let spots = peaks.map(ObservedSpot.init)
            var pixelsOnly = IndexingOptions()
            pixelsOnly.maximumMeanDeviationDegrees = 0
            let a = try! Indexer(material: material, calibration: aps.calibration).index(spots).grains.first
            let p = try! Indexer(material: material, calibration: aps.calibration, options: pixelsOnly).index(spots).grains.first
            return (a.map { material.misorientation($0.orientation, u) }, p.map { material.misorientation($0.orientation, u) })
        }
        let angular = outcomes.compactMap(\.angular), pixels = outcomes.compactMap(\.pixels)
        print("GND on aps: \(angular.count) of 12 indexed with the angular limit, \(pixels.count) with 1.5 px")
        // (+4 before 2026-12-07, when broad unfitted spots were placed around their noisy brightest pixel;
        // placed at their centroids, 9 of 12 pass 1.5 px, 11 of 12 the angular limit.)
        #expect(angular.count >= pixels.count + 2, "angular \(angular.count), pixels \(pixels.count)")
        #expect(angular.allSatisfy { $0 < 1 }, "orientation errors \(angular.sorted().suffix(3))")
    }

    /// The peaks of pattern `i` of a series: a random orientation with a GND band of 0.4-0.8° about a
    /// random axis, and that orientation.
    func gndPattern(_ sim: PatternSimulator, seed: UInt64, _ i: Int) -> (peaks: [Peak], orientation: Mat3) {
        var g = SeededGenerator(seed: seed, stream: UInt64(i))
        let u = Quaternion.random(using: &g).matrix
        let axis = Quaternion.random(using: &g).matrix * Vec3(0, 0, 1)
        let truth = PatternTruth(defect: .gnd(axis: axis, spread: 0.4 + 0.4 * g.uniform(), profile: .uniform), orientation: u)
        return (PeakSearcher().search(sim.simulate(truth, seed: seed &+ UInt64(i))).peaks, u)
    }

    /// A streak is indexed at its moment centre, not at its maximum: along a GND band the maximum lies
    /// anywhere on the streak, up to half its length (20 px on an APS-like detector for 0.8°) from
    /// where the mean orientation puts the reflection. GND 0.4-0.8° crystals on the APS-like detector
    /// (seeds 4500+, not used to choose the rule): more of them indexed, and closer to the truth.
    @Test func streaksIndexAtTheirCentres() throws {
        let material = try Material.builtin("LiCoO2")
        let aps = try SimulatedDetector.builtin("aps")
        let sim = try PatternSimulator(material: material, detector: aps)
        let outcomes = parallelMap(16) { i -> (centres: Double?, maxima: Double?) in
            let (peaks, u) = gndPattern(sim, seed: 4500, i)
            let indexer = try! Indexer(material: material, calibration: aps.calibration)
            let c = indexer.index(peaks.map(ObservedSpot.init)).grains.first
            // The brightest pixel itself (`x`, `y` of an unfitted broad streak are its centroid since 2026-12-07).
            let m = indexer.index(peaks.map { ObservedSpot(x: Double($0.maximumX), y: Double($0.maximumY), intensity: $0.intensity) }).grains.first
            return (c.map { material.misorientation($0.orientation, u) }, m.map { material.misorientation($0.orientation, u) })
        }
        let centres = outcomes.compactMap(\.centres).sorted(), maxima = outcomes.compactMap(\.maxima).sorted()
        print("GND on aps: \(centres.count) of 16 indexed at streak centres (median error \(centres[centres.count / 2]) deg), \(maxima.count) at maxima (\(maxima.isEmpty ? .nan : maxima[maxima.count / 2]) deg)")
        #expect(centres.count >= maxima.count + 2, "centres \(centres.count), maxima \(maxima.count)")
        #expect(centres.allSatisfy { $0 < 0.5 }, "orientation errors \(centres.suffix(3))")
        #expect(centres[centres.count / 2] < 0.1)
    }
}
