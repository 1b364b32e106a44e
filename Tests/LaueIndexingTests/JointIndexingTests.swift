import Foundation
import Testing
import LaueCore
import LaueIO
import LaueIndexing
import LauePeaks
import LaueSimulation
import LaueTestSupport

/// Indexing one point recorded on several detectors (34-ID-E's top detector and two side detectors),
/// each with its own calibration: frames simulated on each detector (the simulator projects through
/// the same geometry, but the truth orientation is drawn independently of the indexer), peaks found on
/// each frame, indexed jointly.
@Suite struct JointIndexingTests {
    /// An APS-like top detector (510 mm) and two side detectors at ±90° about the beam, 400 mm away.
    static let top = try! SimulatedDetector.builtin("aps")
    static func side(_ azimuth: Double) -> SimulatedDetector {
        var d = top
        d.name = "side\(azimuth)"
        d.calibration.distance = 400
        d.calibration.xcen = 1000.5; d.calibration.ycen = 1060.5; d.calibration.xbet = 0.4; d.calibration.xgam = -0.3
        d.calibration.azimuth = azimuth
        return d
    }
    static let detectors = [top, side(90), side(-90)]

    @Test func sideDetectorGeometryIsTheTopOneRotatedAboutTheBeam() throws {
        let c = JointIndexingTests.side(90).calibration
        var topFrame = c
        topFrame.azimuth = 0
        for (x, y) in [(1.0, 1.0), (1000.5, 1060.5), (2048.0, 17.0), (300.0, 1900.0)] {
            let k = c.scatteredDirection(x: x, y: y), t = topFrame.scatteredDirection(x: x, y: y)
            // Rotation about the beam (x): the top frame's +z goes to +y.
            #expect(abs(k.x - t.x) < 1e-12 && abs(k.y - t.z) < 1e-12 && abs(k.z + t.y) < 1e-12)
            let back = try #require(c.pixel(kf: k))
            #expect(abs(back.x - x) < 1e-7 && abs(back.y - y) < 1e-7)
        }
        // The frame's centre looks along +y, at 2θ = 90°; a top-detector direction misses it.
        #expect(c.scatteredDirection(x: 1000.5, y: 1060.5).y > 0.99)
        #expect(c.pixel(kf: Vec3(0, 0, 1)) == nil)
    }

    @Test func detFilesCarryTheAzimuth() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("joint-det-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for azimuth in [90.0, -90.0, 37.5, 0] {
            var c = JointIndexingTests.side(azimuth).calibration
            c.detectorLabel = "PE0820"
            let path = dir + "/side.det"
            try LaueToolsCalibration.writeDet(c, to: path)
            let back = try LaueToolsCalibration.readDet(path: path)
            #expect(back.azimuth == azimuth && back.distance == c.distance && back.xcen == c.xcen)
        }
        let text = try String(contentsOfFile: Fixtures.path("lauetools/calibGe111.det"), encoding: .utf8)
        #expect(try LaueToolsCalibration.parseDet(text.replacingOccurrences(of: "Z>0", with: "Y<0")).azimuth == -90)
        #expect(throws: LaueError.self) { try LaueToolsCalibration.parseDet(text.replacingOccurrences(of: "Z>0", with: "X>0")) }
        #expect(throws: LaueError.self) { try LaueToolsCalibration.parseDet(text + "\n# azimuth : 1e400\n") }
    }

    /// The peaks of each detector's frame, tagged with their detector.
    static func spots(_ sims: [PatternSimulator], orientation u: Mat3, seed: UInt64) -> [ObservedSpot] {
        var out: [ObservedSpot] = []
        for (d, sim) in sims.enumerated() {
            let image = sim.simulate(PatternTruth(defect: .noDefect, orientation: u), seed: seed &+ UInt64(d) &* 7919)
            out += PeakSearcher(options: PeakSearchOptions()).search(image).peaks.map { ObservedSpot($0, detector: d) }
        }
        return out
    }

    /// 60 random LiCoO2 orientations in an 8-14 keV band (few spots on the far top detector): joint
    /// indexing is right (within 0.02°) wherever it answers, answers wherever the top detector alone
    /// does, indexes spots on the side detectors, keeps each spot on the detector it was found on, and
    /// indexes points whose top frame alone has too few spots.
    @Test func threeDetectorsIndexJointly() throws {
        let material = try Material.builtin("LiCoO2")
        let band = 8.0...14.0
        let options = { var o = IndexingOptions(); o.energyRange = band; return o }()
        let sims = try JointIndexingTests.detectors.map { try PatternSimulator(material: material, detector: $0, energyRange: band) }
        let calibrations = JointIndexingTests.detectors.map(\.calibration)
        let results = parallelMap(60) { i -> (joint: Double?, top: Double?, side: Int, detectorsKept: Bool, topPeaks: Int) in
            var g = SeededGenerator(seed: 7100, stream: UInt64(i))
            let u = Quaternion.random(using: &g).matrix
            let spots = JointIndexingTests.spots(sims, orientation: u, seed: 7100 &+ UInt64(i))
            let joint = try! Indexer(material: material, calibrations: calibrations, options: options).index(spots)
            let topOnly = try! Indexer(material: material, calibration: calibrations[0], options: options).index(spots.filter { $0.detector == 0 })
            let grain = joint.grains.first
            return (grain.map { material.misorientation($0.orientation, u) },
                    topOnly.grains.first.map { material.misorientation($0.orientation, u) },
                    grain?.spots.filter { $0.detector > 0 }.count ?? 0,
                    grain?.spots.allSatisfy { spots[$0.peakIndex].detector == $0.detector } ?? true,
                    spots.filter { $0.detector == 0 }.count)
        }
        let wrong = results.compactMap(\.joint).filter { $0 > 0.02 }
        #expect(wrong.isEmpty, "joint orientations off by \(wrong)")
        // Alone, the top detector's 4-12 spots fix the orientation less well (one at 0.1°), never wrongly.
        #expect(results.compactMap(\.top).allSatisfy { $0 <= 0.2 }, "top alone: \(results.map { ($0.top ?? -1, $0.topPeaks) })")
        #expect(results.allSatisfy { $0.detectorsKept })
        let jointCount = results.filter { $0.joint != nil }.count, topCount = results.filter { $0.top != nil }.count
        #expect(results.allSatisfy { $0.top == nil || $0.joint != nil }, "a point the top detector indexes is lost jointly")
        let rescued = results.filter { $0.top == nil && $0.joint != nil }
        #expect(rescued.count >= 3, "joint \(jointCount), top alone \(topCount) of 60; top peaks of the rescued: \(rescued.map(\.topPeaks))")
        #expect(results.filter { $0.joint != nil }.allSatisfy { $0.side > 0 })
    }
}
