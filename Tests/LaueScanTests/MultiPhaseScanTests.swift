import Foundation
import Testing
import LaueCore
import LaueIO
import LauePeaks
import LaueIndexing
import LaueSimulation
import LaueScan
import LaueTestSupport

/// Scans of several phases (`scan run --material A,B`, docs/scan-pipeline.md "Several phases"): the rows
/// are about the scan's material, the other phases' grains are listed, and maps, tables and the .ctf
/// are per phase.
@Suite(.serialized) struct MultiPhaseScanTests {
    static let si = try! Material.builtin("Si")

    /// A LiCoO2 particle on a Si substrate whose orientation changes per domain (`ScanSpec.confounders`
    /// substrate, 1-2x as bright as the particle; medium detector, seed 9191, never used for tuning).
    static let scan: String = {
        let dir = Fixtures.temporaryFolder("particle-substrate")
        var spec = ScanSpec(material: TestScans.lco, detector: try! SimulatedDetector.builtin("medium"), columns: 10, rows: 10, stepUm: 0.5, seed: 9191)
        spec.confounders = [.substrate]
        _ = try! SimulatedScanWriter.write(spec, to: dir, options: SimulatedScanWriter.Options())
        return dir
    }()

    static func settings() throws -> ScanSettings {
        var s = try TestScans.settings(scan)
        s.otherPhases = [si]
        return s
    }

    @Test func aParticleOnItsSubstrate() throws {
        let truth = try CSVTable.read(path: (Self.scan as NSString).appendingPathComponent("truth.csv"))
        let confounder = try #require(truth.index(of: "confounder"))
        let onSubstrate = Set(truth.rows.indices.filter { truth.rows[$0][confounder] == "substrate" })
        #expect(onSubstrate.count >= 30, "\(onSubstrate.count) points on the substrate")

        let out = Fixtures.temporaryFolder("particle-substrate-run")
        var options = ScanRunOptions(); options.jobs = 2
        _ = try ScanRunner(scan: Self.scan, settings: Self.settings(), output: out, options: options).run()
        let records = try ScanOutputs.readPatterns(out + "/patterns.csv")
        let e = try ScanEvaluation(truth: truth, results: records, symmetry: TestScans.lco.symmetryRotations)
        print(e.report)
        #expect(e.wrongOrientations == 0)
        #expect(e.macroF1 >= 0.95, "macro-F1 \(e.macroF1)")
        // Every indexed row is about the particle; where the substrate diffracts, its grain is listed.
        #expect(records.filter { $0.status == .indexed }.allSatisfy { $0.phase == "LiCoO2" })
        let listed = records.filter { r in onSubstrate.contains(r.index) && r.otherGrains.split(separator: ";").contains { g in
            g.hasPrefix("Si:") && (Int(g.dropFirst(3)) ?? 0) >= 20 } }
        #expect(Double(listed.count) >= 0.9 * Double(onSubstrate.count), "Si listed at \(listed.count) of \(onSubstrate.count) substrate points")
        #expect(records.allSatisfy { onSubstrate.contains($0.index) || !$0.otherGrains.contains("Si:") }, "Si listed off the substrate")
        // Found from scratch: no LiCoO2 orientation fitted to the substrate's spots had to be replaced.
        #expect(!records.contains { $0.reason.contains("another crystal also diffracts here") })

        // Maps per phase, the phase map, a two-phase .ctf, a table per phase.
        let h5 = try HDF5File(path: out + "/results.h5")
        let phaseMap = try h5.read("/maps/phase", as: Int32.self).values
        #expect(phaseMap.filter { $0 == 0 }.count == records.filter { $0.status == .indexed }.count && !phaseMap.contains(1))
        // No row is about Si (it is found only beside the particle): no empty Si maps.
        #expect(!h5.exists("/maps/phases/Si") && !FileManager.default.fileExists(atPath: out + "/maps/phases/Si/class.png"))
        #expect(FileManager.default.fileExists(atPath: out + "/maps/phase.png"))
        let ctf = try String(contentsOfFile: out + "/orientations.ctf", encoding: .utf8)
        #expect(ctf.contains("Phases\t2\n") && ctf.contains("\tLiCoO2\t7\t166\n") && ctf.contains("\tSi\t11\t227\n"))
        for (kind, file) in [("ctf", "/orientations.ctf"), ("ang", "/orientations.ang")] {
            if let check = try Fixtures.checkOutputs([kind, out + file, out + "/patterns.csv"]) {
                #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
            } else {
                print("skipped: orix check (no Python checker: tools/install-deps --test)")
            }
        }
        let table = try DefectFractionTable.load(folders: [out], phase: "LiCoO2")
        #expect(table.overall.total == records.filter { $0.phase == "LiCoO2" }.count)
        #expect { try DefectFractionTable.load(folders: [out], phase: "Si") } throws: { e in
            (e as? LaueError)?.description.contains("found only beside them (other_grains): Si") ?? false
        }

        // Shards merged with the same phases give the whole run's rows.
        var parts: [String] = []
        for k in 0..<2 {
            let part = Fixtures.temporaryFolder("particle-substrate-shard")
            var o = ScanRunOptions(); o.jobs = 2; o.shard = try Shard(index: k, count: 2)
            _ = try ScanRunner(scan: Self.scan, settings: Self.settings(), output: part, options: o).run()
            parts.append(part)
        }
        let merged = Fixtures.temporaryFolder("particle-substrate-merged")
        #expect(throws: LaueError.self) { try ScanMerge.merge(parts, into: merged, material: TestScans.lco) }
        _ = try ScanMerge.merge(parts, into: merged, material: TestScans.lco, otherPhases: [Self.si], jobs: 2)
        #expect(try String(contentsOfFile: merged + "/patterns.csv", encoding: .utf8) == String(contentsOfFile: out + "/patterns.csv", encoding: .utf8))
    }

    /// The real GaN nanowires on Si (BM32): `scan run --material Si,GaN` gives the grains `lauemap index
    /// --material Si,GaN` finds on the same frames (3 grains by default); with GaN first the rows are about GaN.
    @Test func realGaNOnSiAgreesWithIndex() throws {
        let dir = Fixtures.temporaryFolder("realscan-phases")
        let frames = ["real/nw1_0000.tif", "real/nw1_0001.tif"]
        var text = "file,x_um,y_um\n"
        for (i, f) in frames.enumerated() { text += "\(Fixtures.path(f)),\(Double(i)),0\n" }
        try text.write(toFile: dir + "/scan.csv", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Fixtures.path("real/nw1_calib.det"), toPath: dir + "/calib.det")
        let calibration = try LaueToolsCalibration.read(path: dir + "/calib.det")
        let gan = try Material.builtin("GaN")
        for phases in [[Self.si, gan], [gan, Self.si]] {
            var settings = ScanSettings(material: phases[0], calibration: calibration)
            settings.otherPhases = Array(phases.dropFirst())
            let out = Fixtures.temporaryFolder("realscan-phases-out")
            var options = ScanRunOptions(); options.jobs = 1
            _ = try ScanRunner(scan: dir, settings: settings, output: out, options: options).run()
            let rows = try ScanOutputs.readPatterns(out + "/patterns.csv")
            var io = IndexingOptions(); io.maxGrains = 3
            let indexer = try MultiPhaseIndexer(materials: phases, calibration: calibration, options: io)
            for (row, frame) in zip(rows, frames) {
                let grains = indexer.index(PeakSearcher().search(try ImageReader.read(path: Fixtures.path(frame))).peaks.map(ObservedSpot.init)).grains
                let own = try #require(grains.firstIndex { $0.phase == phases[0].name })
                #expect(row.phase == phases[0].name && row.indexedCount == grains[own].indexedCount, "\(frame): \(row.phase) \(row.indexedCount ?? 0)")
                if let u = row.orientation { #expect(phases[0].misorientation(u, grains[own].orientation) < 0.001) }
                let others = grains.indices.filter { $0 != own }.map { "\(grains[$0].phase):\(grains[$0].indexedCount)" }.joined(separator: ";")
                #expect(row.otherGrains == others, "\(frame): scan \(row.otherGrains), index \(others)")
                if phases[0].name == "Si" { #expect(row.defectClass == .noDefect, "\(frame): \(row.defectClass.rawValue) \(row.reason)") }
            }
            #expect(rows[1].otherGrains.split(separator: ";").count >= 2, "nw1_0001 holds Si and two GaN grains")
            if phases[0].name == "GaN" {
                // Where GaN's 17-spot grain is refused (at least 20 spots), nw1_0000's row is about Si: the
                // Si maps exist, on the run's grid, and /maps/phase says which cell is which.
                var strict = settings
                strict.indexingOptions.minimumIndexed = 20
                let out2 = Fixtures.temporaryFolder("realscan-phases-strict")
                _ = try ScanRunner(scan: dir, settings: strict, output: out2, options: options).run()
                let rows2 = try ScanOutputs.readPatterns(out2 + "/patterns.csv")
                #expect(rows2.map(\.phase) == ["Si", "GaN"], "\(rows2.map(\.phase))")
                let h5 = try HDF5File(path: out2 + "/results.h5")
                #expect(try h5.read("/maps/phase", as: Int32.self).values == [1, 0])
                #expect(try h5.read("/maps/phases/Si/class", as: Int32.self).values.map { $0 >= 0 } == [true, false])
                #expect(try h5.read("/maps/class", as: Int32.self).values.map { $0 >= 0 } == [false, true])
            }
            if let check = try Fixtures.checkOutputs(["ctf", out + "/orientations.ctf", out + "/patterns.csv"]) {
                #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
            }
        }
    }
}
