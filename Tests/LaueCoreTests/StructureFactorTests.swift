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
}

import Foundation
