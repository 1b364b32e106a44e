import Foundation
import LaueXANES

/// A scalar map on a grid in micrometres; NaN marks pixels without data.
public struct GriddedMap: Sendable {
    public var grid: MapGrid
    public var values: [Double]

    public init(grid: MapGrid, values: [Double]) {
        precondition(values.count == grid.count, "values must cover the grid")
        self.grid = grid; self.values = values
    }

    /// Value at continuous pixel coordinates (u, v) by bilinear interpolation over the finite
    /// neighbours (NaN outside the map or when the nearest neighbour has no data).
    public func bilinear(_ u: Double, _ v: Double) -> Double {
        guard u > -0.5, v > -0.5, u < Double(grid.columns) - 0.5, v < Double(grid.rows) - 0.5 else { return .nan }
        let iu = min(max(Int(u.rounded()), 0), grid.columns - 1), iv = min(max(Int(v.rounded()), 0), grid.rows - 1)
        guard values[iv * grid.columns + iu].isFinite else { return .nan }
        let u0 = min(max(Int(floor(u)), 0), grid.columns - 1), v0 = min(max(Int(floor(v)), 0), grid.rows - 1)
        let u1 = min(u0 + 1, grid.columns - 1), v1 = min(v0 + 1, grid.rows - 1)
        let fu = min(max(u - Double(u0), 0), 1), fv = min(max(v - Double(v0), 0), 1)
        var sum = 0.0, weight = 0.0
        for (a, b, w) in [(u0, v0, (1 - fu) * (1 - fv)), (u1, v0, fu * (1 - fv)), (u0, v1, (1 - fu) * fv), (u1, v1, fu * fv)] where w > 0 {
            let value = values[b * grid.columns + a]
            if value.isFinite { sum += w * value; weight += w }
        }
        return weight > 0 ? sum / weight : .nan
    }

    /// Value at a point (micrometres, this map's frame).
    public func value(x: Double, y: Double) -> Double {
        let (u, v) = grid.pixel(x: x, y: y)
        return bilinear(u, v)
    }

    /// Whether a point (micrometres) lies within the map's field of view.
    public func contains(x: Double, y: Double) -> Bool {
        let (u, v) = grid.pixel(x: x, y: y)
        return u >= -0.5 && v >= -0.5 && u <= Double(grid.columns) - 0.5 && v <= Double(grid.rows) - 0.5
    }

    /// This map (the moving one) sampled at the pixel centres of `target` (the fixed frame):
    /// bilinear at the explicit pixel-centre coordinates, through `transform` (moving -> fixed).
    public func resampled(onto target: MapGrid, transform: RigidTransform) -> GriddedMap {
        var out = [Double](repeating: .nan, count: target.count)
        for j in 0..<target.rows {
            for i in 0..<target.columns {
                let (x, y) = transform.inverse(x: target.x(i), y: target.y(j))
                out[j * target.columns + i] = value(x: x, y: y)
            }
        }
        return GriddedMap(grid: target, values: out)
    }

    /// Area average onto a coarser `target`: every finite moving pixel adds to the target pixel its
    /// centre falls in; target pixels that receive none are filled bilinearly (a continuous metric
    /// is averaged over each Laue footprint rather than interpolated).
    public func averaged(onto target: MapGrid, transform: RigidTransform) -> GriddedMap {
        var sum = [Double](repeating: 0, count: target.count), count = [Int](repeating: 0, count: target.count)
        for j in 0..<grid.rows {
            for i in 0..<grid.columns {
                let v = values[j * grid.columns + i]
                guard v.isFinite else { continue }
                let (x, y) = transform.apply(x: grid.x(i), y: grid.y(j))
                let (u, w) = target.pixel(x: x, y: y)
                let iu = Int(u.rounded()), iw = Int(w.rounded())
                guard iu >= 0, iw >= 0, iu < target.columns, iw < target.rows else { continue }
                sum[iw * target.columns + iu] += v
                count[iw * target.columns + iu] += 1
            }
        }
        let fill = resampled(onto: target, transform: transform)
        return GriddedMap(grid: target, values: (0..<target.count).map { count[$0] > 0 ? sum[$0] / Double(count[$0]) : fill.values[$0] })
    }
}
