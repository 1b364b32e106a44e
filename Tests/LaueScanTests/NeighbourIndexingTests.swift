import Foundation
import Testing
import LaueCore
import LaueIO
import LaueScan
import LaueSimulation
import LaueTestSupport

/// Scan-guided indexing on an APS-like simulated particle (2048² at 510 mm, seed 202, never used for
/// tuning) whose orientation leaves few spots per point: some points need their neighbours (most did
/// when an orientation from scratch needed 8 indexed spots; 6 since 2026-12-07).
@Suite(.serialized) struct NeighbourIndexingTests {
    static let scan: String = {
        let dir = Fixtures.temporaryFolder("aps-sparse")
        let spec = ScanSpec(material: TestScans.lco, detector: try! SimulatedDetector.builtin("aps"), columns: 8, rows: 8, stepUm: 0.5, seed: 202)
        _ = try! SimulatedScanWriter.write(spec, to: dir, options: SimulatedScanWriter.Options())
        return dir
    }()
    static let whole: String = {
        let out = Fixtures.temporaryFolder("aps-sparse-run")
        try! TestScans.run(scan, into: out)
        return out
    }()

    @Test func sparsePointsIndexFromTheirNeighbours() throws {
        let records = try ScanOutputs.readPatterns((NeighbourIndexingTests.whole as NSString).appendingPathComponent("patterns.csv"))
        let truth = try CSVTable.read(path: (NeighbourIndexingTests.scan as NSString).appendingPathComponent("truth.csv"))
        let e = try ScanEvaluation(truth: truth, results: records, symmetry: TestScans.lco.symmetryRotations)
        print(e.report)
        let classIndex = try #require(truth.index(of: "class"))
        let particle = Set(truth.rows.filter { $0[classIndex] != "unindexed" }.map { $0[truth.index(of: "file")!] })
        let inside = records.filter { particle.contains($0.file) }
        let indexed = inside.filter { $0.status == .indexed }
        let scratch = indexed.filter { $0.indexedBy == .scratch }.count
        #expect(Double(indexed.count) >= 0.9 * Double(inside.count), "\(indexed.count) of \(inside.count) particle points indexed")
        // Since the coarse pass of the peak search (2026-12-07) 37 of 39 index from scratch.
        #expect(indexed.count - scratch >= 2, "\(scratch) of \(indexed.count) indexed from scratch: the pass should matter here")
        #expect(e.wrongOrientations == 0)
        let neighbourErrors = e.orientationErrors[.neighbour] ?? []
        #expect(!neighbourErrors.isEmpty && neighbourErrors.allSatisfy { $0 < 1 }, "neighbour-indexed orientation errors \(neighbourErrors.sorted().suffix(3))")
        // Outside the particle nothing is indexed, from scratch or from neighbours.
        #expect(records.filter { !particle.contains($0.file) && $0.status == .indexed }.isEmpty)
        #expect(e.macroF1 >= 0.95, "macro-F1 \(e.macroF1)")
    }

    /// Shards merged (the pass runs in the merge) and a run stopped then resumed (the pass runs at the
    /// resume) give the whole run's files byte for byte.
    @Test func shardsAndResumeGiveTheWholeRunsFiles() throws {
        var folders: [String] = []
        for k in 0..<2 {
            let out = Fixtures.temporaryFolder("aps-sparse-shard")
            try TestScans.run(NeighbourIndexingTests.scan, into: out) { $0.shard = try! Shard(index: k, count: 2) }
            folders.append(out)
        }
        let merged = Fixtures.temporaryFolder("aps-sparse-merged")
        _ = try ScanMerge.merge(folders, into: merged, material: TestScans.lco, jobs: 2)
        let resumed = Fixtures.temporaryFolder("aps-sparse-resumed")
        let first = try TestScans.run(NeighbourIndexingTests.scan, into: resumed) { $0.stopAfter = 40; $0.batchSize = 16 }
        #expect(!first.complete)
        let second = try TestScans.run(NeighbourIndexingTests.scan, into: resumed) { $0.resume = true }
        #expect(second.complete && second.neighbourIndexed > 0)
        for f in ["patterns.csv", "peaks.csv"] {
            let reference = TestScans.text(NeighbourIndexingTests.whole, f)
            #expect(reference.contains(",neighbour") || f == "peaks.csv")
            #expect(TestScans.text(merged, f) == reference, "merged \(f) differs")
            #expect(TestScans.text(resumed, f) == reference, "resumed \(f) differs")
        }
        // Switching the pass off on resume is refused (a different setting).
        var settings = try TestScans.settings(NeighbourIndexingTests.scan)
        settings.neighbourIndexing = nil
        var options = ScanRunOptions(); options.resume = true
        #expect(throws: LaueError.self) {
            _ = try ScanRunner(scan: NeighbourIndexingTests.scan, settings: settings, output: resumed, options: options).run()
        }
        // So is another point spread than the run's.
        var psf = ScanRunOptions(); psf.resume = true; psf.pointSpreadSigma = 3.3
        #expect { _ = try ScanRunner(scan: NeighbourIndexingTests.scan, settings: TestScans.settings(NeighbourIndexingTests.scan), output: resumed, options: psf).run() } throws: { e in
            (e as? LaueError)?.description.contains("point spread") ?? false
        }
    }
}

/// A particle partly covered by brighter crystals of the same phase (neighbouring grains, crowded
/// grains: `ScanSpec.confounders`, medium detector, seed 818, never used for tuning): from scratch the
/// other crystals take most points; the second pass finds the particle by its presence across the scan
/// and reports it wherever it diffracts.
@Suite(.serialized) struct ParticleUnderOtherCrystalsTests {
    static let scan: String = {
        let dir = Fixtures.temporaryFolder("particle-crowded")
        var spec = ScanSpec(material: TestScans.lco, detector: try! SimulatedDetector.builtin("medium"), columns: 10, rows: 10, stepUm: 0.5, seed: 818)
        spec.confounders = [.neighbour, .crowded]
        _ = try! SimulatedScanWriter.write(spec, to: dir, options: SimulatedScanWriter.Options())
        return dir
    }()

    func evaluate(_ out: String) throws -> (ScanEvaluation, [PatternRecord]) {
        let records = try ScanOutputs.readPatterns((out as NSString).appendingPathComponent("patterns.csv"))
        let truth = try CSVTable.read(path: (ParticleUnderOtherCrystalsTests.scan as NSString).appendingPathComponent("truth.csv"))
        return (try ScanEvaluation(truth: truth, results: records, symmetry: TestScans.lco.symmetryRotations), records)
    }

    @Test func theParticleIsReportedUnderOtherCrystals() throws {
        let truth = try CSVTable.read(path: (ParticleUnderOtherCrystalsTests.scan as NSString).appendingPathComponent("truth.csv"))
        let kinds = Set(truth.rows.map { $0[truth.index(of: "confounder")!] })
        #expect(kinds == ["", "neighbour", "crowded"], "confounder column \(kinds)")

        let scratchOut = Fixtures.temporaryFolder("particle-crowded-scratch")
        var settings = try TestScans.settings(ParticleUnderOtherCrystalsTests.scan)
        settings.neighbourIndexing = nil
        var options = ScanRunOptions(); options.jobs = 2
        _ = try ScanRunner(scan: ParticleUnderOtherCrystalsTests.scan, settings: settings, output: scratchOut, options: options).run()
        let (scratch, _) = try evaluate(scratchOut)
        #expect(scratch.wrongOrientations >= 20, "from scratch the other crystals should take many points (\(scratch.wrongOrientations))")

        let out = Fixtures.temporaryFolder("particle-crowded-run")
        try TestScans.run(ParticleUnderOtherCrystalsTests.scan, into: out)
        let (e, records) = try evaluate(out)
        print(e.report)
        #expect(e.wrongOrientations == 0)
        #expect(e.macroF1 >= 0.95, "macro-F1 \(e.macroF1) (from scratch \(scratch.macroF1))")
        let noted = records.filter { $0.reason.hasPrefix("another crystal also diffracts here") }
        #expect(noted.count >= 20 && noted.allSatisfy { $0.indexedBy == .cluster }, "\(noted.count) rows name the other crystal")
        // peaks.csv holds the spots of the reported crystal only (not also the other crystal's).
        let peaks = try CSVTable.read(path: (out as NSString).appendingPathComponent("peaks.csv"))
        let column = try #require(peaks.index(of: "pattern_index"))
        let spots = Dictionary(grouping: peaks.rows, by: { Int($0[column]) ?? -1 }).mapValues(\.count)
        for r in records where r.status == .indexed {
            #expect(spots[r.index] == r.indexedCount, "pattern \(r.index): \(spots[r.index] ?? 0) spot rows for \(r.indexedCount ?? 0) indexed spots")
        }
    }
}

/// A point whose only indexed neighbour first holds another crystal, then the particle: a line of
/// five points (medium detector), three of the particle alone, one where a brighter crystal hides it
/// (indexed as that crystal from scratch, the particle found under it by the particle pass), and one
/// with only five of the particle's spots (too few from scratch; its one neighbour lends the other
/// crystal's orientation first). Once the particle pass has turned that neighbour, the sparse point is
/// tried again from the particle's orientation and indexed.
@Suite struct RetriedAfterTheParticlePassTests {
    @Test func aSparsePointIsTriedAgainFromTheParticle() throws {
        let lco = TestScans.lco
        let det = try SimulatedDetector.builtin("medium")
        let sim = try PatternSimulator(material: lco, detector: det)
        var g = SeededGenerator(seed: 9100)
        let u = Quaternion.random(using: &g).matrix, other = Quaternion.random(using: &g).matrix
        let (w, h) = (det.calibration.width, det.calibration.height)
        func image(_ pixels: [Float], seed: UInt64) -> LaueImage {
            var p = pixels
            var noise = SeededGenerator(seed: seed)
            DetectorSimulation.apply(det.effects, to: &p, width: w, height: h, generator: &noise)
            return LaueImage(width: w, height: h, pixels: p, pixelType: .uint16)
        }
        let particle = sim.diffractedIntensity(orientation: u, defect: .noDefect, seed: 1)
        let crystal = sim.diffractedIntensity(orientation: other, defect: .noDefect, seed: 2)
        // The sparse point: the particle's five strongest spots (15 px around each), nothing else.
        let strongest = sim.predictor.spots(orientation: u).filter { det.calibration.contains(x: $0.x, y: $0.y, margin: 20) }
            .sorted { lco.intensity($0.hkl) > lco.intensity($1.hkl) }.prefix(5)
        var sparse = [Float](repeating: 0, count: w * h)
        for s in strongest {
            for y in max(0, Int(s.y) - 16)..<min(h, Int(s.y) + 16) {
                for x in max(0, Int(s.x) - 16)..<min(w, Int(s.x) + 16) where hypot(Double(x) + 1 - s.x, Double(y) + 1 - s.y) <= 15 {
                    sparse[y * w + x] = particle[y * w + x]
                }
            }
        }
        let hidden = zip(particle, crystal).map { 0.25 * $0 + $1 }
        let frames = [particle, particle, particle, hidden, sparse]
        let dir = Fixtures.temporaryFolder("retried-sparse")
        var csv = "file,x_um,y_um\n"
        for (k, f) in frames.enumerated() {
            try TIFFWriter.write(image(f, seed: 100 + UInt64(k)), to: dir + "/p\(k).tif")
            csv += "p\(k).tif,\(Double(k) * 0.5),0\n"
        }
        try csv.write(toFile: dir + "/scan.csv", atomically: true, encoding: .utf8)
        try LaueToolsCalibration.writeDet(det.calibration, material: lco.name, to: dir + "/calib.det")

        let out = Fixtures.temporaryFolder("retried-sparse-run")
        try TestScans.run(dir, into: out)
        let rows = try ScanOutputs.readPatterns(out + "/patterns.csv").sorted { $0.index < $1.index }
        #expect(rows.count == 5)
        for r in rows where r.index < 4 {
            #expect(r.status == .indexed && lco.misorientation(r.orientation!, u) < 0.1, "\(r.file): \(r.status) \(r.reason)")
        }
        #expect(rows[3].indexedBy == .cluster && rows[3].reason.hasPrefix("another crystal also diffracts here"), "\(rows[3].reason)")
        let last = rows[4]
        #expect(last.status == .indexed && last.indexedBy == .neighbour, "\(last.status) \(last.reason)")
        if let o = last.orientation { #expect(lco.misorientation(o, u) < 0.1) }
    }
}
