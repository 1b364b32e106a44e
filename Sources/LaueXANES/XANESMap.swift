import Foundation
import LaueCore

/// A regular grid in micrometres: pixel (i, j) has its centre at
/// (originX + i * stepX, originY + j * stepY). Explicit pixel centres avoid the end-point scaling of
/// `zoom`-style resampling.
public struct MapGrid: Sendable, Equatable, Codable {
    public var columns: Int
    public var rows: Int
    public var stepX: Double
    public var stepY: Double
    public var originX: Double
    public var originY: Double

    public init(columns: Int, rows: Int, stepX: Double, stepY: Double, originX: Double = 0, originY: Double = 0) {
        self.columns = columns; self.rows = rows; self.stepX = stepX; self.stepY = stepY; self.originX = originX; self.originY = originY
    }

    public var count: Int { columns * rows }
    public func x(_ i: Int) -> Double { originX + Double(i) * stepX }
    public func y(_ j: Int) -> Double { originY + Double(j) * stepY }
    /// Pixel-centre coordinates of the columns and of the rows (micrometres).
    public var xs: [Double] { (0..<columns).map(x) }
    public var ys: [Double] { (0..<rows).map(y) }
    /// Continuous pixel coordinates of a point in micrometres.
    public func pixel(x: Double, y: Double) -> (Double, Double) { ((x - originX) / stepX, (y - originY) / stepY) }
}

/// A rigid transform from a moving map's frame to a fixed map's frame (micrometres):
/// fixed = R(rotation) * moving + translation.
public struct RigidTransform: Sendable, Equatable, Codable {
    public var rotationDegrees: Double
    public var translationX: Double
    public var translationY: Double

    public init(rotationDegrees: Double = 0, translationX: Double = 0, translationY: Double = 0) {
        self.rotationDegrees = rotationDegrees; self.translationX = translationX; self.translationY = translationY
    }

    public func apply(x: Double, y: Double) -> (x: Double, y: Double) {
        let t = rotationDegrees * .pi / 180
        return (cos(t) * x - sin(t) * y + translationX, sin(t) * x + cos(t) * y + translationY)
    }

    public func inverse(x: Double, y: Double) -> (x: Double, y: Double) {
        let t = rotationDegrees * .pi / 180, dx = x - translationX, dy = y - translationY
        return (cos(t) * dx + sin(t) * dy, -sin(t) * dx + cos(t) * dy)
    }
}

/// A micro-XANES map: one image per incident energy, on a grid in micrometres.
public struct XANESMap: Sendable {
    public var energies: [Double]
    public var grid: MapGrid
    /// Energy-major: `values[e * grid.count + j * columns + i]`.
    public var values: [Float]
    public var name: String

    public init(energies: [Double], grid: MapGrid, values: [Float], name: String) throws {
        guard values.count == energies.count * grid.count else {
            throw LaueError(.invalidFormat, file: name, "\(values.count) values for \(energies.count) energies of \(grid.columns) x \(grid.rows)")
        }
        guard energies.count >= 5 else { throw LaueError(.missingData, file: name, "\(energies.count) energies: too few for an edge") }
        guard grid.stepX > 0, grid.stepY > 0 else { throw LaueError(.invalidArgument, file: name, "map step sizes must be positive") }
        // Sort by energy (stacks are sometimes recorded out of order).
        if zip(energies, energies.dropFirst()).contains(where: { $0 >= $1 }) {
            let order = energies.indices.sorted { energies[$0] < energies[$1] }
            for (a, b) in zip(order, order.dropFirst()) where energies[a] == energies[b] {
                throw LaueError(.invalidFormat, file: name, "energy \(energies[a]) eV appears twice")
            }
            var sorted = [Float](repeating: 0, count: values.count)
            for (k, e) in order.enumerated() {
                for p in 0..<grid.count { sorted[k * grid.count + p] = values[e * grid.count + p] }
            }
            self.energies = order.map { energies[$0] }
            self.values = sorted
        } else {
            self.energies = energies
            self.values = values
        }
        self.grid = grid
        self.name = name
    }

    /// mu(E) of pixel (i, j).
    public func spectrum(column i: Int, row j: Int) -> [Double] {
        let p = j * grid.columns + i
        return energies.indices.map { Double(values[$0 * grid.count + p]) }
    }

    /// The image at energy index `e`.
    public func image(_ e: Int) -> [Float] { Array(values[(e * grid.count)..<((e + 1) * grid.count)]) }
}
