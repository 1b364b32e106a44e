import Foundation
import LaueIO
import LaueTestSupport
import Testing

/// The XANES and correlation commands end to end, through the lauemap executable.
@Suite struct CommandLineTests {
    func run(_ arguments: [String]) throws -> (Int32, String) {
        let exe = try #require(Fixtures.lauemapExecutable, "lauemap executable not found next to the tests")
        let r = try Command.run(exe, arguments)
        return (r.status, r.stdout)
    }

    /// simulate xanes -> correlate: the planted GND shift (0.8 eV) and the transform are found.
    @Test func simulateThenCorrelate() throws {
        let dir = Fixtures.temporaryFolder("xanes-cli")
        let (s1, _) = try run(["simulate", "xanes", "--out", dir, "--rotation-deg", "7", "--seed", "4"])
        #expect(s1 == 0)
        // The simulated stacks are NeXus: silx shows each as a stack on energy (eV) and µm axes.
        if let check = try Fixtures.checkOutputs(["nexus", dir + "/before.h5", dir + "/after.h5"]) {
            #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        } else {
            print("skipped: silx check of the XANES stacks (no Python checker: tools/install-deps --test)")
        }
        let (s2, text) = try run(["correlate", "--defects", dir + "/defects", "--before", dir + "/before.h5", "--after", dir + "/after.h5",
                                  "--out", dir + "/corr", "--permutations", "199"])
        #expect(s2 == 0, "\(text)")
        let table = try CSVTable.read(path: dir + "/corr/comparisons.csv")
        let row = try #require(table.rows.first { $0[0] == "gnd" && $0[1] == "no_defect" })
        let difference = Double(row[table.index(of: "difference_ev")!])!
        let spatial = Double(row[table.index(of: "spatial_p")!])!
        #expect(abs(difference - 0.8) < 0.1 && spatial < 0.01, "difference \(difference), spatial p \(spatial)")
        #expect(text.contains("before: rotation 7.") || text.contains("before: rotation 6.9"), "\(text)")
        for f in ["correlation.h5", "pixels.csv", "classes.csv", "summary.md", "overlay.png", "shift_by_class.png", "extent_vs_shift.png",
                  "before/edge_map.h5", "after/edge_map.csv"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/corr/" + f), "missing \(f)")
        }
        // The report shows the correlation's figures as they were written, and its summary.
        let (reportStatus, reported) = try run(["report", dir + "/defects", "--material", "LiCoO2", "--correlation", dir + "/corr", "--out", dir + "/report"])
        #expect(reportStatus == 0, "\(reported)")
        let page = try String(contentsOfFile: dir + "/report/index.html", encoding: .utf8)
        for f in ["overlay.png", "shift.png", "shift_by_class.png", "extent_vs_shift.png"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/corr/" + f))
            #expect(page.contains("data:image/png;base64," + data.base64EncodedString()), "\(f) not in the report")
        }
        #expect(page.contains("Laue defects and XANES: corr") && page.contains("<pre class=\"summary\">"))
        // NeXus: silx finds each file's default map with its axes in um (edge energy, edge shift).
        let corr = try HDF5File(path: dir + "/corr/correlation.h5")
        #expect(corr.stringAttribute("default", of: "/entry") == "shift" && corr.stringAttribute("signal", of: "/entry/shift") == "shift")
        if let check = try Fixtures.checkOutputs(["nexus", dir + "/corr/correlation.h5", dir + "/corr/before/edge_map.h5"]) {
            #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        } else {
            print("skipped: silx check of correlation.h5 and edge_map.h5 (no Python checker: tools/install-deps --test)")
        }
        // A map that does not show the particle is refused, naming the problem.
        let (s3, _) = try run(["correlate", "--defects", dir + "/defects", "--before", dir + "/before.h5", "--after", dir + "/after.h5",
                               "--out", dir + "/bad", "--manual-before", "0,-40,-40"])
        #expect(s3 != 0)
    }

    /// xanes normalize --json uses Larch's names and values.
    @Test func normalizeJSON() throws {
        let (status, text) = try run(["xanes", "normalize", Fixtures.path("xanes/synthetic/B_map71_co3.txt"), "--json"])
        #expect(status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let larch = try #require(Fixtures.json("xanes/larch/B_map71_co3.json") as? [String: Any])
        for key in ["e0", "edge_step", "pre1", "pre2", "norm1", "norm2", "nnorm", "half_height_e", "white_line_e", "energy", "norm", "flat"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        #expect((json["e0"] as? Double) == (larch["e0"] as? Double))
        #expect(abs((json["edge_step"] as! Double) - (larch["edge_step"] as! Double)) < 1e-6)
    }

    /// Negative numbers after an option are its value, with or without `=` (issue 14): pre-edge
    /// ranges, a matrix whose first element is negative.
    @Test func negativeValuesNeedNoEquals() throws {
        let spectrum = Fixtures.path("xanes/synthetic/B_map71_co3.txt")
        let (s1, spaced) = try run(["xanes", "normalize", spectrum, "--pre1", "-25", "--pre2", "-10", "--json"])
        let (s2, joined) = try run(["xanes", "normalize", spectrum, "--pre1=-25", "--pre2=-10", "--json"])
        #expect(s1 == 0 && s2 == 0 && spaced == joined)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(spaced.utf8)) as? [String: Any])
        #expect((json["pre1"] as? Double) == -25 && (json["pre2"] as? Double) == -10, "\(spaced.prefix(300))")
        let (s3, table) = try run(["predict", "--calib", Fixtures.path("lauetools/calibGe111.det"), "--material", "Ge",
                                   "--matrix", "-1,0,0,0,-1,0,0,0,1", "--max-index", "2"])
        #expect(s3 == 0 && table.contains("2"), "\(table.prefix(300))")
    }
}
