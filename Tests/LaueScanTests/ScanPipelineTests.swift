import Foundation
import Testing
import LaueCore
import LaueIO
import LaueScan
import LaueSimulation
import LaueTestSupport

/// Simulated scans shared by the tests (built once per test run).
enum TestScans {
    static let lco = try! Material.builtin("LiCoO2")

    static func simulate(seed: UInt64, grid: Int, layout: ScanLayoutKind = .folder, label: String) -> String {
        let dir = Fixtures.temporaryFolder(label)
        var spec = ScanSpec(material: lco, detector: try! SimulatedDetector.builtin("medium"), columns: grid, rows: grid, stepUm: 0.5, seed: seed)
        spec.pointsPerDomain = 20
        var options = SimulatedScanWriter.Options()
        options.layout = layout
        _ = try! SimulatedScanWriter.write(spec, to: dir, options: options)
        return dir
    }

    static func settings(_ scan: String) throws -> ScanSettings {
        let manifest = try ScanManifest.open(scan)
        return ScanSettings(material: lco, calibration: try LaueToolsCalibration.read(path: manifest.calibrationPath!))
    }

    @discardableResult
    static func run(_ scan: String, into out: String, _ configure: (inout ScanRunOptions) -> Void = { _ in }) throws -> ScanRunSummary {
        var options = ScanRunOptions()
        options.jobs = 2
        configure(&options)
        return try ScanRunner(scan: scan, settings: settings(scan), output: out, options: options).run()
    }

    /// Two particles for the accuracy test (seeds not used for tuning): folder and HDF5 layouts.
    static let accuracyScans: [String] = [simulate(seed: 4242, grid: 24, label: "acc-a"),
                                          simulate(seed: 4343, grid: 24, layout: .hdf5, label: "acc-b")]
    /// A 20 x 20 scan and its uninterrupted run, for resume, shard and corruption tests.
    static let smallScan: String = simulate(seed: 515, grid: 20, label: "small")
    static let reference: String = {
        let out = Fixtures.temporaryFolder("reference")
        try! run(smallScan, into: out)
        return out
    }()

    static func text(_ folder: String, _ file: String) -> String {
        (try? String(contentsOfFile: (folder as NSString).appendingPathComponent(file), encoding: .utf8)) ?? "<missing \(file)>"
    }
}

@Suite(.serialized) struct ScanPipelineTests {
    /// The issue's acceptance numbers on two simulated LiCoO2 particles (all six classes, Poisson noise,
    /// seeds 4242 and 4343, never used for tuning).
    @Test func classifiesSimulatedScansAgainstTruth() throws {
        var records: [PatternRecord] = []
        var truth = CSVTable(header: [])
        for (k, scan) in TestScans.accuracyScans.enumerated() {
            let out = Fixtures.temporaryFolder("acc-out")
            try TestScans.run(scan, into: out)
            // File labels differ between layouts: prefix them per scan.
            records += try ScanOutputs.readPatterns((out as NSString).appendingPathComponent("patterns.csv")).map { var r = $0; r.file = "\(k):" + r.file; return r }
            let t = try CSVTable.read(path: (scan as NSString).appendingPathComponent("truth.csv"))
            if truth.header.isEmpty { truth.header = t.header }
            let fi = t.index(of: "file")!
            truth.rows += t.rows.map { var r = $0; r[fi] = "\(k):" + r[fi]; return r }
        }
        let e = try ScanEvaluation(truth: truth, results: records, symmetry: TestScans.lco.symmetryRotations)
        print(e.report)
        #expect(e.wrongOrientations == 0)
        #expect(e.macroF1 >= 0.95, "macro-F1 \(e.macroF1)")
        for (i, c) in ScanEvaluation.classes.enumerated() {
            #expect(e.recall[i] >= 0.90, "recall of \(c.rawValue): \(e.recall[i])")
        }
        #expect(ScanEvaluation.median(e.axisErrors) <= 3, "median axis error \(ScanEvaluation.median(e.axisErrors)) deg")
        for (c, errors) in e.spreadErrors.merging(e.tiltErrors, uniquingKeysWith: +) {
            let sorted = errors.map(abs).sorted()
            let p95 = sorted[min(sorted.count - 1, Int(0.95 * Double(sorted.count)))]
            #expect(p95 <= 0.10, "\(c.rawValue): 95th percentile of spread/tilt error \(p95 * 100) %")
        }
        for c in ScanEvaluation.classes where c.isDefect {
            let d = abs((e.truthFractions[c] ?? 0) - (e.measuredFractions[c] ?? 0))
            #expect(d <= 2, "\(c.rawValue): fraction off by \(d) percentage points")
        }
        #expect(e.outsideClassified == 0)
    }

    /// SIGKILL in the middle of `lauemap scan run`, then `--resume`: the same files as an uninterrupted run.
    @Test func killedRunResumesToTheSameResult() throws {
        let exe = try #require(Fixtures.lauemapExecutable, "lauemap executable not found next to the tests")
        let out = Fixtures.temporaryFolder("killed")
        let args = ["scan", "run", TestScans.smallScan, "--material", "LiCoO2", "--out", out, "--jobs", "2", "--quiet"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let part = (out as NSString).appendingPathComponent(".work/patterns.part.csv")
        let deadline = Date().addingTimeInterval(120)
        var linesAtKill = 0
        while Date() < deadline && p.isRunning {
            linesAtKill = (try? String(contentsOfFile: part, encoding: .utf8))?.split(separator: "\n").count ?? 0
            if linesAtKill > 100 { break }
            usleep(20_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(linesAtKill > 1 && linesAtKill < 401, "killed with \(linesAtKill) lines written")
        #expect(!FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent("patterns.csv")))
        let q = Process()
        q.executableURL = URL(fileURLWithPath: exe)
        q.arguments = args + ["--resume"]
        q.standardOutput = FileHandle.nullDevice
        q.standardError = FileHandle.nullDevice
        try q.run()
        q.waitUntilExit()
        #expect(q.terminationStatus == 0)
        for f in ["patterns.csv", "peaks.csv"] {
            #expect(TestScans.text(out, f) == TestScans.text(TestScans.reference, f), "\(f) differs after resume")
        }
        let a = FileManager.default.contents(atPath: (out as NSString).appendingPathComponent("results.h5"))
        let b = FileManager.default.contents(atPath: (TestScans.reference as NSString).appendingPathComponent("results.h5"))
        #expect(a != nil && a == b, "results.h5 differs after resume")
    }

    /// An interrupted run whose part file ends in half a line (killed mid-write) resumes exactly.
    @Test func partialLineIsDroppedOnResume() throws {
        let out = Fixtures.temporaryFolder("partial")
        let first = try TestScans.run(TestScans.smallScan, into: out) { $0.stopAfter = 70; $0.batchSize = 16 }
        #expect(!first.complete)
        let part = (out as NSString).appendingPathComponent(".work/patterns.part.csv")
        let h = try #require(FileHandle(forWritingAtPath: part))
        try h.seekToEnd(); try h.write(contentsOf: Data("images/img_00080.tif,40.0,0.0,inde".utf8)); try h.close()
        let peaks = (out as NSString).appendingPathComponent(".work/peaks.part.csv")
        let g = try #require(FileHandle(forWritingAtPath: peaks))
        try g.seekToEnd(); try g.write(contentsOf: Data("images/img_00080.tif,80,1,0,4,10.0,20.0\n".utf8)); try g.close()
        #expect(throws: LaueError.self) { try TestScans.run(TestScans.smallScan, into: out) }   // refuses without --resume
        let second = try TestScans.run(TestScans.smallScan, into: out) { $0.resume = true }
        #expect(second.complete && second.resumedFrom == 70)
        for f in ["patterns.csv", "peaks.csv"] { #expect(TestScans.text(out, f) == TestScans.text(TestScans.reference, f)) }
    }

    /// Three shards merged equal the whole run; a missing shard is refused.
    @Test func shardsMergeToTheWhole() throws {
        var folders: [String] = []
        for k in 0..<3 {
            let out = Fixtures.temporaryFolder("shard\(k)")
            let s = try TestScans.run(TestScans.smallScan, into: out) { $0.shard = try! Shard(index: k, count: 3) }
            #expect(s.range == (k * 400 / 3)..<((k + 1) * 400 / 3))
            folders.append(out)
        }
        let merged = Fixtures.temporaryFolder("merged")
        _ = try ScanMerge.merge(folders, into: merged, material: TestScans.lco)
        for f in ["patterns.csv", "peaks.csv"] { #expect(TestScans.text(merged, f) == TestScans.text(TestScans.reference, f), "\(f)") }
        #expect(throws: LaueError.self) { try ScanMerge.merge([folders[0], folders[2]], into: Fixtures.temporaryFolder("bad"), material: TestScans.lco) }
        // A merge into a folder another process writes into is refused.
        let busy = Fixtures.temporaryFolder("busy")
        let lock = try FolderLock(folder: busy, purpose: "test")
        #expect { try ScanMerge.merge(folders, into: busy, material: TestScans.lco) } throws: { e in
            (e as? LaueError)?.description.contains("in use by another LaueMap process") ?? false
        }
        lock.release()
        // A shard whose table lost its last row, or holds another shard's row, is refused.
        let table = (folders[1] as NSString).appendingPathComponent("patterns.csv")
        let original = try String(contentsOfFile: table, encoding: .utf8)
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        try (lines.dropLast(2).joined(separator: "\n") + "\n").write(toFile: table, atomically: true, encoding: .utf8)
        #expect { try ScanMerge.merge(folders, into: Fixtures.temporaryFolder("bad"), material: TestScans.lco) } throws: { e in
            (e as? LaueError)?.description.contains("truncated") ?? false
        }
        lines.swapAt(1, 2)
        try lines.joined(separator: "\n").write(toFile: table, atomically: true, encoding: .utf8)
        #expect(throws: LaueError.self) { try ScanMerge.merge(folders, into: Fixtures.temporaryFolder("bad"), material: TestScans.lco) }
        try original.write(toFile: table, atomically: true, encoding: .utf8)
    }

    /// Two writers on one output folder: the second is refused while the first holds it, and may go on
    /// once it is released (the kernel releases it when a process ends, even killed).
    @Test func outputFolderIsLocked() throws {
        let out = Fixtures.temporaryFolder("locked")
        let lock = try FolderLock(folder: out, purpose: "another scan run")
        #expect { try TestScans.run(TestScans.smallScan, into: out) } throws: { e in
            let text = (e as? LaueError)?.description ?? ""
            return text.contains("in use by another LaueMap process") && text.contains("another scan run")
        }
        #expect(!FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent("run.json")))
        lock.release()
        let s = try TestScans.run(TestScans.smallScan, into: out) { $0.stopAfter = 16 }
        #expect(s.processed == 16)
    }

    /// Whether this machine lets an unprivileged process mount a small tmpfs in its own user and
    /// mount namespace (`unshare -rm`): the way to give a test a disk that fills up.
    static let smallDiskAvailable: Bool = {
        (try? Command.run("/usr/bin/unshare", ["-rm", "/bin/sh", "-c", "mount -t tmpfs -o size=64k tmpfs /tmp && true"]))?.status == 0
    }()

    /// A disk that fills up while the scan writes its part files, results.h5 or its maps: a clean
    /// error naming the file and the full disk (no signal), no results.h5, table or map in place,
    /// and `--resume` after space is freed gives files byte-identical to an uninterrupted run.
    @Test(.enabled(if: ScanPipelineTests.smallDiskAvailable, "needs unprivileged user namespaces (unshare -rm) to mount a small tmpfs"))
    func fullDiskGivesACleanErrorAndResumes() throws {
        let exe = try #require(Fixtures.lauemapExecutable, "lauemap executable not found next to the tests")
        let reference = TestScans.reference
        func size(_ names: [String]) -> Int {
            names.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: (reference as NSString).appendingPathComponent($1))[.size] as? Int) ?? 0) }
        }
        let compared = ["patterns.csv", "peaks.csv", "results.h5", "maps/class.png", "maps/orientation_ipf.png"]
        // The run writes the part files, the neighbour pass's tables (as large), results.h5, then the
        // maps: a disk that fills in the middle of each.
        let tables = size(["patterns.csv", "peaks.csv"]), h5 = size(["results.h5"])
        let maps = size(((try? FileManager.default.contentsOfDirectory(atPath: (reference as NSString).appendingPathComponent("maps"))) ?? []).map { "maps/" + $0 })
        var failedIn: Set<String> = []
        for bytes in [tables / 2, 3 * tables / 2, 2 * tables + h5 / 2, 2 * tables + h5 + maps / 2] {
            let work = Fixtures.temporaryFolder("full-disk")
            let disk = (work as NSString).appendingPathComponent("disk")
            let out = (disk as NSString).appendingPathComponent("out")
            let err = (work as NSString).appendingPathComponent("stderr")
            try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
            let run = "'\(exe)' scan run '\(TestScans.smallScan)' --material LiCoO2 --out '\(out)' --jobs 2 --quiet"
            let script = """
                set -u
                mount -t tmpfs -o size=\(bytes / 1024)k tmpfs '\(disk)' || exit 90
                \(run) > /dev/null 2> '\(err)'
                echo "status $?"
                (cd '\(out)' && find . -type f | sort | sed 's/^/left /')
                grep -Eq '"complete" *: *false' '\(out)/run.json' && echo "marked incomplete"
                mount -o remount,size=64m '\(disk)'
                \(run) --resume > /dev/null 2> '\(err).resume'
                echo "resumed $?"
                for f in \(compared.joined(separator: " ")); do cmp -s '\(out)'/$f '\(reference)'/$f && echo "same $f"; done
                (cd '\(out)' && find . -name '*.tmp-*' -o -name .work | sed 's/^/stray /')
                """
            let c = try Command.run("/usr/bin/unshare", ["-rm", "/bin/sh", "-c", script])
            let lines = c.stdout.split(separator: "\n").map(String.init)
            let message = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
            let label = "disk of \(bytes / 1024) KiB"
            #expect(lines.contains("status 1"), "\(label): \(lines.first ?? c.stderr) \(message.suffix(300))")
            #expect(message.contains(out) && message.contains("the disk is full"), "\(label): \(message.suffix(300))")
            let left = lines.filter { $0.hasPrefix("left ./") }.map { String($0.dropFirst(7)) }
            for name in left {
                #expect(name.hasPrefix(".work/") || ["run.json", ".lock"].contains(name), "\(label): \(name) left in place")
            }
            #expect(lines.contains("marked incomplete"), "\(label): run.json")
            #expect(lines.contains("resumed 0"), "\(label): resume failed")
            for f in compared { #expect(lines.contains("same \(f)"), "\(label): \(f) differs after the resume") }
            #expect(!lines.contains { $0.hasPrefix("stray") }, "\(label): \(lines.filter { $0.hasPrefix("stray") })")
            if let file = message.range(of: out + "/").map({ message[$0.upperBound...].prefix { $0 != ":" } }) { failedIn.insert(String(file)) }
        }
        // Each stage of the run met the full disk at least once.
        #expect(failedIn.contains { $0.hasPrefix(".work/") && $0.hasSuffix(".part.csv") }, "\(failedIn)")
        #expect(failedIn.contains { $0.hasPrefix(".work/") && $0.contains(".guided.") }, "\(failedIn)")
        #expect(failedIn.contains("results.h5"), "\(failedIn)")
        #expect(failedIn.contains { $0.hasPrefix("maps/") }, "\(failedIn)")
    }

    /// Corrupt, truncated and missing images are `failed` rows naming the file and the reason; every
    /// other row is what the clean scan gives.
    @Test func badImagesAreFailedRows() throws {
        let scan = Fixtures.temporaryFolder("damaged")
        try FileManager.default.removeItem(atPath: scan)
        try FileManager.default.copyItem(atPath: TestScans.smallScan, toPath: scan)
        let images = (scan as NSString).appendingPathComponent("images")
        let corrupt = "img_00150.tif", truncated = "img_00151.tif", missing = "img_00152.tif"
        try Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: URL(fileURLWithPath: (images as NSString).appendingPathComponent(corrupt)))
        let t = (images as NSString).appendingPathComponent(truncated)
        let full = try Data(contentsOf: URL(fileURLWithPath: t))
        try full.prefix(full.count / 3).write(to: URL(fileURLWithPath: t))
        try FileManager.default.removeItem(atPath: (images as NSString).appendingPathComponent(missing))
        // A directory and a FIFO where frames should be: refused with the reason, never read (a FIFO
        // would block the scan forever).
        let directory = "img_00153.tif", fifo = "img_00154.tif"
        let d = (images as NSString).appendingPathComponent(directory), p = (images as NSString).appendingPathComponent(fifo)
        try FileManager.default.removeItem(atPath: d)
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: false)
        try FileManager.default.removeItem(atPath: p)
        #expect(mkfifo(p, 0o644) == 0)
        let out = Fixtures.temporaryFolder("damaged-out")
        // Damaged frames may be among those the point-spread estimate samples (which frames it samples
        // is fixed by their labels; unreadable added rows are tested in addedBadRowsChangeNoOtherRow):
        // the clean run's value is given here, so the rows compare pattern by pattern.
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TestScans.reference + "/run.json"))) as? [String: Any]
        let psf = try #require(reference?["psf_sigma_px"] as? Double)
        let s = try TestScans.run(scan, into: out) { $0.pointSpreadSigma = psf }
        #expect(s.failed == 5)
        let rows = try ScanOutputs.readPatterns((out as NSString).appendingPathComponent("patterns.csv"))
        let clean = try ScanOutputs.readPatterns((TestScans.reference as NSString).appendingPathComponent("patterns.csv"))
        #expect(rows.count == clean.count)
        for (r, c) in zip(rows, clean) {
            if [corrupt, truncated, missing, directory, fifo].contains((r.file as NSString).lastPathComponent) {
                #expect(r.status == .failed && r.defectClass == .failed)
                #expect(r.reason.contains((r.file as NSString).lastPathComponent), "reason \(r.reason)")
            } else {
                #expect(r == c, "row \(r.index) differs from the clean run")
            }
        }
        let reasons = rows.filter { $0.status == .failed }.map(\.reason)
        #expect(reasons.contains { $0.contains("no such file") })
        #expect(reasons.contains { $0.contains("is a directory") } && reasons.contains { $0.contains("FIFO") })
    }

    /// Rows added for frames that cannot be read (a missing file, a directory) change no other row: the
    /// scan-wide point-spread estimate never samples them (frames are visited in a hash order of their
    /// labels; unreadable ones use up no visit).
    @Test func addedBadRowsChangeNoOtherRow() throws {
        let scan = Fixtures.temporaryFolder("extra-rows")
        try FileManager.default.createSymbolicLink(atPath: scan + "/images", withDestinationPath: TestScans.smallScan + "/images")
        try FileManager.default.copyItem(atPath: TestScans.smallScan + "/calib.det", toPath: scan + "/calib.det")
        try FileManager.default.createDirectory(atPath: scan + "/frames/dir.tif", withIntermediateDirectories: true)
        #expect(mkfifo(scan + "/frames/fifo.tif", 0o644) == 0)
        let calibration = try LaueToolsCalibration.read(path: scan + "/calib.det")
        try TIFFWriter.write(LaueImage(width: calibration.width, height: calibration.height,
                                       pixels: [Float](repeating: .nan, count: calibration.width * calibration.height), pixelType: .float32),
                             to: scan + "/frames/nan.tif", options: TIFFWriter.Options(pixelType: .float32))
        var text = try String(contentsOfFile: TestScans.smallScan + "/scan.csv", encoding: .utf8)
        // A missing file, a directory, a FIFO, a NaN stage position (of a good frame) and an all-NaN frame.
        text += "frames/missing.tif,1000,0\nframes/dir.tif,1000.5,0\nframes/fifo.tif,1001,0\nimages/img_00000.tif,nan,0\nframes/nan.tif,1001.5,0\n"
        try text.write(toFile: scan + "/scan.csv", atomically: true, encoding: .utf8)
        let out = Fixtures.temporaryFolder("extra-rows-out")
        let s = try TestScans.run(scan, into: out)
        #expect(s.failed == 5)
        let rows = try ScanOutputs.readPatterns(out + "/patterns.csv")
        let clean = try ScanOutputs.readPatterns(TestScans.reference + "/patterns.csv")
        #expect(rows.count == clean.count + 5)
        for (r, c) in zip(rows, clean) { #expect(r == c, "row \(r.index) differs from the scan without the bad rows") }
        let reasons = rows.dropFirst(clean.count).map(\.reason)
        #expect(rows.dropFirst(clean.count).allSatisfy { $0.status == .failed } && reasons.count == 5)
        for (reason, words) in zip(reasons, ["missing.tif", "is a directory", "FIFO", "line \(clean.count + 5): stage position (nan, 0)", "no finite pixel"]) {
            #expect(reason.contains(words), "\(reason)")
        }
        func psf(_ folder: String) -> Double? {
            (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/run.json"))) as? [String: Any])?["psf_sigma_px"] as? Double
        }
        #expect(psf(out) != nil && psf(out) == psf(TestScans.reference))
    }

    /// results.h5: tables and maps on the scan grid with coordinates and units.
    @Test func resultsHDF5HoldsTablesAndMaps() throws {
        let path = (TestScans.reference as NSString).appendingPathComponent("results.h5")
        let f = try HDF5File(path: path)
        let records = try ScanOutputs.readPatterns((TestScans.reference as NSString).appendingPathComponent("patterns.csv"))
        #expect(try f.shape(of: "/maps/class") == [20, 20])
        #expect(try f.shape(of: "/maps/ipf_rgb") == [20, 20, 3])
        #expect(try f.read("/maps/x_um", as: Double.self).values.count == 20)
        #expect(f.stringAttribute("units", of: "/maps/x_um") == "um")
        #expect(f.stringAttribute("units", of: "/maps/streak_extent_deg") == "deg")
        // Counts and indices are integers.
        for d in ["/peaks/h", "/peaks/l", "/peaks/pattern_index", "/patterns/n_peaks", "/patterns/pattern_index", "/maps/n_indexed"] {
            #expect(try f.storedType(of: d) == .int32, "\(d)")
        }
        #expect(try f.read("/patterns/n_peaks", as: Int32.self).values == records.map { Int32($0.peakCount ?? -1) })
        // NeXus: the default plot is the class map, every map an NXdata with axes in um.
        #expect(f.stringAttribute("default") == "entry" && f.stringAttribute("NX_class") == "NXroot")
        #expect(f.stringAttribute("default", of: "/entry") == "class" && f.stringAttribute("NX_class", of: "/entry") == "NXentry")
        #expect(f.stringAttribute("NX_class", of: "/entry/class") == "NXdata" && f.stringAttribute("signal", of: "/entry/class") == "class")
        #expect(try f.read("/entry/class/class", as: Int32.self).values == f.read("/maps/class", as: Int32.self).values)
        #expect(f.stringAttribute("interpretation", of: "/maps/ipf_rgb") == "rgb-image")
        // Provenance: version, inputs checksum, material, calibration, every setting (no times: run.json has them).
        let provenance = try #require(try JSONSerialization.jsonObject(with: Data(f.readStrings("/entry/provenance")[0].utf8)) as? [String: Any])
        #expect(provenance["lauemap_version"] as? String == LaueMapInfo.version)
        #expect(((provenance["inputs"] as? [String: Any])?["patterns"] as? Int) == records.count)
        #expect(((provenance["material"] as? [String: Any])?["name"] as? String) == "LiCoO2")
        let settings = try #require(provenance["settings"] as? [String: Any])
        #expect(settings["peak_search"] is [String: Any] && settings["indexing"] is [String: Any] && settings["classifier"] is [String: Any])
        let run = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TestScans.reference + "/run.json"))) as? [String: Any])
        let invocations = try #require(run["invocations"] as? [[String: Any]])
        #expect(invocations.count == 1 && invocations[0]["started"] is String && invocations[0]["finished"] is String)
        #expect(Provenance.text(run["provenance"] as? [String: Any] ?? [:]) == Provenance.text(provenance))
        // silx (independent reader) finds the default plot and its axes in um.
        if let check = try Fixtures.checkOutputs(["nexus", path]) {
            #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        } else {
            print("skipped: silx check of results.h5 (no Python checker: tools/install-deps --test)")
        }
        #expect(try f.readStrings("/patterns/class") == records.map(\.defectClass.rawValue))
        let classes = try f.read("/maps/class", as: Int32.self).values
        for r in records {
            let col = Int((r.xUm / 0.5).rounded()), row = Int((r.yUm / 0.5).rounded())
            #expect(ScanOutputs.classCodes[Int(classes[row * 20 + col])] == r.defectClass)
        }
        let spots = try f.read("/peaks/h", as: Int32.self).values.count
        let csvSpots = TestScans.text(TestScans.reference, "peaks.csv").split(separator: "\n").count - 1
        #expect(spots == csvSpots)
    }

    /// Defect-fraction table: counts, percentages, bootstrap intervals.
    @Test func defectFractionTable() throws {
        let a = DefectFractionTable.Column(name: "a", counts: [.gnd: 6, .tiltBoundary: 2, .noDefect: 2])
        let b = DefectFractionTable.Column(name: "b", counts: [.gnd: 2, .tiltBoundary: 6, .unindexed: 2])
        let t = DefectFractionTable(scans: [a, b])
        #expect(t.overall.total == 20 && t.overall.defectTotal == 16)
        #expect(abs(t.overall.percentOfDefects(.gnd) - 50) < 1e-9)
        #expect(abs(t.overall.percentOfAll(.noDefect) - 10) < 1e-9)
        let ci = try #require(t.intervals?[.gnd]?.defects)
        #expect(ci.lowerBound >= 25 - 1e-9 && ci.upperBound <= 75 + 1e-9 && ci.contains(50))
        let csv = try CSVTable.parse(t.render(.csv))
        let row = try #require(csv.rows.first { $0[0] == "all" && $0[1] == "gnd" })
        #expect(row[2] == "8" && row[4] == "50.0")
        #expect(t.render(.md).contains("| gnd | 6 | 60.0 | 75.0 |"))
        #expect(t.render(.latex).contains("\\begin{tabular}"))
        let single = DefectFractionTable(scans: [a])
        #expect(single.intervals == nil && single.overall.name == "a")
    }
}
