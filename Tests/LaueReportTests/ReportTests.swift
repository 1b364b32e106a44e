import Foundation
import Testing
import LaueCore
import LaueIO
import LaueReport
import LaueScan
import LaueTestSupport

/// `lauemap report` and the report `scan run` and `demo` write (issue 17): numbers equal to the runs'
/// own files counted here, self-contained, and opened in headless Chromium where a click on a map cell
/// shows that pattern (tools/check_report.py).
@Suite(.serialized) struct ReportTests {
    /// Two simulated particles run by the demo (which also writes their report).
    static let demoRun: (out: String, stdout: String)? = {
        guard let exe = Fixtures.lauemapExecutable else { return nil }
        let out = Fixtures.temporaryFolder("report-demo")
        guard let run = try? Command.run(exe, ["demo", "--out", out, "--particles", "2", "--grid", "6x5", "--seed", "4242"]), run.status == 0 else { return nil }
        return (out, run.stdout)
    }()
    static var demo: String? { demoRun?.out }

    func html(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    @Test func demoPrintsItsReportAndTheReportCountsWhatTheRunsHold() throws {
        let out = try #require(ReportTests.demo, "lauemap demo did not run (executable missing or failed)")
        #expect(ReportTests.demoRun?.stdout.contains("Report (open in a browser): \(out)/report/index.html") == true)
        let page = try html(out + "/report/index.html")
        let folders = ["particle-01", "particle-02"].map { out + "/" + $0 }
        // One clickable cell per pattern, in every run.
        for (r, folder) in folders.enumerated() {
            let rows = try CSVTable.read(path: folder + "/patterns.csv")
            let section = try #require(page.components(separatedBy: "id=\"run-\(r)\"").dropFirst().first?.components(separatedBy: "</section>").first)
            #expect(section.components(separatedBy: "<rect class=\"cell\"").count - 1 == rows.rows.count, "run \(r)")
        }
        // The fraction table's "all runs" column: per cent of all patterns, counted here from patterns.csv.
        var counts: [String: Int] = [:], total = 0
        for folder in folders {
            for c in try #require(try CSVTable.read(path: folder + "/patterns.csv").column("class")) { counts[c, default: 0] += 1; total += 1 }
        }
        let table = try #require(page.components(separatedBy: "<table class=\"fractions\">").dropFirst().first?.components(separatedBy: "</table>").first)
        for c in DefectFractionTable.classes {
            let row = try #require(table.components(separatedBy: "</span>\(c.rawValue)</td>").dropFirst().first?.components(separatedBy: "</tr>").first)
            let cells = row.components(separatedBy: "<td>").dropFirst().map { $0.replacingOccurrences(of: "</td>", with: "") }
            #expect(cells.count == 4, "\(c): \(cells)")
            #expect(cells[2] == String(format: "%.1f", 100 * Double(counts[c.rawValue] ?? 0) / Double(total)), "\(c): \(cells)")
            #expect(cells[3].contains("–"), "\(c): a bootstrap interval over the two particles")
        }
        // Sub-peaks: every split spot of peaks.csv lists as many offsets as it has sub-peaks, ascending,
        // and the page carries them to the crops.
        let peaks = try CSVTable.read(path: folders[1] + "/peaks.csv")
        let (n, offsets) = (peaks.index(of: "n_subpeaks")!, peaks.index(of: "subpeak_offsets_px")!)
        let split = peaks.rows.filter { (Int($0[n]) ?? 0) >= 2 }
        #expect(!split.isEmpty, "the demo's tilt boundaries split spots")
        for row in split {
            let o = SpotRecord.offsets(row[offsets])
            #expect(o.count == Int(row[n]) && o == o.sorted(), "\(row[n]) sub-peaks, offsets \(row[offsets])")
        }
        #expect(peaks.rows.filter { (Int($0[n]) ?? 0) < 2 }.allSatisfy { $0[offsets].isEmpty })
        #expect(page.contains(",[" + SpotRecord.offsets(split[0][offsets]).map { fixedPoint($0, digits: 2) }.joined(separator: ",") + "]]"))
        // Self-contained: nothing from the network; inline figures do not share element ids.
        #expect(page.range(of: #"(src|href)\s*=\s*"(https?:)?//"#, options: .regularExpression) == nil)
        let ids = page.matches(of: /id="([^"]+)"/).map { String($0.output.1) }
        #expect(Set(ids).count == ids.count, "duplicate ids: \(Dictionary(grouping: ids, by: { $0 }).filter { $0.value.count > 1 }.keys.prefix(5))")
        #expect(page.contains("<svg") && page.contains("data:image/png;base64,"))
    }

    /// The browser test of the issue: Chromium opens the page, a click on a cell shows that pattern's file,
    /// class and spot count (from peaks.csv), frame and crops; the screenshot is not blank.
    @Test func chromiumShowsTheClickedPattern() throws {
        let out = try #require(ReportTests.demo, "lauemap demo did not run")
        guard let python = Fixtures.python else {
            print("skipped: no Python checker environment (tools/install-deps --test)")
            return
        }
        let shot = Fixtures.temporaryFolder("report-shot") + "/report.png"
        let run = try Command.run(python, [Fixtures.root.appendingPathComponent("tools/check_report.py").path, out + "/report/index.html",
                                           out + "/particle-01/patterns.csv", out + "/particle-01/peaks.csv", shot])
        if run.status == 77 {
            print("skipped: " + run.stdout)
            return
        }
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("\"crops\""), "\(run.stdout)")
    }

    /// A hostile peaks.csv row (position NaN or 1e300, the longest streak: the first crop) and a report
    /// that embeds no frame: the report is written, and without frames it carries no spots either.
    @Test func hostileSpotRowsAndNoFrames() throws {
        let out = try #require(ReportTests.demo, "lauemap demo did not run")
        let exe = try #require(Fixtures.lauemapExecutable)
        let folder = Fixtures.temporaryFolder("report-hostile")
        for f in ["patterns.csv", "run.json"] {
            try FileManager.default.copyItem(atPath: out + "/particle-01/" + f, toPath: folder + "/" + f)
        }
        var peaks = try CSVTable.read(path: out + "/particle-01/peaks.csv")
        let (x, y, streak) = (peaks.index(of: "x")!, peaks.index(of: "y")!, peaks.index(of: "streak_length_px")!)
        peaks.rows[0][x] = "nan"; peaks.rows[0][streak] = "1000"
        peaks.rows[1][y] = "1e300"; peaks.rows[1][streak] = "999"
        try peaks.write(to: folder + "/peaks.csv")
        let run = try Command.run(exe, ["report", folder, "--out", folder + "/r"])
        #expect(run.status == 0, "\(run.stderr)")
        let none = try Command.run(exe, ["report", folder, "--out", folder + "/none", "--frames", "0"])
        #expect(none.status == 0, "\(none.stderr)")
        let page = try html(folder + "/none/index.html")
        #expect(page.contains("\"spots\":{},\"images\":{}"), "no spot or frame embedded with --frames 0")
        // A run written before peaks.csv had subpeak_offsets_px reads as it is.
        var old = try CSVTable.read(path: out + "/particle-01/peaks.csv")
        old.header.removeLast(); old.rows = old.rows.map { Array($0.dropLast()) }
        try old.write(to: folder + "/peaks.csv")
        let earlier = try Command.run(exe, ["report", folder, "--out", folder + "/old"])
        #expect(earlier.status == 0, "\(earlier.stderr)")
        #expect(try ScanOutputs.readSpots(folder + "/peaks.csv").values.reduce(0) { $0 + $1.count } == old.rows.count)
    }

    @Test func badFoldersAreErrorsNamingThem() throws {
        let exe = try #require(Fixtures.lauemapExecutable)
        let empty = Fixtures.temporaryFolder("report-empty")
        let run = try Command.run(exe, ["report", empty, "--out", empty + "/r"])
        #expect(run.status != 0 && run.stderr.contains(empty) && run.stderr.contains("patterns.csv"), "\(run.stderr)")
        #expect(throws: LaueError.self) { try ReportedRun(folder: "/nonexistent/run") }
        let frames = try Command.run(exe, ["report", empty, "--out", empty + "/r", "--frames", "-1"])
        #expect(frames.status != 0 && frames.stderr.contains("--frames"), "\(frames.stderr)")
    }

    /// scan run writes the report of its run by default.
    @Test func scanRunWritesItsReport() throws {
        let out = try #require(ReportTests.demo, "lauemap demo did not run")
        let exe = try #require(Fixtures.lauemapExecutable)
        let target = Fixtures.temporaryFolder("report-scan-run")
        let run = try Command.run(exe, ["scan", "run", out + "/scans/particle-01", "--material", "LiCoO2", "--out", target, "--quiet"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("report: " + target + "/report/index.html"), "\(run.stdout)")
        let page = try html(target + "/report/index.html")
        #expect(page.contains("LaueMap report: ") && page.contains("data:image/png;base64,"))
    }
}
