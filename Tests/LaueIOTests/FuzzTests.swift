import Foundation
import Testing
import LaueTestSupport
import LaueCore
import LaueIO

/// Hostile inputs (issue 14): structure-aware mutations of the header fields of every format LaueMap
/// reads (TIFF tags, MarCCD header, HDF5, `.det`, `.cor`, `.fit`, XDI, material files) with hostile
/// values, plus random byte mutations and truncations, each fed to the `lauemap` command that reads it
/// in its own process under a memory cap and a timeout. Every case must end with exit status 0 or a
/// clean error (status 1-127, no signal, no timeout) whose message names the file. Deterministic (a
/// fixed `SeededGenerator`); `LAUEMAP_FUZZ_CASES` scales the random part.
@Suite(.serialized) struct FuzzTests {
    /// Virtual memory cap of each case (KiB): a reader that sizes a buffer from a header without
    /// checking it against the file dies here instead of swapping.
    static let memoryCapKiB = 4_000_000
    /// Seconds before a case counts as a hang.
    static let timeoutSeconds = 30
    /// Values a header field should never be trusted with.
    static let hostileNumbers = ["nan", "inf", "-inf", "1e308", "-1e308", "4.9e-324", "2147483648", "4294967296",
                                 "-2147483649", "99999999999999999999", "0", "-1", ""]
    static let hostileWords: [UInt32] = [0, 1, 0xFFFF_FFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF, 0x0001_0000, 0x4000_0000]

    /// A hostile file and the command that reads it (`{}` stands for the file's path).
    struct Case: Sendable { var name: String; var data: Data; var arguments: [String]
        func arguments(_ path: String) -> [String] { arguments.map { $0 == "{}" ? path : $0 } }
    }

    /// Results gathered from the workers.
    final class Results: @unchecked Sendable {
        let lock = NSLock()
        var failures: [String] = []
        var errors = 0
    }

    /// Every numeric token of `text` (the first `limit`) replaced in turn by every hostile value.
    static func fieldMutations(_ text: String, limit: Int) -> [Data] {
        let regex = try! NSRegularExpression(pattern: "[-+]?[0-9]*\\.?[0-9]+([eE][-+]?[0-9]+)?")
        let ns = text as NSString
        let matches = regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).prefix(limit)
        var out: [Data] = []
        for m in matches {
            for v in hostileNumbers { out.append(Data(ns.replacingCharacters(in: m.range, with: v).utf8)) }
        }
        return out
    }

    /// TIFF IFD entries of the first directory: (offset of the entry, little-endian).
    static func tiffEntries(_ d: [UInt8]) -> (entries: [Int], little: Bool) {
        guard d.count > 8 else { return ([], true) }
        let little = d[0] == 0x49
        func u16(_ o: Int) -> Int { little ? Int(d[o]) | Int(d[o + 1]) << 8 : Int(d[o]) << 8 | Int(d[o + 1]) }
        func u32(_ o: Int) -> Int { little ? u16(o) | u16(o + 2) << 16 : u16(o) << 16 | u16(o + 2) }
        let ifd = u32(4)
        guard ifd + 2 <= d.count else { return ([], little) }
        let n = u16(ifd)
        return ((0..<n).map { ifd + 2 + 12 * $0 }.filter { $0 + 12 <= d.count }, little)
    }

    /// Each TIFF tag's count and value replaced by every hostile word.
    static func tiffMutations(_ data: Data) -> [Data] {
        let bytes = [UInt8](data)
        let (entries, little) = tiffEntries(bytes)
        var out: [Data] = []
        for e in entries {
            for field in [e + 4, e + 8] {
                for w in hostileWords {
                    var b = bytes
                    for i in 0..<4 { b[field + (little ? i : 3 - i)] = UInt8((w >> (8 * UInt32(i))) & 0xFF) }
                    out.append(Data(b))
                }
            }
        }
        return out
    }

    /// Random byte mutations (1-16 bytes within the first `window` bytes) and truncations.
    static func randomMutations(_ data: Data, count: Int, window: Int, generator g: inout SeededGenerator) -> [Data] {
        let bytes = [UInt8](data)
        func below(_ n: Int) -> Int { Int(g.next() % UInt64(max(n, 1))) }
        var out: [Data] = []
        for k in 0..<count {
            if k % 4 == 3 {
                out.append(Data(bytes.prefix(below(bytes.count))))
            } else {
                var b = bytes
                for _ in 0..<(1 + below(16)) { b[below(min(window, b.count))] = UInt8(truncatingIfNeeded: g.next()) }
                out.append(Data(b))
            }
        }
        return out
    }

    static func cases() throws -> [Case] {
        let scale = Int(ProcessInfo.processInfo.environment["LAUEMAP_FUZZ_CASES"] ?? "") ?? 1
        var g = SeededGenerator(seed: 20261206)
        var cases: [Case] = []
        func add(_ label: String, _ ext: String, _ variants: [Data], _ arguments: [String]) {
            for (i, d) in variants.enumerated() { cases.append(Case(name: "\(label)-\(i).\(ext)", data: d, arguments: arguments)) }
        }
        func read(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: Fixtures.path(name))) }
        let det = Fixtures.path("lauetools/calibGe111.det")
        let identity = "1,0,0,0,1,0,0,0,1"

        // Images: TIFF tags, the MarCCD header (a TIFF with the mar header at 1024), HDF5.
        for name in ["tiff/strips_u16.tif", "tiff/tiles_u16_raw.tif", "tiff/deflate_u16.tif"] {
            let data = try read(name)
            add("tiff-tags-" + (name as NSString).lastPathComponent, "tif", tiffMutations(data), ["info", "{}"])
            add("tiff-bytes-" + (name as NSString).lastPathComponent, "tif", randomMutations(data, count: 40 * scale, window: data.count, generator: &g), ["info", "{}"])
        }
        let mccd = try read("lauetools/Ge_blanc_0000.mccd")
        let marHeader = mccd.prefix(4096)
        var marVariants = tiffMutations(marHeader).map { $0 + mccd.dropFirst(4096) }
        // The mar header's 32-bit fields (dimensions, depth, origin...): every hostile word.
        for field in stride(from: 1024 + 80, to: 1024 + 160, by: 4) {
            for w in hostileWords.prefix(5) {
                var b = [UInt8](marHeader)
                for i in 0..<4 { b[field + i] = UInt8((w >> (8 * UInt32(i))) & 0xFF) }
                marVariants.append(Data(b) + mccd.dropFirst(4096))
            }
        }
        marVariants += randomMutations(marHeader, count: 20 * scale, window: 4096, generator: &g).map { $0.count == 4096 ? $0 + mccd.dropFirst(4096) : $0 }
        add("mccd", "mccd", marVariants, ["info", "{}"])
        let h5 = try read("hdf5/aps_stack.h5")
        add("hdf5", "h5", randomMutations(h5, count: 120 * scale, window: 4096, generator: &g), ["info", "{}"])

        // Text formats: every numeric field hostile, then random bytes.
        let detText = try String(contentsOfFile: det, encoding: .utf8)
        add("det", "det", fieldMutations(detText, limit: 14), ["predict", "--calib", "{}", "--material", "Ge", "--matrix", identity, "--max-index", "3"])
        add("det-bytes", "det", randomMutations(Data(detText.utf8), count: 20 * scale, window: detText.utf8.count, generator: &g), ["predict", "--calib", "{}", "--material", "Ge", "--matrix", identity, "--max-index", "3"])
        let corText = try String(contentsOfFile: Fixtures.path("lauetools/img_Ge_sCMOS_0000_181peaks.cor"), encoding: .utf8)
        let corHead = corText.split(separator: "\n", omittingEmptySubsequences: false).prefix(6).joined(separator: "\n")
        let corTail = corText.split(separator: "\n", omittingEmptySubsequences: false).suffix(40).joined(separator: "\n")
        for (part, text) in [("head", corHead), ("tail", corTail)] {
            let rest = part == "head" ? String(corText.dropFirst(corHead.count)) : String(corText.dropLast(corTail.count))
            let variants = fieldMutations(text, limit: 12).map { v -> Data in
                let t = String(decoding: v, as: UTF8.self)
                return Data((part == "head" ? t + rest : rest + t).utf8)
            }
            add("cor-" + part, "cor", variants, ["predict", "--calib", "{}", "--material", "Ge", "--matrix", identity, "--max-index", "3"])
        }
        let fitText = try String(contentsOfFile: Fixtures.path("lauetools/Ge_blanc_0000_LT_5.fit"), encoding: .utf8)
        add("fit", "fit", fieldMutations(fitText, limit: 10), ["predict", "--calib", det, "--material", "Ge", "--fit", "{}", "--max-index", "3"])
        let fitLines = fitText.split(separator: "\n", omittingEmptySubsequences: false)
        if let m = fitLines.firstIndex(where: { $0.contains("UB") || $0.contains("Orientation") || $0.contains("matrix") }) {
            let head = fitLines[..<m].joined(separator: "\n") + "\n"
            let tail = fitLines[m...].joined(separator: "\n")
            add("fit-matrix", "fit", fieldMutations(tail, limit: 12).map { Data(head.utf8) + $0 }, ["predict", "--calib", det, "--material", "Ge", "--fit", "{}", "--max-index", "3"])
        }
        let xdi = try String(contentsOfFile: Fixtures.path("xanes/spectra/co_metal_rt.xdi"), encoding: .utf8)
        let xdiLines = xdi.split(separator: "\n", omittingEmptySubsequences: false)
        let dataStart = xdiLines.firstIndex { !$0.hasPrefix("#") } ?? 0
        let xdiHead = xdiLines[..<dataStart].joined(separator: "\n") + "\n"
        let xdiData = xdiLines[dataStart...].joined(separator: "\n")
        add("xdi", "xdi", fieldMutations(xdiData, limit: 8).map { Data(xdiHead.utf8) + $0 }, ["xanes", "normalize", "{}"])
        add("xdi-bytes", "xdi", randomMutations(Data(xdi.utf8), count: 20 * scale, window: 4000, generator: &g), ["xanes", "normalize", "{}"])
        let material = """
        { "name": "Fuzzium", "lattice": { "a": 5.658, "b": 5.658, "c": 5.658, "alpha": 90, "beta": 90, "gamma": 90 },
          "space_group": 227,
          "atoms": [ { "element": "Ge", "xyz": [0.125, 0.125, 0.125], "occupancy": 1.0, "b_iso": 0.5 } ] }
        """
        add("material", "json", fieldMutations(material, limit: 14), ["predict", "--calib", det, "--material", "{}", "--matrix", identity, "--max-index", "3"])
        add("material-bytes", "json", randomMutations(Data(material.utf8), count: 20 * scale, window: material.utf8.count, generator: &g), ["predict", "--calib", det, "--material", "{}", "--matrix", identity, "--max-index", "3"])
        return cases
    }

    @Test func hostileInputsGetCleanErrors() throws {
        guard let lauemap = Fixtures.lauemapExecutable else { Issue.record("no lauemap executable"); return }
        let cases = try FuzzTests.cases()
        #expect(cases.count >= 1000, "\(cases.count) cases")
        let dir = Fixtures.temporaryFolder("fuzz")
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for (i, c) in cases.enumerated() where i % 2 == worker {
                let path = (dir as NSString).appendingPathComponent(c.name)
                do { try c.data.write(to: URL(fileURLWithPath: path)) } catch { continue }
                defer { unlink(path) }
                let line = ([lauemap] + c.arguments(path)).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
                let script = "ulimit -v \(FuzzTests.memoryCapKiB); exec timeout -s KILL \(FuzzTests.timeoutSeconds) \(line)"
                let r: Command
                do { r = try Command.run("/bin/sh", ["-c", script]) } catch { continue }
                var problem: String? = nil
                if r.status >= 128 { problem = "signal \(r.status - 128)" + (r.status == 137 ? " (timeout or memory)" : "") }
                else if r.status != 0 && !r.stderr.contains(c.name) { problem = "error without the file name: \(r.stderr.prefix(200))" }
                results.lock.lock()
                if r.status != 0 { results.errors += 1 }
                if let problem { results.failures.append("\(c.name) [\(c.arguments("FILE").joined(separator: " "))]: \(problem)") }
                results.lock.unlock()
            }
        }
        let failures = results.failures.sorted()
        print("fuzz: \(cases.count) cases, \(results.errors) clean errors, \(failures.count) problems")
        #expect(failures.isEmpty, "\(failures.count) of \(cases.count) hostile inputs: \(failures.prefix(20).joined(separator: "\n"))")
    }
}

/// The readers no command calls on a file alone (LaueTools `.dat`/`.cor` peak lists, `scan.csv`),
/// fuzzed in this process: a trap fails the whole test run; an accepted file must hold finite numbers.
@Suite struct InProcessFuzzTests {
    @Test func peakListsAndScanTablesNeverTrap() throws {
        var g = SeededGenerator(seed: 61206)
        let dir = Fixtures.temporaryFolder("fuzz-in-process")
        var cases = 0, accepted = 0
        for name in ["lauetools/Ge_blanc_0000.dat", "lauetools/img_Ge_sCMOS_0000_181peaks.cor"] {
            let text = try String(contentsOfFile: Fixtures.path(name), encoding: .utf8)
            let head = String(text.prefix(3000))
            let variants = FuzzTests.fieldMutations(head, limit: 30).map { $0 + Data(text.dropFirst(head.count).utf8) }
                + FuzzTests.randomMutations(Data(text.utf8), count: 100, window: 3000, generator: &g)
            for (i, v) in variants.enumerated() {
                let path = (dir as NSString).appendingPathComponent("list-\(i)." + (name as NSString).pathExtension)
                try v.write(to: URL(fileURLWithPath: path))
                cases += 1
                do {
                    let list = try LaueToolsPeakList.read(path: path)
                    accepted += 1
                    #expect(list.rows.allSatisfy { $0.allSatisfy(\.isFinite) }, "\(path): a non-finite value accepted")
                } catch let e as LaueError {
                    #expect(e.description.contains(path) || e.description.contains((path as NSString).lastPathComponent), "\(e)")
                }
            }
        }
        // scan.csv: hostile coordinates and file names in a folder scan.
        let scan = (dir as NSString).appendingPathComponent("scan")
        try FileManager.default.createDirectory(atPath: scan, withIntermediateDirectories: true)
        let table = "file,x_um,y_um\na.tif,0,0\nb.tif,0.5,0\nc.tif,0,0.5\n"
        let variants = FuzzTests.fieldMutations(table, limit: 6) + FuzzTests.randomMutations(Data(table.utf8), count: 100, window: table.utf8.count, generator: &g)
        for v in variants {
            try v.write(to: URL(fileURLWithPath: (scan as NSString).appendingPathComponent("scan.csv")))
            cases += 1
            do {
                let m = try ScanManifest.open(scan)
                accepted += 1
                // A pattern without a finite position is kept as a failed row with the reason.
                #expect(m.patterns.allSatisfy { ($0.xUm.isFinite && $0.yUm.isFinite) != ($0.problem?.contains("scan.csv") ?? false) },
                        "non-finite coordinate accepted")
            } catch let e as LaueError {
                #expect(e.description.contains("scan"), "\(e)")
            }
        }
        print("in-process fuzz: \(cases) cases, \(accepted) accepted")
        #expect(cases >= 400)
    }
}
