import Foundation
import Testing
import LaueCore
import LaueIO
import LaueSimulation
import LaueTestSupport

@Suite struct ScanSimulationTests {
    func spec(seed: UInt64, columns: Int = 6, rows: Int = 5) throws -> ScanSpec {
        try ScanSpec(material: Material.builtin("LiCoO2"), detector: SimulatedDetector.builtin("small"),
                     columns: columns, rows: rows, stepUm: 0.5, seed: seed)
    }

    func files(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(atPath: dir)!
        while let f = e.nextObject() as? String {
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir)
            if !isDir.boolValue { out[f] = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + f)) }
        }
        return out
    }

    @Test(arguments: ScanLayoutKind.allCases)
    func sameSeedGivesByteIdenticalOutputWhateverTheThreads(_ layout: ScanLayoutKind) throws {
        var a = SimulatedScanWriter.Options(); a.layout = layout; a.jobs = 1
        var b = a; b.jobs = 2
        let d1 = Fixtures.temporaryFolder("scanA"), d2 = Fixtures.temporaryFolder("scanB")
        try SimulatedScanWriter.write(spec(seed: 9), to: d1, options: a)
        try SimulatedScanWriter.write(spec(seed: 9), to: d2, options: b)
        let f1 = try files(d1), f2 = try files(d2)
        #expect(Set(f1.keys) == Set(f2.keys))
        #expect(f1.keys.count >= (layout == .folder ? 34 : 4))
        for (k, v) in f1 { #expect(f2[k] == v, "\(k) differs") }
    }

    @Test func differentSeedsGiveDifferentScans() throws {
        let d1 = Fixtures.temporaryFolder("scanC"), d2 = Fixtures.temporaryFolder("scanD")
        let p1 = try SimulatedScanWriter.write(spec(seed: 1), to: d1)
        let p2 = try SimulatedScanWriter.write(spec(seed: 2), to: d2)
        #expect(p1.map { $0.truth.orientation } != p2.map { $0.truth.orientation })
        let t1 = try String(contentsOfFile: d1 + "/truth.csv", encoding: .utf8)
        let t2 = try String(contentsOfFile: d2 + "/truth.csv", encoding: .utf8)
        #expect(t1 != t2)
        let i1 = try Data(contentsOf: URL(fileURLWithPath: d1 + "/images/img_00014.tif"))
        let i2 = try Data(contentsOf: URL(fileURLWithPath: d2 + "/images/img_00014.tif"))
        #expect(i1 != i2)
    }

    @Test func bothLayoutsReadBackWithTheirPositionsAndTruth() throws {
        for layout in ScanLayoutKind.allCases {
            let dir = Fixtures.temporaryFolder("scanR")
            var o = SimulatedScanWriter.Options(); o.layout = layout
            let points = try SimulatedScanWriter.write(spec(seed: 4), to: dir, options: o)
            let scan = try ScanManifest.open(dir)
            #expect(scan.layout == (layout == .folder ? .folder : .hdf5))
            #expect(scan.patterns.count == 30 && scan.calibrationPath != nil)
            for (p, q) in zip(scan.patterns, points) {
                #expect(p.xUm == q.xUm && p.yUm == q.yUm)
            }
            let image = try scan.readImage(scan.patterns[17])
            #expect(image.width == 512 && image.height == 512)
            // The stored frame is the simulation of that point.
            let sim = try PatternSimulator(material: Material.builtin("LiCoO2"), detector: SimulatedDetector.builtin("small"))
            let again = sim.simulate(points[17].truth, seed: SimulatedScanWriter.patternSeed(4, 17))
            #expect(image.pixels == again.pixels.map { $0.rounded() })
            let truth = try CSVTable.read(path: dir + "/truth.csv")
            #expect(truth.rows.count == 30)
            #expect(truth.column("class") == points.map { $0.truth.defectClass.rawValue })
            let calib = try LaueToolsCalibration.readDet(path: scan.calibrationPath!)
            #expect(calib.width == 512 && calib.distance == 110)
        }
    }

    @Test func domainsAreCoherentAndEveryClassAppears() throws {
        let points = try ScanPlanner.plan(spec(seed: 12, columns: 30, rows: 30))
        let inside = points.filter { $0.truth.diffracting }
        #expect(inside.count > 400 && inside.count < 800)
        let classes = Set(inside.map { $0.truth.defectClass })
        #expect(classes == Set(DefectClass.physical))
        #expect(points.filter { !$0.truth.diffracting }.allSatisfy { $0.truth.defectClass == .unindexed })
        // Neighbours mostly share their class (domains, not salt and pepper).
        var same = 0, pairs = 0
        for p in inside where p.column + 1 < 30 {
            let q = points[p.index + 1]
            guard q.truth.diffracting else { continue }
            pairs += 1
            if q.truth.defectClass == p.truth.defectClass { same += 1 }
        }
        #expect(Double(same) / Double(pairs) > 0.75)
        // The base orientation varies slowly: neighbours within 0.05 deg, the particle within 0.3 deg of
        // its centre (the requested gradient across the particle).
        let lco = try Material.builtin("LiCoO2")
        #expect(lco.misorientation(points[0].truth.orientation, points[1].truth.orientation) < 0.05)
        let centre = points[15 * 30 + 15].truth.orientation
        #expect(inside.map { lco.misorientation($0.truth.orientation, centre) }.max()! < 0.3)
        // Parameters vary smoothly inside a domain and stay in range.
        for p in inside where p.truth.defectClass == .gnd {
            #expect(p.truth.defect.spread >= 0.3 * 0.85 && p.truth.defect.spread <= 0.9 * 1.15)
        }
    }

    @Test func classWeightsShapeTheFractions() throws {
        var s = try spec(seed: 5, columns: 60, rows: 60)
        s.classes = [.gnd, .noDefect]
        s.classWeights = [9, 1]
        let inside = try ScanPlanner.plan(s).filter { $0.truth.diffracting }
        let gnd = Double(inside.filter { $0.truth.defectClass == .gnd }.count) / Double(inside.count)
        #expect(gnd > 0.7)
        s.classWeights = [1]
        #expect(throws: LaueError.self) { try ScanPlanner.plan(s) }
    }
}
