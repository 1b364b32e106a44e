import Foundation
import Testing
import LaueCore
import LaueIO
import LaueScan
import LaueSimulation
import LaueTestSupport

/// Beamline scan layouts (docs/scan-layouts.md): each is read straight from its files and gives the
/// same rows as a scan.csv run of the same frames. The 34-ID-E and BLISS fixtures are written by h5py
/// (tools/fixtures/make_layout_fixtures.py), not by LaueMap.
@Suite struct ScanLayoutTests {
    static let lco = try! Material.builtin("LiCoO2")
    static let layouts = Fixtures.path("layouts")
    static var points: [[String: Any]] { (Fixtures.json("layouts/expected.json") as! [String: Any])["points"] as! [[String: Any]] }

    static var detector: SimulatedDetector {
        SimulatedDetector(name: "tiny", calibration: try! LaueToolsCalibration.read(path: layouts + "/calib.det"), pointSpread: .gaussian(fwhm: 2))
    }

    /// Runs `source` into a fresh folder with the fixture's calibration; returns the folder.
    static func run(_ source: ScanSource, calib: String = layouts + "/calib.det", _ configure: (inout ScanRunOptions) -> Void = { _ in }) throws -> String {
        let out = Fixtures.temporaryFolder("layout-run")
        var options = ScanRunOptions()
        options.jobs = 2
        configure(&options)
        let settings = ScanSettings(material: lco, calibration: try LaueToolsCalibration.read(path: calib))
        _ = try ScanRunner(source: source, settings: settings, output: out, options: options).run()
        return out
    }

    /// patterns.csv rows by map cell (column, row), without the columns that name the file, the raw
    /// position and the scan order.
    static func rowsByCell(_ out: String) throws -> [String: [String]] {
        let t = try CSVTable.read(path: out + "/patterns.csv")
        let (xi, yi) = (t.index(of: "x_um")!, t.index(of: "y_um")!)
        let skip = Set(["file", "x_um", "y_um", "pattern_index"].compactMap { t.index(of: $0) }
                       + t.header.indices.filter { t.header[$0].hasPrefix(ScanChannels.columnPrefix) })
        let grid = ScanGrid(x: t.rows.map { Double($0[xi]) ?? .nan }, y: t.rows.map { Double($0[yi]) ?? .nan })
        var out: [String: [String]] = [:]
        for (r, cell) in zip(t.rows, grid.cells) {
            guard let cell else { continue }
            out["\(cell.column),\(cell.row)"] = r.enumerated().filter { !skip.contains($0.offset) }.map(\.element)
        }
        return out
    }

    /// A scan.csv run over the 34-ID-E point files at their nominal positions: the reference.
    static let reference: [String: [String]] = {
        let dir = Fixtures.temporaryFolder("layout-ref")
        var csv = "file,x_um,y_um\n"
        for p in points { csv += "\(layouts)/aps34ide/\(p["aps_file"] as! String),\(p["x_um"] as! Double),\(p["y_um"] as! Double)\n" }
        try! csv.write(toFile: dir + "/scan.csv", atomically: true, encoding: .utf8)
        return try! rowsByCell(run(ScanSource(path: dir)))
    }()

    @Test func jitteredRasterGivesItsGrid() {
        // 12 x 12, 0.5 µm steps, 20 nm of uniform read-back jitter on both axes, in mm-like offsets.
        var rng = SeededGenerator(seed: 7)
        var (x, y): ([Double], [Double]) = ([], [])
        for r in 0..<12 { for c in 0..<12 {
            x.append(26804.8 + 0.5 * Double(c) + (rng.uniform() - 0.5) * 0.04)
            y.append(-6160.4 + 0.5 * Double(r) + (rng.uniform() - 0.5) * 0.04)
        } }
        let g = ScanGrid(x: x, y: y)
        #expect(g.columns == 12 && g.rows == 12)
        #expect(g.warnings.isEmpty)
        for k in 0..<144 { #expect(g.cells[k]! == (k % 12, k / 12)) }
        #expect(abs(g.step.x - 0.5) < 0.04 && abs(g.step.y - 0.5) < 0.04)
        // Two missing rows stay as empty rows (the map keeps its geometry); a jittered line scan is one row.
        let keep = (0..<144).filter { ![4, 5].contains($0 / 12) }
        let gap = ScanGrid(x: keep.map { x[$0] }, y: keep.map { y[$0] })
        #expect(gap.columns == 12 && gap.rows == 12 && abs(gap.step.y - 0.5) < 0.04)
        #expect(zip(keep, gap.cells).allSatisfy { k, c in c! == (k % 12, k / 12) })
        // Review cases: a 2 x 2 raster plus one far-off point; rows at 0, 1 and 5 µm; a 0.06 µm step with
        // ±10 nm jitter; 1 µm steps with ±0.15 µm jitter.
        let two = ScanGrid(x: [0, 0.5, 0, 0.5, 1000], y: [0, 0, 0.5, 0.5, 1000])
        #expect(Set(two.cells.prefix(4).map { "\($0!.column),\($0!.row)" }).count == 4)
        let uneven = ScanGrid(x: [0, 1, 0, 1, 0, 1], y: [0, 0, 1, 1, 5, 5])
        #expect(uneven.rows == 6 && uneven.cells[2]!.row == 1 && uneven.cells[4]!.row == 5)
        for (step, jitter) in [(0.06, 0.01), (1.0, 0.15)] {
            var (fx, fy): ([Double], [Double]) = ([], [])
            for r in 0..<12 { for c in 0..<12 {
                fx.append(step * Double(c) + (rng.uniform() - 0.5) * 2 * jitter); fy.append(step * Double(r) + (rng.uniform() - 0.5) * 2 * jitter)
            } }
            let fine = ScanGrid(x: fx, y: fy)
            #expect(fine.columns == 12 && fine.rows == 12 && fine.warnings.isEmpty, "step \(step) jitter \(jitter)")
            #expect((0..<144).allSatisfy { fine.cells[$0]! == ($0 % 12, $0 / 12) })
        }
        // Stray positions far away never make a giant map.
        let stray = ScanGrid(x: x + [1e8, -3e7], y: y + [5e7, 1e4])
        #expect(stray.columns * stray.rows <= 4 * 146)
        let far = ScanGrid(x: x + [26804.8 + 1000], y: y + [-6160.4])          // one far-off position
        #expect(far.columns == 13 && far.rows == 12 && (0..<144).allSatisfy { far.cells[$0]! == g.cells[$0]! })
        let line = ScanGrid(x: Array(x.prefix(12)), y: Array(y.prefix(12)))
        #expect(line.columns == 12 && line.rows == 1)
        // Scattered positions: mapped by nearest cell, with a warning.
        let scattered = ScanGrid(x: (0..<50).map { _ in rng.uniform() * 10 }, y: (0..<50).map { _ in rng.uniform() * 10 })
        #expect(!scattered.warnings.isEmpty)
        #expect(scattered.cells.allSatisfy { $0 != nil })
    }

    @Test func frameNamesInScanCsv() {
        #expect(ScanManifest.fileAndFrame("stack.h5#12") == ("stack.h5", 12))
        #expect(ScanManifest.fileAndFrame("a#b/stack.h5#0") == ("a#b/stack.h5", 0))
        #expect(ScanManifest.fileAndFrame("img#x.tif").frame == nil)
        #expect(ScanManifest.fileAndFrame("img.tif").frame == nil)
        #expect(FrameSeries.Name("img_0042.tif")?.fileName(43) == "img_0043.tif")
        #expect(FrameSeries.Name("point_9.h5")?.fileName(10) == "point_10.h5")
        #expect(FrameSeries.Name("scan2_0099.mccd")?.fileName(100) == "scan2_0100.mccd")
        #expect(FrameSeries.Name("frame.tif") == nil)
    }

    /// Positions and values are decimal numbers: hexadecimal (which Swift's Double(String) reads) and
    /// control characters are refused, in scan.csv as in channel maps.
    @Test func positionsAreDecimalNumbers() throws {
        #expect(CSVTable.decimal(" 1.5e-3 ") == 0.0015 && CSVTable.decimal("-2") == -2 && CSVTable.decimal("inf") == .infinity)
        #expect(CSVTable.decimal("0x10") == nil && CSVTable.decimal("5\u{0}") == nil && CSVTable.decimal("") == nil && CSVTable.decimal("1,5") == nil)
        let dir = Fixtures.temporaryFolder("hex-position")
        try "file,x_um,y_um\na.tif,0x10,0\nb.tif,1,0\n".write(toFile: dir + "/scan.csv", atomically: true, encoding: .utf8)
        let m = try ScanManifest.open(dir)
        #expect(m.patterns[0].problem?.contains("line 2: stage position (0x10, 0)") == true && m.patterns[1].problem == nil)
    }

    /// APS 34-ID-E: one h5py-written file per point, 45° sample (Y and Z move together).
    @Test func aps34ideFolderEqualsScanCsv() throws {
        let manifest = try ScanManifest.open(Self.layouts + "/aps34ide")
        #expect(manifest.layout == .apsPoints)
        // Scan order follows the numbers in the names (point_1 ... point_9, not point_1, point_10 ...).
        #expect(manifest.patterns.map(\.label) == Self.points.map { $0["aps_file"] as! String })
        for (p, e) in zip(manifest.patterns, Self.points) {
            #expect(abs(p.xUm - (100 + (e["x_um"] as! Double))) < 1e-9)
            #expect(abs(p.yUm - manifest.patterns[0].yUm - (e["y_um"] as! Double)) < 1e-9)   // steps keep their length on the surface
        }
        // The per-point counters are channels (named by their path below /entry1), the detector's fields are not.
        #expect(manifest.channels.keys.sorted() == ["fluorescence_Co_Ka", "monitor_I0"])
        #expect(manifest.channels["fluorescence_Co_Ka"] == Self.points.map { $0["fluo_co"] as! Double })
        let out = try Self.run(ScanSource(path: Self.layouts + "/aps34ide"))
        let rows = try Self.rowsByCell(out)
        #expect(rows.count == 9)
        #expect(rows == Self.reference)
        for r in try ScanOutputs.readPatterns(out + "/patterns.csv") {
            let e = Self.points.first { $0["aps_file"] as! String == (r.file as NSString).lastPathComponent }
            #expect(r.channels["fluorescence_Co_Ka"] == e?["fluo_co"] as? Double && r.channels["monitor_I0"] != nil, "\(r.file)")
        }
    }

    /// BLISS: scan 2.1 of an h5py-written file, mesh with yech fastest, read-back positions in mm with
    /// 20 nm jitter, a fluorescence counter.
    @Test func blissScanEqualsScanCsv() throws {
        let manifest = try ScanManifest.open(Self.layouts + "/bliss.h5")
        #expect(manifest.layout == .bliss)
        #expect(manifest.patterns.count == 9 && manifest.patterns.allSatisfy { $0.problem == nil })
        let fluo = try #require(manifest.channels["xia_sum_fluoCo"])
        for e in Self.points {
            let k = e["bliss_frame"] as! Int
            let expectedFluo = e["fluo_co"] as! Double
            #expect(fluo[k] == expectedFluo)
            #expect(abs(manifest.patterns[k].xUm - 26804.8 - (e["x_um"] as! Double)) < 0.021)
            #expect(abs(manifest.patterns[k].yUm + 6160.4 - (e["y_um"] as! Double)) < 0.021)
        }
        let inspection = ScanInspection(manifest)
        #expect(inspection.columns == 3 && inspection.rows == 3)
        #expect(inspection.detector?.width == 256)
        let out = try Self.run(ScanSource(path: Self.layouts + "/bliss.h5"))
        #expect(try Self.rowsByCell(out) == Self.reference)
        // The counters reach patterns.csv (channel_<name>, by pattern) and results.h5 (maps by cell).
        let records = try ScanOutputs.readPatterns(out + "/patterns.csv")
        let h5 = try HDF5File(path: out + "/results.h5")
        let map = try h5.read("/maps/channel_xia_sum_fluoCo", as: Double.self)
        #expect(map.shape == [3, 3])
        for e in Self.points {
            let r = try #require(records.first { $0.index == e["bliss_frame"] as! Int })
            let expectedFluo = e["fluo_co"] as! Double
            #expect(r.channels["xia_sum_fluoCo"] == expectedFluo && r.channels["mon"] == 5e5)
            let (column, row) = (Int((e["x_um"] as! Double).rounded()), Int((e["y_um"] as! Double).rounded()))
            #expect(map.values[row * 3 + column] == expectedFluo)
        }
        // The same scan chosen by number and detector name.
        let named = try ScanManifest.open(ScanSource(path: Self.layouts + "/bliss.h5", scanNumber: 2, dataset: "sCMOS"))
        #expect(named.patterns == manifest.patterns)
    }

    @Test func blissAndSeriesRefuseWhatTheyCannotRead() throws {
        let bliss = Self.layouts + "/bliss.h5"
        func reason(_ s: ScanSource) -> String {
            do { _ = try ScanManifest.open(s); return "" } catch let e as LaueError { return e.description } catch { return "\(error)" }
        }
        #expect(reason(ScanSource(path: bliss, scanNumber: 7)).contains("scans: 1, 2"))
        #expect(reason(ScanSource(path: bliss, scanNumber: 1)).contains("no frame stack"))
        #expect(reason(ScanSource(path: bliss, dataset: "marccd")).contains("2.1/measurement/marccd"))
        let frame = Self.layouts + "/aps34ide/point_1.h5"
        #expect(reason(ScanSource(path: Fixtures.path("tiff/deflate_u16.tif"))).contains("--raster"))
        #expect(reason(ScanSource(path: Self.layouts + "/calib.det")).contains("unknown image format"))
        #expect(reason(ScanSource(path: frame)).contains("[frames, rows, cols]"))     // one point file is not a scan
        #expect(throws: LaueError.self) { try ScanRaster(parsing: "12x0") }
        #expect(throws: LaueError.self) { try ScanRaster(parsing: "100000x100000") }
        #expect(throws: LaueError.self) { try ScanSource.parseStep("-1") }
    }

    /// Review cases: a BLISS stack declaring 2^31 - 1 frames (chunked, never written) is refused before
    /// anything is allocated; counters longer than the stack are not read; a line scan over one motor
    /// maps onto one row.
    @Test func blissFilesThatDeclareTooMuch() throws {
        let dir = Fixtures.temporaryFolder("bliss-hostile")
        try HDF5File.create(atomically: dir + "/huge.h5") { f in
            try f.createDataset("/1.1/measurement/det", type: UInt16.self, shape: [2_147_483_647, 4, 4], chunk: [1, 4, 4])
            try f.writeStrings(["amesh xech 0 1 10 yech 0 1 10 0.1"], to: "/1.1/title")
        }
        do { _ = try ScanManifest.open(dir + "/huge.h5"); Issue.record("a 2^31-frame stack was accepted") } catch let e as LaueError {
            #expect(e.description.contains("more than the 1000000"), "\(e.description)")
        }
        try HDF5File.create(atomically: dir + "/line.h5") { f in
            try f.write([UInt16](repeating: 7, count: 3 * 8 * 8), shape: [3, 8, 8], to: "/1.1/measurement/det")
            try f.write([0.0, 0.001, 0.002], to: "/1.1/measurement/xech")
            try f.createDataset("/1.1/measurement/mon", type: Double.self, shape: [100_000_000], chunk: [4096])
            try f.writeStrings(["ascan xech 0 0.002 2 0.1"], to: "/1.1/title")
        }
        try HDF5File.create(atomically: dir + "/flat.h5") { f in
            try f.write([UInt16](repeating: 1, count: 64), shape: [8, 8], to: "/1.1/measurement/det")
        }
        do { _ = try ScanManifest.open(dir + "/flat.h5"); Issue.record("a rank-2 detector was read as a scan") } catch let e as LaueError {
            #expect(e.description.contains("det has rank 2"), "\(e.description)")
        }
        let line = try ScanManifest.open(dir + "/line.h5")
        #expect(line.patterns.map(\.xUm) == [0, 1, 2] && line.patterns.allSatisfy { $0.yUm == 0 && $0.problem == nil })
        #expect(line.channels["mon"] == nil && line.notes.contains { $0.contains("mon: 100000000 values for 3 frames") })
    }

    /// `--config FILE.json` supplies options; options after it win; the file is recorded in run.json.
    @Test func configFileSuppliesOptions() throws {
        let exe = try #require(Fixtures.lauemapExecutable, "lauemap executable not found next to the tests")
        let dir = Fixtures.temporaryFolder("config")
        try #"{"material": "LiCoO2", "energy": [5, 30], "min-peaks": 6, "quiet": true, "jobs": 2}"#.write(toFile: dir + "/c.json", atomically: true, encoding: .utf8)
        let r = try Command.run(exe, ["scan", "run", Self.layouts + "/bliss.h5", "--config", dir + "/c.json", "--energy", "5,25", "--out", dir + "/out"])
        #expect(r.status == 0, "\(r.stderr)")
        let run = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/run.json"))) as? [String: Any])
        #expect(((run["indexing"] as? [String: Any])?["energy_kev"] as? [Double]) == [5, 25])
        let invocation = try #require((run["invocations"] as? [[String: Any]])?.first)
        let files = try #require(invocation["config_files"] as? [[String: Any]])
        #expect(((files.first?["settings"] as? [String: Any])?["min-peaks"] as? Int) == 6)
        try "[1, 2]".write(toFile: dir + "/bad.json", atomically: true, encoding: .utf8)
        let bad = try Command.run(exe, ["scan", "run", Self.layouts + "/bliss.h5", "--config", dir + "/bad.json", "--out", dir + "/bad"])
        #expect(bad.status == 1 && bad.stderr.contains("bad.json") && bad.stderr.contains("not a JSON object"), "\(bad.stderr)")
    }

    /// A numbered series with --raster (row-major and snake) equals the scan.csv run of the same frames;
    /// its shards merge into the same outputs (run.json carries the raster).
    @Test func numberedSeriesEqualsScanCsv() throws {
        let scan = Fixtures.temporaryFolder("series")
        var spec = ScanSpec(material: Self.lco, detector: Self.detector,
                            columns: 4, rows: 3, stepUm: 0.5, seed: 31)
        spec.pointsPerDomain = 3
        _ = try SimulatedScanWriter.write(spec, to: scan, options: SimulatedScanWriter.Options())
        let reference = try Self.rowsByCell(Self.run(ScanSource(path: scan), calib: scan + "/calib.det"))
        let raster = try ScanRaster(parsing: "4x3")
        let series = ScanSource(path: scan + "/images/img_00000.tif", raster: raster, step: (0.5, 0.5))
        let out = try Self.run(series, calib: scan + "/calib.det")
        #expect(try Self.rowsByCell(out) == reference)
        // Snake order: the same frames renamed as a snake scan writes them.
        let snake = Fixtures.temporaryFolder("snake")
        for k in 0..<12 {
            let row = k / 4, column = row % 2 == 1 ? 3 - k % 4 : k % 4
            try FileManager.default.copyItem(atPath: scan + String(format: "/images/img_%05d.tif", row * 4 + column),
                                             toPath: snake + String(format: "/s_%03d.tif", k + 1))
        }
        let snakeOut = try Self.run(ScanSource(path: snake, raster: raster, step: (0.5, 0.5), snake: true), calib: scan + "/calib.det")
        #expect(try Self.rowsByCell(snakeOut) == reference)
        // Shards of the series merge into the whole run.
        let shards = try (0..<2).map { try Shard(index: $0, count: 2) }
        let parts = try shards.map { shard in try Self.run(series, calib: scan + "/calib.det") { $0.shard = shard } }
        let merged = Fixtures.temporaryFolder("series-merged")
        _ = try ScanMerge.merge(parts, into: merged, material: Self.lco)
        #expect(TestScans.text(merged, "patterns.csv") == TestScans.text(out, "patterns.csv"))
    }

    /// scan.csv rows `file.h5#k` read frame k of a stack: the same rows as the stack read as a scan.
    @Test func stackFramesNamedInScanCsv() throws {
        let scan = Fixtures.temporaryFolder("stack")
        var spec = ScanSpec(material: Self.lco, detector: Self.detector,
                            columns: 3, rows: 2, stepUm: 0.5, seed: 32)
        spec.pointsPerDomain = 3
        var options = SimulatedScanWriter.Options()
        options.layout = .hdf5
        _ = try SimulatedScanWriter.write(spec, to: scan, options: options)
        let stack = try Self.rowsByCell(Self.run(ScanSource(path: scan + "/scan.h5"), calib: scan + "/calib.det"))
        let manifest = try ScanManifest.open(scan + "/scan.h5")
        let dir = Fixtures.temporaryFolder("stack-csv")
        var csv = "file,x_um,y_um\n"
        for p in manifest.patterns { csv += "\(scan)/scan.h5#\(p.frame),\(p.xUm),\(p.yUm)\n" }
        try csv.write(toFile: dir + "/scan.csv", atomically: true, encoding: .utf8)
        let listed = try ScanManifest.open(dir)
        #expect(listed.patterns.map(\.frame) == Array(0..<6))
        #expect(try Self.rowsByCell(Self.run(ScanSource(path: dir), calib: scan + "/calib.det")) == stack)
    }

    /// A separate XRF map (CSV, its own point order, read-back jitter, one point with no value, one
    /// point off the scan) gives every pattern the value measured at its position; the values reach
    /// patterns.csv and results.h5 as the layout's own counters do.
    @Test func channelMapFileAddsChannels() throws {
        let dir = Fixtures.temporaryFolder("channel-map")
        var csv = "file,x_um,y_um\n"
        for p in Self.points { csv += "\(Self.layouts)/aps34ide/\(p["aps_file"] as! String),\(p["x_um"] as! Double),\(p["y_um"] as! Double)\n" }
        try csv.write(toFile: dir + "/scan.csv", atomically: true, encoding: .utf8)
        var rng = SeededGenerator(seed: 11)
        var map = "x_um,y_um,Co_Ka,I0\n"
        var expected: [String: Double] = [:]                        // by "x,y"
        for (k, p) in Self.points.enumerated().reversed() {
            let (x, y) = (p["x_um"] as! Double, p["y_um"] as! Double)
            let (jx, jy) = (Double.random(in: -0.02...0.02, using: &rng), Double.random(in: -0.02...0.02, using: &rng))
            let co = 500 + 7 * Double(k)
            expected["\(x),\(y)"] = co
            map += String(format: "%.4f,%.4f,%@,%d\n", x + jx, y + jy, k == 4 ? "" : String(co), 1000 + k)
        }
        map += "40,40,1,1\n"                                      // off the scan
        try map.write(toFile: dir + "/xrf.csv", atomically: true, encoding: .utf8)

        let manifest = try ScanManifest.open(ScanSource(path: dir, channelMap: dir + "/xrf.csv"))
        let co = try #require(manifest.channels["Co_Ka"]), i0 = try #require(manifest.channels["I0"])
        for (k, p) in manifest.patterns.enumerated() {
            let want = expected["\(p.xUm),\(p.yUm)"]!
            if want == 500 + 7 * 4 { #expect(co[k].isNaN, "empty field: no value") } else { #expect(co[k] == want) }
            #expect(i0[k] == 1000 + (want - 500) / 7)
        }
        #expect(!manifest.notes.contains { $0.contains("no map point") })

        // Through a run: patterns.csv and results.h5, and the source recorded for resume.
        let out = try Self.run(ScanSource(path: dir, channelMap: dir + "/xrf.csv"))
        let records = try ScanOutputs.readPatterns(out + "/patterns.csv")
        #expect(records.count == 9)
        for r in records {
            let want = expected["\(r.xUm),\(r.yUm)"] ?? expected.first { abs(Double($0.key.split(separator: ",")[0])! - r.xUm) < 1e-6
                                                                          && abs(Double($0.key.split(separator: ",")[1])! - r.yUm) < 1e-6 }!.value
            if want == 528 { #expect(r.channels["Co_Ka"] == nil) } else { #expect(r.channels["Co_Ka"] == want) }
        }
        let h5 = try HDF5File(path: out + "/results.h5")
        #expect(try h5.read("/maps/channel_Co_Ka", as: Double.self).shape == [3, 3])
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/run.json"))) as! [String: Any]
        #expect(((run["source"] as? [String: Any])?["channel_map"] as? String)?.hasSuffix("/xrf.csv") == true)

        // A map that covers only part of the scan: the rest have no value, and inspect says how many.
        try "x_um,y_um,Co_Ka\n0,0,5\n1,0,6\n".write(toFile: dir + "/part.csv", atomically: true, encoding: .utf8)
        let part = try ScanManifest.open(ScanSource(path: dir, channelMap: dir + "/part.csv"))
        #expect(part.channels["Co_Ka"]!.filter { !$0.isNaN }.count == 2)
        #expect(part.notes.contains { $0.contains("7 of 9 patterns have no map point") })
    }

    /// Bad channel maps are refused naming the file, the line or column and the reason.
    @Test func badChannelMapsAreRefused() throws {
        let dir = Fixtures.temporaryFolder("channel-map-bad")
        func reason(_ text: String, scan: String? = nil) -> String {
            let f = dir + "/m.csv"
            try! text.write(toFile: f, atomically: true, encoding: .utf8)
            do { _ = try ScanManifest.open(ScanSource(path: scan ?? Self.layouts + "/aps34ide", channelMap: f)); return "accepted" } catch {
                return "\(error)"
            }
        }
        #expect(reason("x,y,Co\n0,0,1\n").contains("needs the columns x_um,y_um"))
        #expect(reason("x_um,y_um\n0,0\n").contains("no channel column"))
        #expect(reason("x_um,y_um,Co\n").contains("no map points"))
        #expect(reason("x_um,y_um,Co\n0,0,1\n1,0,abc\n").contains("line 3, column Co: 'abc' is not a finite decimal number"))
        #expect(reason("x_um,y_um,Co\n0,0,1\n1,0,abc\n").contains("m.csv"))
        #expect(reason("x_um,y_um,Co\n0,inf,1\n").contains("line 2"))
        #expect(reason("x_um,y_um,Co,Co\n0,0,1,2\n").contains("two columns"))
        #expect(reason("x_um,y_um,a b\n0,0,1\n").contains("channel name"))
        #expect(reason("x_um,y_um,Co\n0,0,1\n1,0,2\n0,0,3\n").contains("line 2 and line 4: two map points at one position"))
        #expect(reason("x_um,y_um,Co\n0x10,0,1\n").contains("line 2"))
        #expect(reason("x_um,y_um,Co\n0,0,inf\n").contains("not a finite decimal number"))
        #expect(reason("x_um,y_um,Co,x_um\n0,0,1,2\n").contains("two columns"))
        let long = String(repeating: "7", count: 100_000) + "x"
        let quoted = reason("x_um,y_um,Co\n0,0,\(long)\n")
        #expect(quoted.contains("not a finite decimal number") && quoted.utf8.count < 1000, "error of \(quoted.utf8.count) bytes")
        // 1,500 distinct points crowded into a square micrometre of a 1 mm map: refused, not searched.
        var crowd = "x_um,y_um,Co\n"
        for k in 0..<1500 { crowd += "\(Double(k % 40) * 0.02),\(Double(k / 40) * 0.02),1\n" }
        for k in 0..<1500 { crowd += "\(Double(k % 39) * 25 + 5),\(Double(k / 39) * 25 + 5),1\n" }
        #expect(reason(crowd).contains("crowd within"))
        // A name the scan's own counters already use.
        #expect(reason("x_um,y_um,mon\n0,0,1\n", scan: Self.layouts + "/bliss.h5").contains("records a channel of that name"))
        #expect(reason("x_um,y_um,Co\n0,0,1\n").hasPrefix("accepted"))
    }

    /// The nearest-point search agrees with a brute-force search, for points on and far off the map.
    @Test func nearestMapPointEqualsBruteForce() {
        var rng = SeededGenerator(seed: 5)
        for n in [1, 2, 17, 400, 401] {
            var xs = (0..<n).map { _ in Double.random(in: -50...50, using: &rng) }
            var ys = (0..<n).map { _ in Double.random(in: 0...5, using: &rng) }
            if n == 401 { xs[400] = 9e8; ys[400] = -9e8 }              // a far-off point among an even map
            let map = ChannelMap(names: ["c"], x: xs, y: ys, values: ["c": xs.indices.map(Double.init)])
            var queries = (0..<300).map { _ in (x: Double.random(in: -80...80, using: &rng), y: Double.random(in: -30...30, using: &rng)) }
            queries += [(x: 1e8, y: -1e8), (x: .nan, y: 0), (x: -1e9, y: 1e9)]
            let tolerance = max(ChannelMap.toleranceFraction * map.step, ScanManifest.positionTolerance)
            let got = map.sample(at: queries).channels["c"]!
            for (q, g) in zip(queries, got) {
                let d = xs.indices.map { hypot(xs[$0] - q.x, ys[$0] - q.y) }
                let best = d.indices.min { (d[$0], $0) < (d[$1], $1) }!
                let want = d[best] <= tolerance ? Double(best) : Double.nan
                #expect(g == want || (g.isNaN && want.isNaN), "n \(n) query \(q)")
            }
        }
    }

    /// APS 34-ID-E recorded on the top detector and a side detector (h5py-written files of both in one
    /// folder, one file counter across detectors, tools/fixtures/make_side_detector_fixture.py): one
    /// pattern per top file, the side file at the same stage position (20 nm apart) joins it, and the
    /// orientation is refined on the spots of both detectors, each through its own calibration.
    @Test func sideDetectorFramesAreIndexedJointly() throws {
        let folder = Self.layouts + "/aps34ide-sides"
        let expected = (Fixtures.json("layouts/aps34ide-sides/expected.json") as! [String: Any])["points"] as! [[String: Any]]
        let manifest = try ScanManifest.open(folder)
        #expect(manifest.patterns.map(\.label) == expected.map { $0["top_file"] as! String })
        #expect(manifest.sideDetectors.map(\.id) == ["PE0820 763-1850"])
        #expect(manifest.patterns.map { $0.sides.map(\.label) } == expected.map { [$0["side_file"] as! String] })
        #expect(try manifest.sideCalibrations().map(\.azimuth) == [90])

        let joint = try ScanOutputs.readPatterns(Self.run(ScanSource(path: folder)) + "/patterns.csv")
        let topOnly = try ScanOutputs.readPatterns(Self.run(ScanSource(path: Self.layouts + "/aps34ide")) + "/patterns.csv")
        #expect(joint.count == 9 && topOnly.count == 9)
        for ((j, t), e) in zip(zip(joint, topOnly), expected) {
            let m = (e["orientation"] as! [[Double]]).map { Vec3($0[0], $0[1], $0[2]) }
            let truth = Mat3(rows: m[0], m[1], m[2])
            guard let uj = j.orientation, let ut = t.orientation else { Issue.record("\(j.file): not indexed"); continue }
            // The main frame's peaks are the row's; the side frame more than doubles the indexed spots and
            // never moves the orientation away from the simulated one.
            #expect(j.peakCount == t.peakCount, "\(j.file)")
            #expect((j.indexedCount ?? 0) >= 2 * (t.indexedCount ?? 0), "\(j.file): \(j.indexedCount) spots jointly, \(t.indexedCount) on the top detector")
            let (dj, dt) = (Self.lco.misorientation(uj, truth), Self.lco.misorientation(ut, truth))
            #expect(dj <= dt + 0.01, "\(j.file): \(dj)° from the simulated orientation jointly, \(dt)° from the top detector alone")
        }
        // `lauemap index` of the first point's two frames agrees with the scan row (index = scan run).
        if let exe = Fixtures.lauemapExecutable {
            let r = try Command.run(exe, ["index", folder + "/img_1.h5", "--calib", folder + "/calib.det", "--side", folder + "/img_2.h5",
                                          "--side-calib", folder + "/calib_PE0820_763-1850.det", "--material", "LiCoO2", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            let grain = (json?["grains"] as? [[String: Any]])?.first
            let spots = grain?["spots"] as? [[String: Any]] ?? []
            #expect(grain?["n_indexed"] as? Int == joint[0].indexedCount)
            #expect(spots.filter { $0["detector"] as? Int == 0 }.count >= 1 && spots.filter { $0["detector"] as? Int == 1 }.count >= 1)
            let m = (grain?["orientation_matrix"] as? [[Double]] ?? []).map { Vec3($0[0], $0[1], $0[2]) }
            if m.count == 3, let u = joint[0].orientation { #expect(Self.lco.misorientation(Mat3(rows: m[0], m[1], m[2]), u) < 1e-4) }
            let unpaired = try Command.run(exe, ["index", folder + "/img_1.h5", "--calib", folder + "/calib.det", "--side", folder + "/img_2.h5", "--material", "LiCoO2"])
            #expect(unpaired.status != 0 && unpaired.stderr.contains("one calibration per side frame"))
        }
        // Without the side detector's calibration its frames are not used: the rows are the top detector's.
        let copy = Fixtures.temporaryFolder("sides-uncalibrated")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where !name.hasPrefix("calib_") {
            try FileManager.default.copyItem(atPath: folder + "/" + name, toPath: copy + "/" + name)
        }
        let bare = try ScanManifest.open(copy)
        #expect(bare.sideDetectors.isEmpty && bare.patterns.count == 9)
        #expect(bare.notes.contains { $0.contains("no calib_PE0820_763-1850.det in the folder: not used") })
        let uncalibrated = try ScanOutputs.readPatterns(Self.run(ScanSource(path: copy)) + "/patterns.csv")
        #expect(uncalibrated.map(\.indexedCount) == topOnly.map(\.indexedCount))
        // A main detector the folder does not hold is an error naming the detectors it does.
        #expect(throws: LaueError.self) { try ScanManifest.open(ScanSource(path: folder, mainDetector: "PE9999")) }
        #expect(throws: LaueError.self) { try ScanManifest.open(ScanSource(path: Self.layouts + "/bliss.h5", mainDetector: "PE0820 763-1850")) }
        // Another main detector takes its own calibration (calib.det is the default main detector's); the
        // top detector then has none and is not used.
        let side = try ScanManifest.open(ScanSource(path: folder, mainDetector: "PE0820 763-1850"))
        #expect(side.patterns.map(\.label) == expected.map { $0["side_file"] as! String })
        #expect(side.calibrationPath?.hasSuffix("calib_PE0820_763-1850.det") == true && side.sideDetectors.isEmpty)
        // A side calibration of another frame size: inspect says so, run refuses (no silent drop).
        let sized = Fixtures.temporaryFolder("sides-sized")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            try FileManager.default.copyItem(atPath: folder + "/" + name, toPath: sized + "/" + name)
        }
        let det = sized + "/calib_PE0820_763-1850.det"
        try (try String(contentsOfFile: det, encoding: .utf8)).replacingOccurrences(of: "(256, 256)", with: "(512, 512)")
            .replacingOccurrences(of: ", 256, 256", with: ", 512, 512").write(toFile: det, atomically: true, encoding: .utf8)
        #expect(ScanInspection(try ScanManifest.open(sized)).notes.contains { $0.contains("is 256 x 256 px, its calibration's detector 512 x 512") })
        #expect(throws: LaueError.self) { _ = try Self.run(ScanSource(path: sized)) }
    }

    /// An unreadable file in a one-detector folder is a failed row in its place; the others keep theirs.
    @Test func unreadablePointFileIsAFailedRowInPlace() throws {
        let dir = Fixtures.temporaryFolder("aps-unreadable")
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.layouts + "/aps34ide") {
            try FileManager.default.copyItem(atPath: Self.layouts + "/aps34ide/" + name, toPath: dir + "/" + name)
        }
        try "garbage".write(toFile: dir + "/point_5.h5", atomically: true, encoding: .utf8)
        let good = try ScanManifest.open(Self.layouts + "/aps34ide"), bad = try ScanManifest.open(dir)
        #expect(bad.patterns.count == 9 && bad.sideDetectors.isEmpty)
        for (g, b) in zip(good.patterns, bad.patterns) {
            if b.label == "point_5.h5" { #expect(b.problem != nil) } else { #expect(b.problem == nil && b.xUm == g.xUm && abs(b.yUm - g.yUm) < 1e-9) }
        }
    }

    /// An XRF-Maps/MAPS or PyXRF HDF5 file (h5py-written, tools/fixtures/make_xanes_fixtures.py) is a
    /// channel map: every element line at the file's stage positions (mm axes in micrometres).
    @Test func xrfMapFilesAreChannelMaps() throws {
        let xrf = Fixtures.path("xanes/xrf")
        let expected = Fixtures.json("xanes/xrf/expected.json") as! [String: Any]
        // MAPS: 6 x 5 pixels, x from 1000 µm by 0.5, y from 2000 µm by 0.25; PyXRF: x from 10 by 1, y from -5 by 2.
        for (file, layout, origin, step, channel) in [("maps_00.h5", "maps", (1000.0, 2000.0), (0.5, 0.25), "Co"),
                                                      ("pyxrf_00.h5", "pyxrf", (10.0, -5.0), (1.0, 2.0), "Co_K")] {
            let map = try ChannelMap.read(path: xrf + "/" + file)
            #expect(map.names.contains(channel) && map.x.count == 30, "\(file): \(map.names)")
            let values = (expected[layout] as! [String: [Double]])["0"]!
            // The scan's 9 frames at 9 of the map's pixels: each takes that pixel's value.
            let dir = Fixtures.temporaryFolder("xrf-channel-\(layout)")
            var csv = "file,x_um,y_um\n"
            var want: [Double] = []
            for (k, p) in Self.points.enumerated() {
                let (c, r) = (k % 3 + 1, k / 3 + 1)
                csv += "\(Self.layouts)/aps34ide/\(p["aps_file"] as! String),\(origin.0 + Double(c) * step.0),\(origin.1 + Double(r) * step.1)\n"
                want.append(values[r * 6 + c])
            }
            try csv.write(toFile: dir + "/scan.csv", atomically: true, encoding: .utf8)
            let manifest = try ScanManifest.open(ScanSource(path: dir, channelMap: xrf + "/" + file))
            #expect(manifest.channels[channel] == want, "\(file)")
            let out = try Self.run(ScanSource(path: dir, channelMap: xrf + "/" + file))
            #expect(try ScanOutputs.readPatterns(out + "/patterns.csv").map { $0.channels[channel] } == want.map { Optional($0) })
        }
        // A 2 x 3 MAPS file (channels Co, Ni) with these axes (mm), the x axis with a numeric units
        // attribute when `numericUnits`.
        func maps(_ label: String, x: [Double], numericUnits: Bool = false) throws -> String {
            let path = Fixtures.temporaryFolder(label) + "/maps.h5"
            try HDF5File.create(atomically: path) { f in
                try f.write([Float](arrayLiteral: 1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60), shape: [2, 2, 3], to: "/MAPS/XRF_Analyzed/Fitted/Counts_Per_Sec")
                try f.writeStrings(["Co", "Ni"], to: "/MAPS/XRF_Analyzed/Fitted/Channel_Names")
                try f.write(x, to: "/MAPS/Scan/x_axis")
                try f.write([0.200, 0.201], to: "/MAPS/Scan/y_axis")
                if numericUnits { try f.setAttribute("units", [1000], on: "/MAPS/Scan/x_axis") }
            }
            return path
        }
        // Descending axes (x_axis 0.102, 0.101, 0.100 mm): each pixel keeps its own position.
        let d = try ChannelMap.read(path: try maps("xrf-desc", x: [0.102, 0.101, 0.100]))
        let co = d.sample(at: [(x: 102, y: 200), (x: 100, y: 200), (x: 101, y: 201)]).channels["Co"]
        #expect(co == [1, 3, 5], "\(String(describing: co))")
        // An HDF5 file that is neither is refused naming it.
        #expect(throws: LaueError.self) { try ChannelMap.read(path: Self.layouts + "/aps34ide/point_1.h5") }
        // A numeric units attribute on an axis is an error naming the axis, not millimetres by default.
        do {
            _ = try ChannelMap.read(path: try maps("xrf-units", x: [0.100, 0.101, 0.102], numericUnits: true))
            Issue.record("a numeric units attribute was read")
        } catch let e as LaueError {
            #expect(e.description.contains("x_axis") && e.description.contains("not text"), "\(e.description)")
        }
    }

    /// `ScanGrid.flood`: a line of seven points 0.5 µm apart (the sixth without a position): point 0 is
    /// the seed; 1 and 2 are reached through each other, 4 only across the gap at point 3 (not a
    /// candidate) with radius 2, never through a point it is not linked to, and the point without a
    /// cell never.
    @Test func floodFollowsLinkedNeighbours() {
        let grid = ScanGrid(x: [0, 0.5, 1, 1.5, 2, .nan, 3], y: [Double](repeating: 0, count: 7))
        let crystal = [0, 0, 0, 9, 0, 0, 5]
        let same = { (a: Int, b: Int) in crystal[a] == crystal[b] }
        #expect(grid.flood(from: [0], through: [1, 2, 4, 5], linked: same) == [1, 2])
        #expect(grid.flood(from: [0], through: [1, 2, 4, 5], radius: 2, linked: same) == [1, 2, 4])
        #expect(grid.flood(from: [0], through: [2, 4], radius: 1, linked: same).isEmpty)
        #expect(grid.flood(from: [0], through: [1, 2, 3, 4], linked: same) == [1, 2])
        #expect(grid.flood(from: [], through: [1, 2], linked: same).isEmpty)
    }
}
