import Foundation
import LaueCore
import LaueCorrelation
import LaueSimulation
import LaueTestSupport
import LaueXANES
import Testing

/// A XANES map of the synthetic particle on its own grid: `columns` x `columns` pixels of `step` µm
/// centred on the XANES frame's origin, placed in the Laue frame by (rotation, offset).
struct SyntheticPair {
    let defects: SyntheticDefectMap
    let simulation: XANESSimulation
    var truth: RigidTransform { simulation.transform }

    init(rotation: Double, offset: (Double, Double), columns: Int = 56, step: Double = 0.4, seed: UInt64 = 3,
         configure: (inout XANESSimulation) -> Void = { _ in }) {
        defects = SyntheticDefectMap(seed: 21)
        let half = Double(columns - 1) / 2 * step
        let grid = MapGrid(columns: columns, rows: columns, stepX: step, stepY: step, originX: -half, originY: -half)
        var sim = XANESSimulation(defects: defects, xanesGrid: grid)
        sim.rotationDegrees = rotation
        sim.offsetUm = offset
        sim.seed = seed
        configure(&sim)
        simulation = sim
    }

    var fixed: GriddedMap { GriddedMap(grid: defects.grid, values: defects.intensity) }

    /// RMS distance (µm) between where `t` and the truth put the particle's XANES pixels.
    func displacement(_ t: RigidTransform, thickness: [Double]) -> Double {
        let g = simulation.xanesGrid
        var sum = 0.0, n = 0
        for j in 0..<g.rows { for i in 0..<g.columns where thickness[j * g.columns + i] > 0.5 {
            let a = t.apply(x: g.x(i), y: g.y(j)), b = truth.apply(x: g.x(i), y: g.y(j))
            sum += pow(a.x - b.x, 2) + pow(a.y - b.y, 2); n += 1
        } }
        return (sum / Double(max(n, 1))).squareRoot()
    }
}

@Suite struct RegistrationTests {
    /// XANES edge-step map (0.4 µm grid, 1 % noise) onto the Laue particle channel (0.5 µm grid, a
    /// different contrast per domain): position within 0.3 of the coarser step, rotation within 0.5 deg.
    @Test(arguments: [0.0, 4.0, -7.0, 10.0])
    func recoversRotationAndTranslation(rotation: Double) throws {
        let pair = SyntheticPair(rotation: rotation, offset: (10.3, 9.6))
        let sim = try pair.simulation.run()
        let edge = try EdgeMap.analyse(sim.before)
        let r = try Registration.register(fixed: pair.fixed, moving: GriddedMap(grid: edge.grid, values: edge.edgeStep))
        let error = pair.displacement(r.transform, thickness: sim.thickness)
        print(String(format: "registration at %.0f deg: RMS displacement %.3f µm, rotation error %.3f deg, r %.3f, overlap %.2f",
                     rotation, error, r.transform.rotationDegrees - rotation, r.correlation, r.overlap))
        #expect(error <= 0.3 * 0.5, "rotation \(rotation): RMS displacement \(error) µm (coarse \(r.coarse), fitted \(r.transform))")
        #expect(abs(r.transform.rotationDegrees - rotation) <= 0.5, "rotation \(r.transform.rotationDegrees) vs \(rotation)")
        #expect(r.overlap > 0.9 && r.correlation > 0.5)
    }

    /// A XANES field of view that covers under 20 % of the particle is refused with a clear message.
    @Test func refusesALowOverlapPair() throws {
        let pair = SyntheticPair(rotation: 3, offset: (4.5, 11.0), columns: 12, step: 0.4)
        let sim = try pair.simulation.run()
        let edge = try EdgeMap.analyse(sim.before)
        let steps = GriddedMap(grid: pair.simulation.xanesGrid, values: edge.edgeStep)
        do {
            _ = try Registration.register(fixed: pair.fixed, moving: steps)
            Issue.record("a pair with a tiny overlap was registered")
        } catch let e as LaueError {
            print("low overlap: \(e.description)")
            #expect(e.description.contains("registration refused"), "\(e.description)")
        }
    }

    /// Resampling uses explicit pixel centres: a linear ramp is reproduced exactly, and an identity
    /// area-average onto the same grid changes nothing.
    @Test func resamplingIsExactOnARamp() {
        let a = MapGrid(columns: 20, rows: 15, stepX: 0.3, stepY: 0.3, originX: 1, originY: 2)
        var values: [Double] = []
        for p in 0..<a.count {
            let column = Double(p % 20), row = Double(p / 20)
            values.append(column * 0.6 + row * 0.3)
        }
        let ramp = GriddedMap(grid: a, values: values)
        let b = MapGrid(columns: 8, rows: 6, stepX: 0.5, stepY: 0.5, originX: 1.6, originY: 2.4)
        let r = ramp.resampled(onto: b, transform: RigidTransform())
        for j in 0..<b.rows { for i in 0..<b.columns {
            let expected = (b.x(i) - 1) * 2 + (b.y(j) - 2)
            #expect(abs(r.values[j * b.columns + i] - expected) < 1e-9)
        } }
        #expect(ramp.averaged(onto: a, transform: RigidTransform()).values == ramp.values)
    }
}
