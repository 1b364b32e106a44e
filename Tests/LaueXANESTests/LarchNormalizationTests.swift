import Foundation
import LaueCore
import LaueTestSupport
import LaueXANES
import Testing

/// A Larch golden file (Fixtures/xanes/larch/NAME.json) and the spectrum it was computed from.
struct LarchGolden {
    let name: String
    let json: [String: Any]
    let spectrum: Spectrum

    static let names = ["A_bulk_co3", "A_bulk_co4", "B_map71_co3", "B_map71_co4", "C_map30_co3", "C_map30_co4", "ni_metal_rt",
                        "xaslib_Fe2O3_rt_01", "xaslib_Fe3O4_rt_01", "xaslib_FeO_rt_01", "xaslib_Ni2O3_rt_01", "xaslib_NiOH2_rt_01",
                        "xaslib_co_metal_rt"]

    static func load(_ name: String) throws -> LarchGolden {
        let json = try #require(Fixtures.json("xanes/larch/\(name).json") as? [String: Any])
        let folder = name.hasPrefix("A_") || name.hasPrefix("B_") || name.hasPrefix("C_") ? "synthetic" : "spectra"
        return LarchGolden(name: name, json: json, spectrum: try Spectrum.read(path: Fixtures.path("xanes/\(folder)/\(name).txt")))
    }

    func number(_ key: String) -> Double { (json[key] as? NSNumber)?.doubleValue ?? .nan }
    func array(_ key: String) -> [Double] { (json[key] as? [NSNumber])?.map(\.doubleValue) ?? [] }
    var ranges: PreEdgeRanges {
        PreEdgeRanges(e0: number("e0"), pre1: number("pre1"), pre2: number("pre2"), norm1: number("norm1"), norm2: number("norm2"),
                      nnorm: Int(number("nnorm")))
    }
}

/// Largest |a - b| relative to the largest |b|.
func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count, !b.isEmpty else { return .infinity }
    let scale = max(b.map(abs).max()!, 1e-300)
    return zip(a, b).map { abs($0 - $1) }.max()! / scale
}

@Suite struct LarchNormalizationTests {
    /// With the ranges Larch reports: edge step, norm and flat within 1e-6 relative, for every spectrum.
    @Test(arguments: LarchGolden.names) func matchesLarchWithItsRanges(name: String) throws {
        let g = try LarchGolden.load(name)
        let r = try EdgeNormalization.normalize(g.spectrum, g.ranges)
        #expect(r.energy == g.array("energy"), "\(name): energy grid")
        #expect(abs(r.edgeStep - g.number("edge_step")) <= 1e-6 * g.number("edge_step"), "\(name): edge step \(r.edgeStep) vs \(g.number("edge_step"))")
        #expect(relativeError(r.norm, g.array("norm")) <= 1e-6, "\(name): norm off by \(relativeError(r.norm, g.array("norm")))")
        #expect(relativeError(r.flat, g.array("flat")) <= 1e-6, "\(name): flat off by \(relativeError(r.flat, g.array("flat")))")
        #expect(abs(r.preSlope - g.number("pre_slope")) <= 1e-6 * max(abs(g.number("pre_slope")), 1e-9) + 1e-12)
        let coefficients = g.array("norm_coefs")
        #expect(r.normCoefficients.count == coefficients.count, "\(name): nnorm")
    }

    /// With Larch's defaults: the same e0 (a grid point), the same ranges, the same edge step.
    @Test(arguments: LarchGolden.names) func reproducesLarchDefaults(name: String) throws {
        let g = try LarchGolden.load(name)
        let r = try EdgeNormalization.normalize(g.spectrum)
        #expect(r.e0 == g.number("e0"), "\(name): e0 \(r.e0) vs Larch \(g.number("e0"))")
        #expect([r.pre1, r.pre2, r.norm1, r.norm2] == ["pre1", "pre2", "norm1", "norm2"].map(g.number), "\(name): ranges")
        #expect(r.nnorm == Int(g.number("nnorm")), "\(name): nnorm")
        #expect(abs(r.edgeStep - g.number("edge_step")) <= 1e-6 * g.number("edge_step"), "\(name): edge step")
        #expect(relativeError(r.norm, g.array("norm")) <= 1e-6, "\(name): norm")
        // Half-height and white-line energies as larch_ref.py computes them from Larch's norm.
        let half = g.number("half_height_e")
        #expect(abs((r.halfHeightEnergy ?? .nan) - half) <= 1e-6, "\(name): half height \(r.halfHeightEnergy ?? .nan) vs \(half)")
        #expect(r.whiteLineEnergy() == g.number("white_line_e"), "\(name): white line")
    }

    /// XDI: mu = ln(i0/itrans) from the named columns equals the converted two-column file.
    /// Energies and mu far outside physics (1e300, 4.9e-324 eV, negative) are refused with the file and
    /// the point, never passed to the fits (where they trapped).
    @Test func hostileValuesAreRefused() throws {
        let mu = [0.1, 0.2, 0.9, 1.0]
        for bad in [1e300, -5.0, 0, Double.leastNonzeroMagnitude, 2e6] {
            #expect { _ = try Spectrum(energy: [7700, 7710, 7720, bad].sorted(), mu: mu, name: "bad.xdi") } throws: { e in
                let text = (e as? LaueError)?.description ?? ""
                return text.contains("bad.xdi") && text.contains("energy")
            }
        }
        #expect(throws: LaueError.self) { _ = try Spectrum(energy: [7700, 7710, 7720, 7730], mu: [0, 1, 1e300, 1], name: "m") }
        #expect(throws: LaueError.self) { _ = try Spectrum.readColumns(text: "7700 0.1\n7710 0.2\n1e300 0.3\n7730 1\n", name: "cols.dat") }
        #expect(try Spectrum(energy: [7700, 7710, 7720], mu: [0, 1, 1], name: "ok").count == 3)
    }

    @Test func readsXDI() throws {
        let xdi = try Spectrum.read(path: Fixtures.path("xanes/spectra/co_metal_rt.xdi"))
        let txt = try Spectrum.read(path: Fixtures.path("xanes/spectra/xaslib_co_metal_rt.txt"))
        #expect(xdi.energy == txt.energy)
        #expect(relativeError(xdi.mu, txt.mu) < 1e-12)
    }

    @Test func badSpectraAreRefusedWithTheFileName() {
        #expect(throws: LaueError.self) { try Spectrum.readColumns(text: "7700 1\n7701 x y\n", name: "bad.txt") }
        #expect(throws: LaueError.self) { try Spectrum(energy: [1, 2], mu: [1, 2], name: "short.txt") }
        do { _ = try Spectrum.read(path: "/nonexistent/spectrum.txt") } catch let e as LaueError {
            #expect(e.description.contains("/nonexistent/spectrum.txt"))
        } catch { Issue.record("unexpected error \(error)") }
    }

    /// Two-reference LCF on mixtures of the real Ni2+/Ni3+ and Fe2+/Fe3+ references: noise-free
    /// mixtures exact; with noise, the fraction within 0.02. Noise is 1 % of the edge step for Fe and
    /// 0.2 % for Ni: Ni(OH)2 and Ni2O3 differ by only 0.52 (norm units, root-sum-square over 119
    /// points), so 1 % noise alone gives a fraction SD of 0.019 - a limit of the data, not the fit.
    @Test(arguments: [("xaslib_NiOH2_rt_01", "xaslib_Ni2O3_rt_01", 0.002), ("xaslib_FeO_rt_01", "xaslib_Fe2O3_rt_01", 0.01)])
    func linearCombinationRecoversMixtures(pair: (String, String, Double)) throws {
        let a = try EdgeNormalization.normalize(try LarchGolden.load(pair.0).spectrum)
        let b = try EdgeNormalization.normalize(try LarchGolden.load(pair.1).spectrum)
        // Common grid: the first reference's energies from e0 - 20 to e0 + 60 eV.
        let grid = a.energy.filter { $0 >= a.e0 - 20 && $0 <= a.e0 + 60 }
        let r1 = a.norm(at: grid), r2 = b.norm(at: grid)
        var rng = SplitMix(seed: 77)
        for f in [0.2, 0.5, 0.8] {
            let clean = zip(r1, r2).map { f * $0 + (1 - f) * $1 }
            let exact = try #require(TwoReferenceFit.fit(clean, first: r1, second: r2))
            #expect(abs(exact.fraction - f) < 1e-9 && exact.rFactor < 1e-20)
            let noisy = clean.map { $0 + pair.2 * rng.gaussian() }
            let fit = try #require(TwoReferenceFit.fit(noisy, first: r1, second: r2, bounded: true))
            #expect(abs(fit.fraction - f) <= 0.02, "\(pair): fraction \(fit.fraction) for \(f)")
            #expect(fit.rFactor < 1e-3)
        }
    }
}

/// A small deterministic generator for test noise.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func gaussian() -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
