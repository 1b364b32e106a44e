import Foundation
import Testing
import LaueCore
import LaueIO
import LaueScan
import LaueTestSupport

/// orientations.ctf (docs/scan-pipeline.md): Bunge angles of the sample-to-crystal rotation, read by
/// orix and compared with patterns.csv by independent numpy code (tools/check_outputs.py).
@Suite struct OrientationExportTests {
    /// The Bunge passive rotation of (φ1, Φ, φ2) in degrees, written out from its definition.
    static func bunge(_ a: Double, _ b: Double, _ c: Double) -> Mat3 {
        let (p1, P, p2) = (a * .pi / 180, b * .pi / 180, c * .pi / 180)
        let (c1, s1, cc, s, c2, s2) = (cos(p1), sin(p1), cos(P), sin(P), cos(p2), sin(p2))
        return Mat3(rows: Vec3(c1 * c2 - s1 * s2 * cc, s1 * c2 + c1 * s2 * cc, s2 * s),
                    Vec3(-c1 * s2 - s1 * c2 * cc, -s1 * s2 + c1 * c2 * cc, c2 * s),
                    Vec3(s1 * s, -c1 * s, cc))
    }

    @Test func bungeAnglesRebuildTheRotation() {
        var rng = SeededGenerator(seed: 5)
        var rotations = (0..<500).map { _ in Quaternion.random(using: &rng).matrix }
        rotations += [Self.bunge(30, 0, 0), Self.bunge(200, 180, 0), Mat3(rows: Vec3(1, 0, 0), Vec3(0, 1, 0), Vec3(0, 0, 1))]
        for g in rotations {
            let (a, b, c) = OrientationMapExport.bungeAngles(g)
            #expect((0..<360).contains(Int(a)) && (0...180).contains(b) && (0..<360).contains(Int(c)))
            let back = Self.bunge(a, b, c)
            let worst = (0..<3).flatMap { i in (0..<3).map { j in abs(back[i, j] - g[i, j]) } }.max()!
            #expect(worst < 1e-9, "\(a) \(b) \(c)")
        }
        // Cubic: the standard crystal frame is LaueTools' (S = identity); g is Uᵀ in the lab frame.
        let u = Quaternion.random(using: &rng).matrix
        let si = try! Material.builtin("Si")
        let g = OrientationMapExport.sampleToCrystal(u, lattice: si.lattice)
        #expect((0..<3).allSatisfy { i in (0..<3).allSatisfy { j in abs(g[i, j] - u[j, i]) < 1e-12 } })
    }

    @Test func orientationMapOfAScanRun() throws {
        let run = TestScans.reference
        let text = try String(contentsOfFile: run + "/orientations.ctf", encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "Channel Text File")
        #expect(lines.contains("XCells\t20") && lines.contains("YCells\t20") && lines.contains("XStep\t0.5000"))
        #expect(lines.contains { $0.hasSuffix("\tLiCoO2\t7\t166") })                  // -3m, R-3m
        let records = try ScanOutputs.readPatterns(run + "/patterns.csv")
        let data = lines.drop { !$0.hasPrefix("Phase\tX") }.dropFirst().filter { !$0.isEmpty }
        #expect(data.count == 400)
        #expect(data.filter { $0.hasPrefix("1\t") }.count == records.filter { $0.status == .indexed }.count)
        // orix reads it, in the lab frame and in a 40° sample frame.
        let tilted = Fixtures.temporaryFolder("ctf") + "/tilt40.ctf"
        try OrientationMapExport.ctf(records: records, material: TestScans.lco, title: "tilt", sampleTiltDegrees: 40)
            .write(toFile: tilted, atomically: true, encoding: .utf8)
        // The .ang (EDAX/TSL) holds the same rotations: orix reads it as it reads the .ctf.
        let angTilted = Fixtures.temporaryFolder("ang") + "/tilt40.ang"
        try OrientationMapExport.ang(records: records, materials: [TestScans.lco], title: "tilt", sampleTiltDegrees: 40)
            .write(toFile: angTilted, atomically: true, encoding: .utf8)
        let ang = try String(contentsOfFile: run + "/orientations.ang", encoding: .utf8)
        #expect(ang.contains("# Symmetry              32\n") && ang.contains("# NCOLS_ODD: 20\n") && ang.contains("# NROWS: 20\n"))
        #expect(ang.split(separator: "\n").filter { !$0.hasPrefix("#") }.count == 400)
        for (kind, file, tilt) in [("ctf", run + "/orientations.ctf", "0"), ("ctf", tilted, "40"), ("ang", run + "/orientations.ang", "0"), ("ang", angTilted, "40")] {
            if let check = try Fixtures.checkOutputs([kind, file, run + "/patterns.csv", tilt]) {
                #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
                print(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            } else {
                print("skipped: orix check of \(file) (no Python checker: tools/install-deps --test)")
            }
        }
    }

    /// Pole figures: the {100} poles of an unrotated cubic crystal are the centre and the ends of the x
    /// and y axes; a turn of 30 deg about lab x moves the centre pole to (0, -tan 15 deg) (independent
    /// trigonometry); a trigonal {0001} pole of an unrotated crystal is the centre alone.
    @Test func poleFigures() throws {
        let si = try Material.builtin("Si")
        let p = PoleFigure.poles([Mat3.identity], family: HKL(1, 0, 0), material: si).map(PoleFigure.project)
        // One pole per plane: (100), (010), (001); on the rim a pole and its opposite are the same plane.
        #expect(p.count == 3, "\(p)")
        for e in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)] {
            #expect(p.contains { abs(abs($0.x) - e.0) < 1e-9 && abs(abs($0.y) - e.1) < 1e-9 }, "\(e) in \(p)")
        }
        let t = 30.0 * Double.pi / 180
        let rx = Mat3([1, 0, 0, 0, cos(t), -sin(t), 0, sin(t), cos(t)])
        let turned = PoleFigure.poles([rx], family: HKL(0, 0, 1), material: si).map(PoleFigure.project)
        #expect(turned.contains { abs($0.x) < 1e-9 && abs($0.y + tan(t / 2)) < 1e-9 }, "\(turned)")
        #expect(turned.allSatisfy { $0.x * $0.x + $0.y * $0.y <= 1 + 1e-9 })
        let c = PoleFigure.poles([Mat3.identity], family: HKL(0, 0, 1), material: TestScans.lco).map(PoleFigure.project)
        #expect(c.count == 1 && abs(c[0].x) < 1e-9 && abs(c[0].y) < 1e-9, "\(c)")
        #expect(PoleFigure.poles([Mat3.identity], family: HKL(1, 1, 1), material: si).count == 4)
        #expect(PoleFigure.label(HKL(1, 1, 0), TestScans.lco) == "11-20" && PoleFigure.label(HKL(1, 1, 1), si) == "111")
        // In a sample frame tilted by 40 deg about lab y, the lab z pole of an unrotated crystal moves to
        // (tan 20 deg, 0): P^T z = (sin t, 0, cos t).
        let tilted = PoleFigure.poles([Mat3.identity], family: HKL(0, 0, 1), material: si, frame: DeviatoricStrain.sampleToLab(tiltDegrees: 40))
            .map(PoleFigure.project)
        #expect(tilted.contains { abs($0.x - tan(20 * Double.pi / 180)) < 1e-9 && abs($0.y) < 1e-9 }, "\(tilted)")
        let folder = Fixtures.temporaryFolder("sample-frame")
        let figures = try SampleFrameFigures.write(records: try ScanOutputs.readPatterns(TestScans.reference + "/patterns.csv"), material: TestScans.lco,
                                                   tiltDegrees: 40, folder: folder, title: "tilt")
        #expect(figures.map { ($0 as NSString).lastPathComponent }
            == ["ipf_x", "ipf_y", "ipf_z", "pole_figure_0001", "pole_figure_10-10", "pole_figure_11-20"].flatMap { [$0 + ".png", $0 + ".pdf"] })
        // A scan run writes them, with the IPF maps of lab x and y.
        for name in ["pole_figure_0001.png", "pole_figure_10-10.png", "pole_figure_11-20.png", "orientation_ipf_x.png", "orientation_ipf_y.png"] {
            #expect(FileManager.default.fileExists(atPath: TestScans.reference + "/maps/" + name), "\(name)")
        }
        let f = try HDF5File(path: TestScans.reference + "/results.h5")
        #expect(try f.shape(of: "/maps/ipf_x_rgb") == [20, 20, 3] && f.exists("/maps/ipf_y_rgb"))
    }

    /// TSL symmetry codes: b-unique monoclinic is "20" (orix and OIM read "2" as the 2-fold along c).
    @Test func tslSymmetryCodes() {
        #expect([1, 14, 62, 123, 148, 166, 176, 194, 205, 225].map { OrientationMapExport.tslSymmetry(spaceGroup: $0) }
                == ["1", "20", "22", "42", "3", "32", "6", "62", "23", "43"])
    }

    /// scan export takes a negative tilt as a value ("--sample-tilt -30", a review found it needed "=").
    @Test func exportTakesANegativeTilt() throws {
        let exe = try #require(Fixtures.lauemapExecutable)
        let out = Fixtures.temporaryFolder("export-negative")
        let ctf = out + "/minus30.ctf"
        let run = try Command.run(exe, ["scan", "export", TestScans.reference, "--material", "LiCoO2", "--sample-tilt", "-30", "--ctf", ctf])
        #expect(run.status == 0, "\(run.stderr)")
        let text = try String(contentsOfFile: ctf, encoding: .utf8)
        #expect(text.contains("TiltAngle\t-30.00") && FileManager.default.fileExists(atPath: out + "/minus30.ang"))
    }

    /// A material or folder name with tabs and line breaks stays one header field of the .ctf and .ang.
    @Test func namesCannotBreakTheHeaders() throws {
        let l = TestScans.lco
        let odd = try Material(name: "Li\tCo\nO2", lattice: l.lattice, spaceGroup: l.spaceGroup, atoms: l.atoms)
        let records = try ScanOutputs.readPatterns(TestScans.reference + "/patterns.csv")
        let plain = OrientationMapExport.ctf(records: records, materials: [l], title: "run")
        let ctf = OrientationMapExport.ctf(records: records, materials: [odd], title: "my\nrun\tA")
        #expect(ctf.split(separator: "\n").count == plain.split(separator: "\n").count)
        #expect(ctf.contains("Prj\tmy run A") && ctf.contains("\tLi Co O2\t"))
        let plainAng = OrientationMapExport.ang(records: records, materials: [l], title: "run")
        let ang = OrientationMapExport.ang(records: records, materials: [odd], title: "my\nrun")
        #expect(ang.split(separator: "\n").count == plainAng.split(separator: "\n").count)
        #expect(ang.contains("# MaterialName  Li Co O2"))
    }
}
