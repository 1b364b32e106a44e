import Foundation
import Testing
import LaueCore
import LaueIndexing
import LauePeaks
import LaueSimulation

/// LiCoO2 (R-3m) and its obverse/reverse twin (a 60 deg turn about c) put every spot direction in the
/// same place: only harmonics (so the band's edges) and intensities tell them apart. 200 simulated
/// patterns cut to their 3-16 strongest spots, with shuffled intensities (they must not decide): too
/// few spots are refused, and no answer is ever the twin or another wrong orientation.
@Suite struct TwinAmbiguityTests {
    @Test func fewOrAmbiguousSpotsNeverGiveAWrongOrientation() throws {
        let material = try Material.builtin("LiCoO2")
        let det = try SimulatedDetector.builtin("medium")
        let sim = try PatternSimulator(material: material, detector: det)
        let outcomes = parallelMap(200) { i -> (keep: Int, error: Double?) in
            var g = SeededGenerator(seed: 2600, stream: UInt64(i))
            let u = Quaternion.random(using: &g).matrix
            let peaks = PeakSearcher().search(sim.simulate(PatternTruth(defect: .noDefect, orientation: u), seed: 2600 &+ UInt64(i))).peaks
                .sorted { $0.intensity > $1.intensity }
            let keep = [3, 5, 7, 8, 9, 10, 11, 12, 14, 16][i % 10]
            let indexer = try! Indexer(material: material, calibration: det.calibration)
            var spots = Array(peaks.prefix(keep)).map(ObservedSpot.init)
            // Intensities that say nothing (shuffled): only positions and the band remain.
            let shuffled = spots.map(\.intensity).shuffled(using: &g)
            for k in spots.indices { spots[k].intensity = shuffled[k] }
            let r = indexer.index(spots)
            return (keep, r.grains.first.map { material.misorientation($0.orientation, u) })
        }
        let indexed = outcomes.compactMap(\.error)
        let wrong = outcomes.filter { ($0.error ?? 0) > 0.1 }
        print("twin ambiguity: \(indexed.count) of 200 indexed, \(wrong.count) wrong: \(wrong.map { "\($0.keep) spots \(String(format: "%.1f", $0.error!)) deg" })")
        #expect(wrong.isEmpty)
        // Fewer spots than an orientation needs: never indexed.
        #expect(outcomes.filter { $0.keep < 8 && $0.error != nil }.isEmpty)
        // Enough spots: the band's harmonics decide (the twin's lowest allowed harmonic of a third of
        // the directions is the third), so most are indexed, correctly.
        #expect(outcomes.filter { $0.keep >= 8 && $0.error != nil }.count >= 130, "\(indexed.count) indexed")
    }
}
