import Foundation
import Testing
import LaueCore

@Suite struct StructureFactorTests {
    @Test func diamondStructureAbsences() throws {
        for name in ["Si", "Ge"] {
            let m = try Material.builtin(name)
            for hkl in [HKL(2, 0, 0), HKL(2, 2, 2), HKL(1, 0, 0), HKL(1, 1, 0), HKL(4, 2, 0), HKL(2, 1, 1)] {
                #expect(!m.isAllowed(hkl), "\(name) \(hkl)")
            }
            for hkl in [HKL(1, 1, 1), HKL(2, 2, 0), HKL(3, 1, 1), HKL(4, 0, 0), HKL(3, 3, 1), HKL(4, 2, 2), HKL(3, 3, 3)] {
                #expect(m.isAllowed(hkl), "\(name) \(hkl)")
            }
        }
        // F(111) of Si: 8 atoms with |sum of phases| = 4 sqrt(2) at 111.
        let si = try Material.builtin("Si")
        let f = si.structureFactor(HKL(1, 1, 1))
        let s = 0.5 / si.lattice.dSpacing(HKL(1, 1, 1))
        let expected = try 4 * 2.0.squareRoot() * Element.named("Si").scatteringFactor(s: s)
        #expect(abs((f.re * f.re + f.im * f.im).squareRoot() - expected) < 1e-9)
    }

    @Test func licoo2ReflectionConditionAndIntensities() throws {
        let m = try Material.builtin("LiCoO2")
        for hkl in [HKL(0, 0, 1), HKL(0, 0, 2), HKL(1, 0, 0), HKL(0, 1, 1), HKL(1, 0, 2)] {
            #expect(!m.isAllowed(hkl), "\(hkl)")
        }
        // |F|^2 computed independently with Cromer-Mann f0 (shared/notes/laue-physics.md section 8).
        let table: [(HKL, Double)] = [(HKL(0, 0, 3), 3441), (HKL(1, 0, 1), 3531), (HKL(0, 0, 6), 1375),
                                      (HKL(0, 1, 2), 1215), (HKL(1, 0, 4), 8270), (HKL(0, 1, 5), 3582),
                                      (HKL(0, 0, 9), 3545), (HKL(1, 0, 7), 1333), (HKL(0, 1, 8), 4985),
                                      (HKL(1, 1, 0), 5284), (HKL(1, 1, 3), 1498), (HKL(0, 0, 12), 3291)]
        for (hkl, f2) in table {
            #expect(m.isAllowed(hkl))
            #expect(abs(m.intensity(hkl) - f2) / f2 < 0.01, "\(hkl): \(m.intensity(hkl)) vs \(f2)")
        }
        // Obverse condition -h + k + l = 3n holds for every allowed reflection up to index 4.
        for h in -4...4 { for k in -4...4 { for l in -8...8 where m.isAllowed(HKL(h, k, l)) {
            #expect((-h + k + l) % 3 == 0, "\(h) \(k) \(l)")
        } } }
    }

    @Test func otherStructureTypes() throws {
        let cu = try Material.builtin("Cu")
        #expect(!cu.isAllowed(HKL(1, 0, 0)) && cu.isAllowed(HKL(1, 1, 1)) && cu.isAllowed(HKL(2, 0, 0)))
        let w = try Material.builtin("W")
        #expect(!w.isAllowed(HKL(1, 0, 0)) && w.isAllowed(HKL(1, 1, 0)) && !w.isAllowed(HKL(1, 1, 1)))
        let gaas = try Material.builtin("GaAs")
        #expect(gaas.isAllowed(HKL(2, 0, 0)) && !gaas.isAllowed(HKL(1, 0, 0)) && gaas.isAllowed(HKL(2, 2, 2)))
        let uo2 = try Material.builtin("UO2")
        #expect(uo2.isAllowed(HKL(2, 0, 0)) && !uo2.isAllowed(HKL(1, 1, 0)))
        let gan = try Material.builtin("GaN")
        #expect(!gan.isAllowed(HKL(0, 0, 1)) && gan.isAllowed(HKL(0, 0, 2)) && gan.isAllowed(HKL(1, 0, 0)))
        #expect(throws: LaueError.self) { try Material.builtin("unobtainium") }
    }

    @Test func materialFromJSON() throws {
        let json = """
        {"name": "myLCO", "lattice": {"a": 2.8156, "c": 14.0516, "gamma": 120}, "space_group": "R-3m",
         "atoms": [{"element": "Co", "xyz": [0, 0, 0]}, {"element": "Li", "xyz": [0, 0, 0.5]},
                   {"element": "O", "xyz": [0, 0, 0.2396]}]}
        """
        let m = try Material(json: Data(json.utf8), source: "my.json")
        let builtin = try Material.builtin("LiCoO2")
        #expect(m.name == "myLCO")
        #expect(m.cellAtoms.count == 12)
        #expect(abs(m.intensity(HKL(1, 0, 4)) - builtin.intensity(HKL(1, 0, 4))) < 1e-9)
        let bad = """
        {"lattice": [1, 2], "space_group": "R-3m", "atoms": []}
        """
        #expect(throws: LaueError.self) { try Material(json: Data(bad.utf8), source: "bad.json") }
        let badElement = """
        {"lattice": [3,3,3,90,90,90], "space_group": 225, "atoms": [{"element": "Xx", "xyz": [0,0,0]}]}
        """
        do {
            _ = try Material(json: Data(badElement.utf8), source: "el.json")
            Issue.record("expected an error")
        } catch let e as LaueError {
            #expect(e.description.contains("el.json") && e.description.contains("Xx"))
        }
    }

    /// The predictor decides allowed harmonics once per Laue orbit of reflections (|F| is constant over
    /// {±h W}); the list must equal a brute-force test of every harmonic, for every built-in material
    /// (cubic, hexagonal, rhombohedral in hexagonal axes, non-centrosymmetric) and two of low symmetry.
    @Test func allowedHarmonicsPerOrbitEqualBruteForce() throws {
        let calib = DetectorCalibration(distance: 70, xcen: 1024, ycen: 1024, xbet: 0, xgam: 0, pixelSize: 0.08, width: 2048, height: 2048)
        var materials = try Material.builtinNames.map { try Material.builtin($0) }
        // Low symmetry with atoms on general positions: monoclinic P2_1/c, trigonal P3_121 (non-centrosymmetric, screw).
        materials.append(try Material(name: "P21/c", lattice: Lattice(a: 5.1, b: 6.3, c: 7.2, alpha: 90, beta: 101, gamma: 90),
                                      spaceGroup: SpaceGroup(number: 14), atoms: [Atom(try .named("Co"), 0.13, 0.27, 0.41),
                                                                                  Atom(try .named("O"), 0.31, 0.08, 0.22)]))
        materials.append(try Material(name: "P3121", lattice: Lattice(a: 4.9, b: 4.9, c: 5.4, alpha: 90, beta: 90, gamma: 120),
                                      spaceGroup: SpaceGroup(number: 152), atoms: [Atom(try .named("Si"), 0.47, 0, 1.0 / 3),
                                                                                   Atom(try .named("O"), 0.41, 0.27, 0.12)]))
        for m in materials {
            let qmax = 2 * 25.0 / LaueScattering.hc
            let predicted = try SpotPredictor(material: m, calibration: calib, energyRange: 5...25).reflections
            var brute: [HKL: [Int]] = [:]
            let n = Int(qmax * max(m.lattice.a, m.lattice.b, m.lattice.c)) + 1
            for h in -n...n { for k in -n...n { for l in -n...n {
                let hkl = HKL(h, k, l)
                guard !hkl.isZero, hkl.gcd == 1, m.q(hkl).length <= qmax else { continue }
                var orders: [Int] = [], o = 1
                while Double(o) * m.q(hkl).length <= qmax * (1 + 1e-12) { if m.isAllowed(o * hkl) { orders.append(o) }; o += 1 }
                if !orders.isEmpty { brute[hkl] = orders }
            } } }
            #expect(predicted.count == brute.count, "\(m.name): \(predicted.count) reflections, brute force \(brute.count)")
            #expect(predicted.allSatisfy { brute[$0.hkl] == $0.allowedOrders }, "\(m.name)")
        }
    }
}
