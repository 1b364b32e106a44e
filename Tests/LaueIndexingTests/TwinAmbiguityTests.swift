import Foundation
import Testing
import LaueCore
import LaueIndexing
import LauePeaks
import LaueSimulation

/// LiCoO2 (R-3m) and its obverse/reverse twin (a 60 deg turn about c) put every spot direction in the
/// same place: only harmonics (so the band's edges) and intensities tell them apart. 200 simulated
/// patterns cut to their 3-16 strongest spots, with shuffled intensities (they must not decide): fewer
/// than `minimumIndexed` spots are refused, 6-7 spots are indexed unless the twin or a mate ties
/// (`unambiguousIndexed`), and no answer is ever the twin or another wrong orientation.
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
            let keep = [3, 5, 6, 7, 8, 9, 10, 12, 14, 16][i % 10]
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
        #expect(IndexingOptions().minimumIndexed == 6)
        #expect(outcomes.filter { $0.keep < 6 && $0.error != nil }.isEmpty)
        // 6-7 spots: indexed unless the twin ties (the ties are refused; 185 of 200 and 195 of 200 were
        // indexed in a run of 800 patterns, seeds 2600+, none wrong).
        #expect(outcomes.filter { $0.keep < 8 && $0.keep >= 6 && $0.error != nil }.count >= 32, "\(indexed.count) indexed")
        // Enough spots: the band's harmonics decide (the twin's lowest allowed harmonic of a third of
        // the directions is the third), so most are indexed, correctly.
        #expect(outcomes.filter { $0.keep >= 8 && $0.error != nil }.count >= 110, "\(indexed.count) indexed")
    }

    /// The lattice twins: LiCoO2 (R-3m in hexagonal axes, holohedry 6/mmm) has one class, 60° about c;
    /// Ge (Fd-3m) and GaN (P6₃mc), whose Laue groups are their lattices' holohedries, have none.
    @Test func latticeTwinsAreTheHolohedryOutsideTheLaueGroup() throws {
        let lco = try Material.builtin("LiCoO2")
        let twins = PseudoSymmetry.twinFactors(of: lco)
        #expect(twins.count == 1)
        for t in twins {
            #expect(abs(lco.misorientation(t, .identity) - 60) < 1e-6)
            // Its class holds the turn by 60° about c (Cartesian z of B0).
            let z = Vec3(0, 0, 1)
            #expect(lco.symmetryRotations.contains { s in
                let r = t * s
                return (r * z - z).length < 1e-9 && abs(Rotation.angle(of: r) * 180 / .pi - 60) < 1e-6
            })
        }
        #expect(PseudoSymmetry.twinFactors(of: try Material.builtin("Ge")).isEmpty)
        #expect(PseudoSymmetry.twinFactors(of: try Material.builtin("GaN")).isEmpty)
    }

    /// Not only twins tie: the six strongest spots of this LiCoO2 pattern (medium detector, seed 2789,
    /// intensities reversed) are indexed as well by an orientation 90.6° from the truth (1.1 px mean
    /// deviation) as by the truth (0.01 px); the intensities picked the wrong one. Found by a review
    /// (3 wrong of 1,600 six- and seven-spot patterns of seeds 2600-3399, none after the rule): another
    /// refined candidate that indexes as many spots makes so few spots ambiguous.
    @Test func anUnrelatedTieIsRefused() throws {
        let material = try Material.builtin("LiCoO2")
        let det = try SimulatedDetector.builtin("medium")
        var request = PatternRequest()
        request.seed = 2789
        let (image, truth, _) = try request.simulate(material: material, detector: det)
        var spots = Array(PeakSearcher().search(image).peaks.sorted { $0.intensity > $1.intensity }.prefix(6)).map(ObservedSpot.init)
        let reversed = Array(spots.map(\.intensity).reversed())
        for k in spots.indices { spots[k].intensity = reversed[k] }
        let r = try Indexer(material: material, calibration: det.calibration).index(spots)
        #expect(r.grains.allSatisfy { material.misorientation($0.orientation, truth.orientation) < 0.1 }, "\(r.grains.map { material.misorientation($0.orientation, truth.orientation) })")
        #expect(r.status == .unindexed && (r.reason ?? "").contains("ambiguous"), "\(r.reason ?? "indexed")")
    }
}
