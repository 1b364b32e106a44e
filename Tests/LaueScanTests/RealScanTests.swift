import Foundation
import Testing
import LaueCore
import LaueIO
import LauePeaks
import LaueIndexing
import LaueScan
import LaueTestSupport

/// Undeformed crystals on real frames through `scan run`: no defect, and the same grain `index` finds
/// (docs/scan-pipeline.md, "Real frames").
@Suite struct RealScanTests {
    /// A folder scan of `frames` (fixture names) with the calibration `calib`.
    func scan(_ frames: [String], calib: String) throws -> String {
        let dir = Fixtures.temporaryFolder("realscan")
        var text = "file,x_um,y_um\n"
        for (i, f) in frames.enumerated() { text += "\(Fixtures.path(f)),\(Double(i)),0\n" }
        try text.write(toFile: dir + "/scan.csv", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Fixtures.path(calib), toPath: dir + "/calib.det")
        return dir
    }

    @Test(arguments: [(["lauetools/Ge_blanc_0000.mccd"], "lauetools/calibGe111.det", "Ge"),
                      (["real/nw1_0000.tif", "real/nw1_0001.tif"], "real/nw1_calib.det", "Si")])
    func undeformedCrystalsAreNoDefect(_ frames: [String], _ calib: String, _ material: String) throws {
        let dir = try scan(frames, calib: calib)
        let calibration = try LaueToolsCalibration.read(path: dir + "/calib.det")
        let mat = try Material.builtin(material)
        let out = Fixtures.temporaryFolder("realscan-out")
        var options = ScanRunOptions()
        options.jobs = 1
        _ = try ScanRunner(scan: dir, settings: ScanSettings(material: mat, calibration: calibration), output: out, options: options).run()
        let rows = try ScanOutputs.readPatterns(out + "/patterns.csv")
        #expect(rows.count == frames.count)
        for (row, frame) in zip(rows, frames) {
            // What `lauemap index` finds on the same frame.
            let image = try ImageReader.read(path: Fixtures.path(frame))
            let grain = try #require(try Indexer(material: mat, calibration: calibration)
                .index(PeakSearcher().search(image).peaks.map(ObservedSpot.init)).grains.first)
            #expect(row.status == .indexed && row.defectClass == .noDefect, "\(frame): \(row.defectClass.rawValue) \(row.reason)")
            #expect(Double(row.indexedCount ?? 0) >= 0.9 * Double(grain.indexedCount), "\(frame): \(row.indexedCount ?? 0) of \(grain.indexedCount) spots")
            if let u = row.orientation { #expect(mat.misorientation(u, grain.orientation) < 0.001) }
            // The instrument's floor of the streaking extent, no longer made of halos (0.14-0.23 deg before).
            #expect((row.streakExtent ?? 1) < 0.08, "\(frame): streak extent \(row.streakExtent ?? .nan) deg")
            // The GaN/Si frames report their depth tails (down the detector), Ge none.
            if material == "Si" {
                #expect((row.depthTail ?? 0) >= 4 && abs((row.depthTailAngle ?? 0) - 90) <= 10, "\(frame): depth tail \(row.depthTail ?? .nan)")
            } else {
                #expect(row.depthTail == nil)
            }
        }
    }

    /// `scan run --strain --energy`: the options reach the pipeline (the rows carry the strain `index`
    /// reports on the same frame with the same band), are recorded in run.json, and a resume with another
    /// band is refused.
    @Test func strainAndEnergyBandReachTheScan() throws {
        let dir = try scan(["lauetools/Ge_blanc_0000.mccd"], calib: "lauetools/calibGe111.det")
        let calibration = try LaueToolsCalibration.read(path: dir + "/calib.det")
        let ge = try Material.builtin("Ge")
        var settings = ScanSettings(material: ge, calibration: calibration)
        settings.indexingOptions.refineStrain = true
        settings.indexingOptions.energyRange = 5...25
        let out = Fixtures.temporaryFolder("realscan-strain")
        var options = ScanRunOptions()
        options.jobs = 1
        _ = try ScanRunner(scan: dir, settings: settings, output: out, options: options).run()
        let row = try #require(try ScanOutputs.readPatterns(out + "/patterns.csv").first)
        var io = IndexingOptions()
        io.refineStrain = true
        io.energyRange = 5...25
        let image = try ImageReader.read(path: Fixtures.path("lauetools/Ge_blanc_0000.mccd"))
        let grain = try #require(try Indexer(material: ge, calibration: calibration, options: io)
            .index(PeakSearcher().search(image).peaks.map(ObservedSpot.init)).grains.first)
        let expected = DeviatoricStrain.components(try #require(grain.strain).crystal)
        #expect(row.strain.count == 6)
        for (a, b) in zip(row.strain, expected) { #expect(abs(a - b) <= 1e-4 * abs(b) + 1e-12, "scan \(row.strain) vs index \(expected)") }
        #expect(row.strainEquivalent.map { abs($0 - grain.strain!.equivalent) < 1e-8 } == true)
        let sample = DeviatoricStrain.components(grain.strain!.sample())
        #expect(row.strainSample.count == 6)
        for (a, b) in zip(row.strainSample, sample) { #expect(abs(a - b) <= 1e-4 * abs(b) + 1e-12, "scan sample-frame \(row.strainSample) vs index \(sample)") }
        let run = try String(contentsOfFile: out + "/run.json", encoding: .utf8)
        #expect(run.contains("\"strain\" : true") && run.contains("25"))
        // Resuming with another band would mix rows computed two ways.
        settings.indexingOptions.energyRange = 5...22
        options.resume = true
        #expect(throws: LaueError.self) { _ = try ScanRunner(scan: dir, settings: settings, output: out, options: options).run() }
    }

    /// Broken scans: a NaN stage position is a failed row naming the line (its frame never read); an
    /// all-NaN frame is a failed row (not `unindexed`); `scan run` exits non-zero when every pattern failed.
    @Test func brokenScansFailClearly() throws {
        let dir = try scan(["lauetools/Ge_blanc_0000.mccd"], calib: "lauetools/calibGe111.det")
        try "file,x_um,y_um\n\(Fixtures.path("lauetools/Ge_blanc_0000.mccd")),nan,0\n".write(toFile: dir + "/scan.csv", atomically: true, encoding: .utf8)
        let manifest = try ScanManifest.open(dir)
        let problem = manifest.patterns.first?.problem ?? ""
        #expect(problem.contains("scan.csv") && problem.contains("line 2") && problem.contains("(nan, 0)"), "\(problem)")
        // An all-NaN frame.
        let calibration = try LaueToolsCalibration.read(path: dir + "/calib.det")
        let processor = try PatternProcessor(settings: ScanSettings(material: try Material.builtin("Ge"), calibration: calibration))
        let nan = LaueImage(width: calibration.width, height: calibration.height,
                            pixels: [Float](repeating: .nan, count: calibration.width * calibration.height), pixelType: .float32)
        let r = processor.process(ScanPattern(index: 0, label: "nan.tif", path: "nan.tif", frame: 0, xUm: 0, yUm: 0)) { _ in nan }
        #expect(r.record.status == .failed && r.record.reason.contains("no finite pixel"))
        // Every pattern failing: a non-zero exit status.
        guard let exe = Fixtures.lauemapExecutable else { return }
        try "file,x_um,y_um\nmissing_0.tif,0,0\nmissing_1.tif,1,0\n".write(toFile: dir + "/scan.csv", atomically: true, encoding: .utf8)
        let out = Fixtures.temporaryFolder("allfailed")
        let run = try Command.run(exe, ["scan", "run", dir, "--material", "Ge", "--out", out, "--quiet", "--overwrite"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("every one of the 2 patterns failed"), "\(run.stderr)")
        // One of two failed: success by default, failure with --max-failed 0.
        try "file,x_um,y_um\n\(Fixtures.path("lauetools/Ge_blanc_0000.mccd")),0,0\nmissing_1.tif,1,0\n".write(toFile: dir + "/scan.csv", atomically: true, encoding: .utf8)
        let some = try Command.run(exe, ["scan", "run", dir, "--material", "Ge", "--out", out, "--quiet", "--overwrite"])
        #expect(some.status == 0, "\(some.stderr)")
        let strict = try Command.run(exe, ["scan", "run", dir, "--material", "Ge", "--out", out, "--quiet", "--overwrite", "--max-failed", "0"])
        #expect(strict.status != 0 && strict.stderr.contains("more than --max-failed 0"), "\(strict.stderr)")
    }

    /// Every indexing threshold is an option of `index` and `scan run`, recorded in run.json, and a
    /// resume with another value is refused.
    @Test func indexingThresholdsAreCommandLineOptions() throws {
        let exe = try #require(Fixtures.lauemapExecutable, "lauemap executable not found next to the tests")
        let ge = ["lauetools/Ge_blanc_0000.mccd", "--calib", Fixtures.path("lauetools/calibGe111.det"), "--material", "Ge", "--json"]
        let strict = try Command.run(exe, ["index", Fixtures.path(ge[0])] + ge.dropFirst() + ["--min-indexed", "200"])
        #expect(strict.status == 0 && strict.stdout.contains("unindexed") && strict.stdout.contains("at least 200"), "\(strict.stdout)")
        let bad = try Command.run(exe, ["index", Fixtures.path(ge[0])] + ge.dropFirst() + ["--max-chance", "0"])
        #expect(bad.status != 0 && bad.stderr.contains("--max-chance"), "\(bad.stderr)")
        // A fraction rule, now an option (off by default): the Si substrate under a film's spots (89 of
        // 267 peaks) indexes, and is refused only when at least half the peaks must be explained.
        let si = [Fixtures.path("real/nw1_0001.tif"), "--calib", Fixtures.path("real/nw1_calib.det"), "--material", "Si", "--json"]
        #expect(try Command.run(exe, ["index"] + si).stdout.contains("\"status\" : \"indexed\""))
        let fraction = try Command.run(exe, ["index"] + si + ["--min-fraction", "0.5"])
        #expect(fraction.stdout.contains("explains only"), "\(fraction.stdout)")
        // scan run records the thresholds and refuses to resume with others.
        let dir = try scan(["lauetools/Ge_blanc_0000.mccd"], calib: "lauetools/calibGe111.det")
        let out = Fixtures.temporaryFolder("thresholds")
        let first = try Command.run(exe, ["scan", "run", dir, "--material", "Ge", "--out", out, "--quiet", "--max-deviation", "1.25", "--max-seed-rotation", "1.5"])
        #expect(first.status == 0, "\(first.stderr)")
        let run = try String(contentsOfFile: out + "/run.json", encoding: .utf8)
        #expect(run.contains("\"max_mean_deviation_px\" : 1.25") && run.contains("\"max_seed_rotation_deg\" : 1.5"), "\(run)")
        let other = try Command.run(exe, ["scan", "run", dir, "--material", "Ge", "--out", out, "--quiet", "--resume", "--max-deviation", "1.3", "--max-seed-rotation", "1.5"])
        #expect(other.status != 0 && other.stderr.contains("max_mean_deviation_px"), "\(other.stderr)")
        // A run recorded before the ambiguity rule (no "unambiguous_indexed": it had none) or before the
        // second indexing try (no "retry_seed_spots") is not resumed with them on: its rows and the new
        // ones would be computed two ways.
        for (key, value) in [("unambiguous_indexed", 8), ("retry_seed_spots", 20)] {
            #expect(run.contains("\"\(key)\" : \(value)"), "\(run)")
            try run.replacingOccurrences(of: "\"\(key)\" : \(value),", with: "")
                .replacingOccurrences(of: ",\n    \"\(key)\" : \(value)", with: "")
                .write(toFile: out + "/run.json", atomically: true, encoding: .utf8)
            #expect(try !String(contentsOfFile: out + "/run.json", encoding: .utf8).contains(key))
            let old = try Command.run(exe, ["scan", "run", dir, "--material", "Ge", "--out", out, "--quiet", "--resume", "--max-deviation", "1.25", "--max-seed-rotation", "1.5"])
            #expect(old.status != 0 && old.stderr.contains(key), "\(key): \(old.stderr)")
        }
    }

    /// Quoted newlines, commas and quotes in file names (so in `file` and `reason`) survive the tables:
    /// read back, resumed and finished byte for byte as an uninterrupted run (a real CSV reader).
    @Test func multiLineFieldsSurviveResume() throws {
        let dir = try scan(["lauetools/Ge_blanc_0000.mccd"], calib: "lauetools/calibGe111.det")
        let hostile = ["missing\nline.tif", "with, comma \"and quotes\".tif", "cr\r\nlf.tif"]
        var text = "file,x_um,y_um\n" + CSVTable.line([Fixtures.path("lauetools/Ge_blanc_0000.mccd"), "0", "0"]) + "\n"
        for (i, name) in hostile.enumerated() { text += CSVTable.line([name, String(i + 1), "0"]) + "\n" }
        try text.write(toFile: dir + "/scan.csv", atomically: true, encoding: .utf8)
        let manifest = try ScanManifest.open(dir)
        #expect(manifest.patterns.map(\.label).suffix(3) == hostile[...])
        let calibration = try LaueToolsCalibration.read(path: dir + "/calib.det")
        let settings = ScanSettings(material: try Material.builtin("Ge"), calibration: calibration)
        var options = ScanRunOptions()
        options.jobs = 1; options.batchSize = 1; options.pointSpreadSigma = 1.0
        let whole = Fixtures.temporaryFolder("multiline-whole")
        _ = try ScanRunner(scan: dir, settings: settings, output: whole, options: options).run()
        let rows = try ScanOutputs.readPatterns(whole + "/patterns.csv")
        #expect(rows.map(\.file).suffix(3) == hostile[...])
        for (row, name) in zip(rows.suffix(3), hostile) { #expect(row.status == .failed && row.reason.contains(name), "\(row.reason)") }
        // Stopped after two rows (the second holds a newline), then resumed.
        let resumed = Fixtures.temporaryFolder("multiline-resumed")
        var first = options; first.stopAfter = 2
        _ = try ScanRunner(scan: dir, settings: settings, output: resumed, options: first).run()
        var again = options; again.resume = true
        _ = try ScanRunner(scan: dir, settings: settings, output: resumed, options: again).run()
        for f in ["patterns.csv", "peaks.csv"] {
            #expect(try String(contentsOfFile: resumed + "/" + f, encoding: .utf8) == String(contentsOfFile: whole + "/" + f, encoding: .utf8), "\(f)")
        }
    }

    /// Real frames summed (semi-real, truth known): the real Ge crystal of `Ge_blanc_0000.mccd` under the
    /// real dense multi-grain MarCCD frame `SS_0171.mccd` (hundreds of other crystals' spots, 744-2,748
    /// peaks a frame), as an APS-style stack of 4 x 3 points, every other point overlaid:
    /// - Ge at full strength under the dense frame at 0.5-1x: indexed from scratch as the same crystal,
    ///   `no_defect` (crowded real neighbours make no false defect);
    /// - Ge at 12 % under the dense frame at full strength: from scratch the overlaid points are
    ///   unindexed; scan-guided indexing recovers the crystal from the clean neighbours (`neighbour`).
    @Test(arguments: [false, true]) func realCrystalUnderADenseRealFrame(faint: Bool) throws {
        let ge = try ImageReader.read(path: Fixtures.path("lauetools/Ge_blanc_0000.mccd"))
        let dense = try ImageReader.read(path: Fixtures.path("real/SS_0171.mccd"))
        let calibration = try LaueToolsCalibration.read(path: Fixtures.path("lauetools/calibGe111.det"))
        let germanium = try Material.builtin("Ge")
        let clean = try #require(try Indexer(material: germanium, calibration: calibration)
            .index(PeakSearcher().search(ge).peaks.map(ObservedSpot.init)).grains.first)
        let sample = stride(from: 0, to: ge.pixels.count, by: 97).map { ge.pixels[$0] }.sorted()
        let background = sample[sample.count / 2]
        let (columns, rows) = (4, 3)
        var stack: [UInt16] = []
        stack.reserveCapacity(columns * rows * ge.pixels.count)
        for k in 0..<(columns * rows) {
            let overlaid = (k % columns + k / columns) % 2 == 0
            let (own, other): (Float, Float) = !overlaid ? (1, 0) : faint ? (0.12, 1) : (1, 0.5 + 0.25 * Float(k / columns))
            for (g, d) in zip(ge.pixels, dense.pixels) {
                stack.append(UInt16(max(0, min(65535, (background + (g - background) * own + d * other).rounded()))))
            }
        }
        let dir = Fixtures.temporaryFolder("dense-overlay")
        try HDF5File.create(atomically: dir + "/stack.h5") { f in
            try f.write(stack, shape: [columns * rows, ge.height, ge.width], to: "/entry1/data/data", chunk: [1, ge.height, ge.width])
            try f.write((0..<(columns * rows)).map { 0.5 * Double($0 % columns) }, to: "/entry1/sample/sampleX")
            try f.write((0..<(columns * rows)).map { 0.5 * Double($0 / columns) }, to: "/entry1/sample/sampleY")
        }
        stack = []
        let out = Fixtures.temporaryFolder("dense-overlay-run")
        var options = ScanRunOptions(); options.jobs = 2
        _ = try ScanRunner(scan: dir + "/stack.h5", settings: ScanSettings(material: germanium, calibration: calibration), output: out, options: options).run()
        let records = try ScanOutputs.readPatterns(out + "/patterns.csv")
        #expect(records.count == columns * rows)
        for r in records {
            let overlaid = (r.index % columns + r.index / columns) % 2 == 0
            #expect(r.status == .indexed && r.defectClass == .noDefect, "point \(r.index): \(r.defectClass.rawValue) \(r.reason)")
            if let u = r.orientation { #expect(germanium.misorientation(u, clean.orientation) < 0.005, "point \(r.index)") }
            if overlaid {
                #expect((r.peakCount ?? 0) >= 700, "point \(r.index): \(r.peakCount ?? 0) peaks")
                if faint {
                    #expect(r.indexedBy == .neighbour && (r.indexedCount ?? 0) >= 15, "point \(r.index): \(r.indexedBy?.rawValue ?? "-") \(r.indexedCount ?? 0)")
                } else {
                    #expect(r.indexedBy == .scratch && Double(r.indexedCount ?? 0) >= 0.7 * Double(clean.indexedCount), "point \(r.index): \(r.indexedCount ?? 0)")
                }
            } else {
                #expect(r.indexedBy == .scratch && r.indexedCount == clean.indexedCount)
            }
        }
    }
}
