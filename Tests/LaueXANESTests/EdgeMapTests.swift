import Foundation
import LaueCore
import LaueIO
import LaueSimulation
import LaueTestSupport
import LaueXANES
import Testing

/// A disc-shaped particle on a Laue grid with class domains (GND left, no defect right, a tilt
/// boundary band), for the XANES tests.
enum SyntheticDefects {
    static func particle(columns: Int = 30, rows: Int = 30, step: Double = 0.5) -> (MapGrid, [DefectClass?], [Double]) {
        let grid = MapGrid(columns: columns, rows: rows, stepX: step, stepY: step)
        var classes = [DefectClass?](repeating: nil, count: grid.count)
        var extent = [Double](repeating: .nan, count: grid.count)
        let cx = Double(columns - 1) / 2, cy = Double(rows - 1) / 2, r = 0.42 * Double(min(columns, rows))
        for j in 0..<rows {
            for i in 0..<columns {
                let dx = Double(i) - cx, dy = Double(j) - cy
                guard dx * dx + dy * dy <= r * r else { continue }
                let p = j * columns + i
                if abs(dy + 0.3 * dx) < 2 { classes[p] = .tiltBoundary; extent[p] = 0.4 }
                else if dx < 0 { classes[p] = .gnd; extent[p] = 1.0 + 0.05 * abs(dy) }
                else { classes[p] = .noDefect; extent[p] = 0.1 }
            }
        }
        return (grid, classes, extent)
    }
}

@Suite struct EdgeMapTests {
    /// A planted per-pixel edge shift is recovered within 0.05 eV RMS at 1 % noise.
    @Test func recoversAPlantedEdgeShift() throws {
        let (grid, classes, extent) = SyntheticDefects.particle()
        var sim = XANESSimulation(laueGrid: grid, classes: classes, streakExtent: extent, xanesGrid: grid)
        sim.shiftPerDegree = 0.4
        sim.seed = 11
        let r = try sim.run()
        // One set of ranges for both maps (relative to each map's own e0), from the "before" map.
        let (before, after) = try EdgeMap.analysePair(before: r.before, after: r.after)
        var errors: [Double] = []
        for p in 0..<grid.count where r.thickness[p] >= 0.99 {
            #expect(before.mask[p] == .valid && after.mask[p] == .valid)
            errors.append(after.edgeEnergy[p] - before.edgeEnergy[p] - r.trueShift[p])
        }
        let rms = (errors.map { $0 * $0 }.reduce(0, +) / Double(errors.count)).squareRoot()
        let meanError = errors.reduce(0, +) / Double(errors.count)
        print("edge shift: mean error \(meanError), RMS \(rms), ranges before \(before.ranges), after \(after.ranges)")
        #expect(errors.count > 400)
        #expect(rms <= 0.05, "RMS shift error \(rms) eV over \(errors.count) pixels")
        // Outside the particle: masked with a reason, never a number.
        for p in 0..<grid.count where r.thickness[p] == 0 {
            #expect(before.mask[p] == .noSignal && before.edgeEnergy[p].isNaN)
        }
        // One set of ranges for the whole map, from the mean spectrum (Larch defaults).
        #expect(abs(before.ranges.e0! - 7722) <= 1.0)
    }

    /// The fraction map from two references: pixels mixed (plus offset and scale) from the real FeO
    /// and Fe2O3 references, normalised with the map's ranges.
    @Test func fractionMapFromTwoReferences() throws {
        let feo = try Spectrum.read(path: Fixtures.path("xanes/spectra/xaslib_FeO_rt_01.txt"))
        let fe2o3 = try Spectrum.read(path: Fixtures.path("xanes/spectra/xaslib_Fe2O3_rt_01.txt"))
        let energies = stride(from: 7100.0, through: 7180.0, by: 1.0).map { $0 }
        var options = EdgeMapOptions()
        options.ranges = PreEdgeRanges(e0: 7124, pre1: -20, pre2: -8, norm1: 15, norm2: 55, nnorm: 1)
        options.references = (feo, fe2o3)
        // The standards on the map's energies, normalised with the map's ranges (as the analysis does).
        let ra = try EdgeNormalization.normalize(feo.resampled(to: energies), options.ranges).norm
        let rb = try EdgeNormalization.normalize(fe2o3.resampled(to: energies), options.ranges).norm
        let grid = MapGrid(columns: 8, rows: 8, stepX: 1, stepY: 1)
        var values = [Float](repeating: 0, count: energies.count * grid.count)
        var truth = [Double](repeating: 0, count: grid.count)
        var rng = SplitMix(seed: 5)
        for p in 0..<grid.count {
            let f = Double(p) / Double(grid.count - 1)
            truth[p] = f
            for e in energies.indices { values[e * grid.count + p] = Float(0.2 + 0.9 * (f * ra[e] + (1 - f) * rb[e]) + 0.002 * rng.gaussian()) }
        }
        let m = try EdgeMap.analyse(try XANESMap(energies: energies, grid: grid, values: values, name: "mix"), options: options)
        for p in 0..<grid.count {
            #expect(abs(m.fraction[p] - truth[p]) <= 0.02, "pixel \(p): \(m.fraction[p]) vs \(truth[p])")
        }
    }

    /// Plain HDF5 layout round trip (units, step, origin) and the TIFF stack + energies file.
    @Test func readsPlainHDF5AndTIFFStacks() throws {
        let (grid, classes, extent) = SyntheticDefects.particle(columns: 12, rows: 9)
        var g2 = grid
        g2.originX = 3.5; g2.originY = -1.25; g2.stepY = 0.25
        let sim = XANESSimulation(laueGrid: grid, classes: classes, streakExtent: extent, xanesGrid: g2)
        let map = try sim.run().before
        let folder = Fixtures.temporaryFolder("xanes-io")
        let h5 = folder + "/map.h5"
        try XANESMapReader.writeHDF5(map, to: h5)
        let back = try XANESMapReader.read(path: h5)
        #expect(back.energies == map.energies && back.values == map.values && back.grid == g2)

        let tiff = folder + "/stack.tif"
        try TIFFWriter.write(map.energies.indices.map { LaueImage(width: g2.columns, height: g2.rows, pixels: map.image($0)) }, to: tiff,
                             options: TIFFWriter.Options(pixelType: .float32))
        try map.energies.map { String($0 / 1000) }.joined(separator: "\n").write(toFile: folder + "/energies.txt", atomically: true, encoding: .utf8)
        let t = try XANESMapReader.read(path: tiff, energies: folder + "/energies.txt",
                                        geometry: .init(stepUm: (0.5, 0.25), originUm: (3.5, -1.25)))
        #expect(t.values == map.values && t.grid == g2)
        #expect(zip(t.energies, map.energies).allSatisfy { abs($0 - $1) < 1e-9 }, "keV energies converted")
        #expect(throws: LaueError.self) { try XANESMapReader.read(path: tiff, energies: folder + "/energies.txt") }   // no step
        try "7700\n7701\n".write(toFile: folder + "/short.txt", atomically: true, encoding: .utf8)
        #expect(throws: LaueError.self) { try XANESMapReader.read(path: tiff, energies: folder + "/short.txt", geometry: .init(stepUm: (1, 1))) }
    }
}
