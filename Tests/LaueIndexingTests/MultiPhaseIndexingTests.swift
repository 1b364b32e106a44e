import Foundation
import Testing
import LaueCore
import LaueIndexing
import LaueIO
import LauePeaks
import LaueSimulation
import LaueTestSupport

/// Several phases in one frame (`MultiPhaseIndexer`), on semi-real frames with known truth: the real
/// Si substrate frame nw1_0000.tif plus the simulated pattern of a phase it does not hold (LiCoO2 in
/// a known random orientation, drawn with the frame's own geometry).
@Suite struct MultiPhaseIndexingTests {
    @Test func substratePlusASecondPhaseIndexesBoth() throws {
        let calibration = try LaueToolsCalibration.read(path: Fixtures.path("real/nw1_calib.det"))
        let frame = try ImageReader.read(path: Fixtures.path("real/nw1_0000.tif"))
        let si = try Material.builtin("Si"), lco = try Material.builtin("LiCoO2")
        // The substrate's orientation on the real frame alone (0.001 deg from LaueTools', docs/indexing.md).
        let substrate = try #require(try Indexer(material: si, calibration: calibration)
            .index(PeakSearcher().search(frame).peaks.map(ObservedSpot.init)).grains.first)
        let detector = SimulatedDetector(name: "nw1", calibration: calibration, pointSpread: .gaussian(fwhm: 2.5), effects: .ideal)
        let sim = try PatternSimulator(material: lco, detector: detector, brightestSpotCounts: 20_000)
        var options = IndexingOptions()
        options.maxGrains = 3
        let both = try MultiPhaseIndexer(materials: [si, lco], calibration: calibration, options: options)
        let siOnly = try Indexer(material: si, calibration: calibration)
        for k in 0..<5 {
            var g = SeededGenerator(seed: 3100 + UInt64(k))
            let u = Quaternion.random(using: &g).matrix
            let second = sim.diffractedIntensity(orientation: u, defect: .noDefect, seed: UInt64(k))
            var image = frame
            for i in image.pixels.indices { image.pixels[i] += second[i] }
            let spots = PeakSearcher().search(image).peaks.map(ObservedSpot.init)
            let r = both.index(spots)
            let siGrains = r.grains.filter { $0.phase == "Si" }, lcoGrains = r.grains.filter { $0.phase == "LiCoO2" }
            let siGrain = try #require(siGrains.first, "pattern \(k): no Si grain (\(r.reason ?? ""))")
            let lcoGrain = try #require(lcoGrains.first, "pattern \(k): no LiCoO2 grain (\(r.reason ?? ""))")
            #expect(si.misorientation(siGrain.orientation, substrate.orientation) < 0.005, "pattern \(k): Si off")
            #expect(lco.misorientation(lcoGrain.orientation, u) < 0.02, "pattern \(k): LiCoO2 off by \(lco.misorientation(lcoGrain.orientation, u)) deg")
            #expect(lcoGrain.indexedCount >= 8 && siGrain.indexedCount >= 80, "pattern \(k): \(siGrain.indexedCount) Si, \(lcoGrain.indexedCount) LiCoO2 spots")
            // No grain of either phase is made of the other's spots: every grain is one of the two truths.
            for grain in r.grains {
                let m = grain.phase == "Si" ? si.misorientation(grain.orientation, substrate.orientation) : lco.misorientation(grain.orientation, u)
                #expect(m < 0.05 || grain.phase == "GaN", "pattern \(k): extra \(grain.phase) grain \(m) deg away")
            }
            // The substrate alone is still found among the other phase's spots (no fraction rule).
            let alone = siOnly.index(spots)
            #expect(alone.grains.first.map { si.misorientation($0.orientation, substrate.orientation) < 0.005 } == true)
        }
    }

    /// `lauemap index --material Si,GaN` on the real GaN-nanowires-on-Si frame: the Si substrate and the
    /// nanowires' GaN grains, each with its phase, in the JSON and the .fit file.
    @Test func commandLineReportsEachGrainsPhase() throws {
        let exe = try #require(Fixtures.lauemapExecutable, "lauemap executable not found next to the tests")
        let fit = Fixtures.temporaryFolder("multiphase") + "/nw1.fit"
        let r = try Command.run(exe, ["index", Fixtures.path("real/nw1_0001.tif"), "--calib", Fixtures.path("real/nw1_calib.det"),
                                      "--material", "Si,GaN", "--grains", "3", "--json", "--fit-out", fit])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let phases = (json["grains"] as? [[String: Any]] ?? []).compactMap { $0["phase"] as? String }
        #expect(phases.first == "Si" && phases.contains("GaN"), "\(phases)")
        let grains = try LaueToolsFit.read(path: fit).grains
        #expect(grains.map(\.material) == phases)
        let dup = try Command.run(exe, ["index", Fixtures.path("real/nw1_0001.tif"), "--calib", Fixtures.path("real/nw1_calib.det"), "--material", "Si,Si"])
        #expect(dup.status != 0 && dup.stderr.contains("twice"))
        // A frame of another size than its calibration's detector (the 2016 x 2018 sCMOS frame with the
        // 2048 x 2048 MarCCD calibration) is refused, naming both, not indexed in a wrong geometry.
        let other = try Command.run(exe, ["index", Fixtures.path("lauetools/img_Ge_sCMOS_0000.tif"), "--calib",
                                          Fixtures.path("lauetools/calibGe111.det"), "--material", "Ge"])
        #expect(other.status != 0 && other.stderr.contains("img_Ge_sCMOS_0000.tif") && other.stderr.contains("2016 x 2018")
                && other.stderr.contains("2048 x 2048"), "\(other.status) \(other.stderr)")
        // So is `lauemap peaks --calib` (its angle columns would come from the wrong geometry).
        let peaks = try Command.run(exe, ["peaks", Fixtures.path("lauetools/img_Ge_sCMOS_0000.tif"), "--calib",
                                          Fixtures.path("lauetools/calibGe111.det"), "--csv"])
        #expect(peaks.status != 0 && peaks.stderr.contains("img_Ge_sCMOS_0000.tif") && peaks.stderr.contains("2016 x 2018")
                && peaks.stderr.contains("2048 x 2048") && peaks.stdout.isEmpty, "\(peaks.status) \(peaks.stderr)")
    }
}
