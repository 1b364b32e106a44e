import Foundation
import LaueCore
import LaueXANES

/// A defect map without a Laue scan behind it: an asymmetric particle (a tilted ellipse with a lobe,
/// so that rotations are observable) split into Voronoi domains of defect classes, each with a
/// streaking extent. Feeds `XANESSimulation` in tests, benchmarks and `lauemap simulate xanes`.
public struct SyntheticDefectMap: Sendable {
    public var grid: MapGrid
    /// Per point: the class, nil outside the particle.
    public var classes: [DefectClass?]
    /// Per point: streaking extent (deg), NaN outside.
    public var streakExtent: [Double]
    /// A Laue-like intensity channel for registration (particle signal varying per domain).
    public var intensity: [Double]

    public init(columns: Int = 40, rows: Int = 40, stepUm: Double = 0.5, domains: Int = 9, seed: UInt64 = 1) {
        grid = MapGrid(columns: columns, rows: rows, stepX: stepUm, stepY: stepUm)
        var rng = SeededGenerator(seed: seed)
        let w = Double(columns), h = Double(rows)
        let cx = 0.47 * w, cy = 0.5 * h, a = 0.36 * w, b = 0.24 * h, tilt = 0.52
        let lobe = (x: cx + 0.3 * w, y: cy - 0.18 * h, r: 0.13 * min(w, h))
        let seeds = (0..<domains).map { _ in (x: cx + (rng.uniform() - 0.5) * 1.4 * a, y: cy + (rng.uniform() - 0.5) * 1.6 * b) }
        let palette: [DefectClass] = [.noDefect, .gnd, .tiltBoundary, .tiltBoundaryGND, .stackingTiltBoundaries, .gnd, .randomDislocations]
        let domainClass = (0..<domains).map { palette[$0 % palette.count] }
        let domainExtent = domainClass.map { c -> Double in
            switch c {
            case .gnd, .tiltBoundaryGND: return 0.8 + 0.8 * rng.uniform()
            case .tiltBoundary, .stackingTiltBoundaries: return 0.3 + 0.3 * rng.uniform()
            default: return 0.05 + 0.1 * rng.uniform()
            }
        }
        let domainIntensity = (0..<domains).map { _ in 0.6 + 0.8 * rng.uniform() }
        classes = .init(repeating: nil, count: grid.count)
        streakExtent = .init(repeating: .nan, count: grid.count)
        intensity = .init(repeating: 0, count: grid.count)
        for j in 0..<rows {
            for i in 0..<columns {
                let x = Double(i), y = Double(j)
                let u = cos(tilt) * (x - cx) + sin(tilt) * (y - cy), v = -sin(tilt) * (x - cx) + cos(tilt) * (y - cy)
                let inEllipse = (u * u) / (a * a) + (v * v) / (b * b) <= 1
                let inLobe = pow(x - lobe.x, 2) + pow(y - lobe.y, 2) <= lobe.r * lobe.r
                guard inEllipse || inLobe else { continue }
                let d = seeds.indices.min { pow(x - seeds[$0].x, 2) + pow(y - seeds[$0].y, 2) < pow(x - seeds[$1].x, 2) + pow(y - seeds[$1].y, 2) }!
                let p = j * columns + i
                classes[p] = domainClass[d]
                streakExtent[p] = domainExtent[d]
                intensity[p] = domainIntensity[d]
            }
        }
    }
}

extension XANESSimulation {
    /// A simulation over a synthetic defect map.
    public init(defects: SyntheticDefectMap, xanesGrid: MapGrid) {
        self.init(laueGrid: defects.grid, classes: defects.classes, streakExtent: defects.streakExtent, xanesGrid: xanesGrid)
    }
}
