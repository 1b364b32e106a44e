import Foundation
import LaueCore

/// A map measured on the scan's stage positions by another detector, kept in its own file: an X-ray
/// fluorescence map (Co Kα, Ni Kα counts) exported as CSV by the beamline's XRF software, a monitor or
/// a transmission map. Its columns become channels of the scan (`ScanManifest.channels`), exactly like
/// the counters a BLISS or 34-ID-E file records with each frame (docs/scan-layouts.md, "Channels from
/// a separate map").
///
/// Format: CSV with a header `x_um,y_um,<name>,<name>...`; one row per map point; values are numbers
/// (empty, `nan`: no value). Or an XRF-Maps/MAPS or PyXRF HDF5 file (`XRFMapFile`): every element
/// channel, at the file's stage positions. Each scan point takes the values of the map point nearest to its stage
/// position when that is within `toleranceFraction` of the map's step (the median distance between
/// neighbouring map points); otherwise it has no value there. No interpolation: a channel is a count
/// measured at a position.
public struct ChannelMap: Sendable {
    /// Channel names, in the file's column order.
    public let names: [String]
    /// Positions of the map points, micrometres.
    public let x: [Double], y: [Double]
    /// Values by channel name, one per map point.
    public let values: [String: [Double]]
    /// The map's step: the median distance from a map point to its nearest other map point (0 for a
    /// one-point map, or when no point has a neighbour within 16 grid cells: exact positions only).
    public let step: Double
    /// The nearest-point grid of the positions, built once.
    let grid: PointGrid

    public init(names: [String], x: [Double], y: [Double], values: [String: [Double]]) {
        self.names = names; self.x = x; self.y = y; self.values = values
        grid = PointGrid(x: x, y: y)
        step = ChannelMap.medianNeighbourDistance(grid)
    }

    /// A scan point takes a map point's values when it is within this fraction of the map's step.
    public static let toleranceFraction = 0.5
    /// Most map points read (a hostile or mistaken file cannot ask for more).
    public static let maximumPoints = ScanRaster.maximumPoints
    /// Most channels (columns besides x_um, y_um).
    public static let maximumChannels = 256
    /// Most map points in one cell of the nearest-point grid (an even map holds about two).
    public static let maximumPointsPerCell = 1024

    /// Reads a channel map: an HDF5 file as an XRF map (`readXRF`), anything else as CSV (`readCSV`).
    public static func read(path: String) throws -> ChannelMap {
        try InputFile.head(path, count: 8).starts(with: [0x89, 0x48, 0x44, 0x46]) ? try readXRF(path: path) : try readCSV(path: path)
    }

    /// An XRF-Maps/MAPS or PyXRF file as a channel map: one map point per map pixel at its stage
    /// position, one channel per element line, named as the file names it (characters other than
    /// letters, digits, '_', '-' and '.' as '_').
    public static func readXRF(path: String) throws -> ChannelMap {
        let file = try XRFMapFile.read(path: path)
        guard file.hasPositions else { throw LaueError(.missingData, file: path, "the \(file.layout.rawValue) file records no stage positions (/xrfmap/positions/pos)") }
        guard file.columns * file.rows <= maximumPoints else {
            throw LaueError(.invalidFormat, file: path, "\(file.columns) x \(file.rows) map points: at most \(maximumPoints)")
        }
        guard file.names.count <= maximumChannels else {
            throw LaueError(.invalidFormat, file: path, "\(file.names.count) channels: at most \(maximumChannels)")
        }
        var names: [String] = []
        for (k, raw) in file.names.enumerated() {
            var name = String(InputFile.plainName(raw.trimmingCharacters(in: .whitespaces)).prefix(64))
            if name.isEmpty { name = "channel\(k)" }
            guard !names.contains(name), name != "x_um", name != "y_um" else {
                throw LaueError(.invalidFormat, file: path, item: "channel \(k + 1)", "two channels named '\(LaueError.excerpt(name))'")
            }
            names.append(name)
        }
        var (xs, ys) = ([Double](), [Double]())
        for r in 0..<file.rows { for c in 0..<file.columns { let p = file.position(column: c, row: r); xs.append(p.x); ys.append(p.y) } }
        guard xs.allSatisfy(ScanManifest.isPosition), ys.allSatisfy(ScanManifest.isPosition) else {
            throw LaueError(.invalidFormat, file: path, "stage positions beyond ±1e9 µm")
        }
        let values = zip(names, file.values).map { ($0, $1.map(Double.init)) }
        return try checked(names: names, x: xs, y: ys, values: Dictionary(uniqueKeysWithValues: values), path: path) {
            "map pixel (column \($0 % file.columns), row \($0 / file.columns))"
        }
    }

    /// Reads a channel map CSV; every problem names the file, line and column.
    public static func readCSV(path: String) throws -> ChannelMap {
        let table = try CSVTable.read(path: path)
        guard let xi = table.index(of: "x_um"), let yi = table.index(of: "y_um") else {
            throw LaueError(.missingData, file: path, "a channel map needs the columns x_um,y_um and one column per channel")
        }
        let columns = table.header.indices.filter { $0 != xi && $0 != yi }
        guard !columns.isEmpty else { throw LaueError(.missingData, file: path, "no channel column besides x_um and y_um") }
        guard columns.count <= maximumChannels else {
            throw LaueError(.invalidFormat, file: path, "\(columns.count) channel columns: at most \(maximumChannels)")
        }
        guard table.rows.count <= maximumPoints else {
            throw LaueError(.invalidFormat, file: path, "\(table.rows.count) map points: at most \(maximumPoints)")
        }
        guard !table.rows.isEmpty else { throw LaueError(.missingData, file: path, "no map points") }
        var names: [String] = []
        for c in columns {
            let name = table.header[c].trimmingCharacters(in: .whitespaces)
            guard ChannelMap.isName(name) else {
                throw LaueError(.invalidFormat, file: path, item: "column \(c + 1)",
                                "channel name '\(LaueError.excerpt(name))' must be 1-64 letters, digits, '_', '-' or '.'")
            }
            guard !names.contains(name), name != "x_um", name != "y_um" else {
                throw LaueError(.invalidFormat, file: path, item: name, "two columns of that name")
            }
            names.append(name)
        }
        var (xs, ys) = ([Double](), [Double]())
        var columnsValues = [[Double]](repeating: [], count: columns.count)
        for (i, r) in table.rows.enumerated() {
            let line = "line \(i + 2)"
            guard let x = CSVTable.decimal(r[xi]), let y = CSVTable.decimal(r[yi]),
                  ScanManifest.isPosition(x), ScanManifest.isPosition(y) else {
                throw LaueError(.invalidFormat, file: path, item: line,
                                "position (\(LaueError.excerpt(r[xi])), \(LaueError.excerpt(r[yi]))) µm is not a finite decimal number within ±1e9 µm")
            }
            xs.append(x); ys.append(y)
            for (j, c) in columns.enumerated() {
                let text = r[c].trimmingCharacters(in: .whitespaces)
                if text.isEmpty || text.lowercased() == "nan" { columnsValues[j].append(.nan); continue }
                guard let v = CSVTable.decimal(text), v.isFinite else {
                    throw LaueError(.invalidFormat, file: path, item: "\(line), column \(names[j])", "'\(LaueError.excerpt(text))' is not a finite decimal number")
                }
                columnsValues[j].append(v)
            }
        }
        return try checked(names: names, x: xs, y: ys, values: Dictionary(uniqueKeysWithValues: zip(names, columnsValues)), path: path) {
            "line \($0 + 2)"
        }
    }

    /// The map of these points after the checks every map passes: not crowded, no two points at one
    /// position. `describe` names a point in errors.
    static func checked(names: [String], x xs: [Double], y ys: [Double], values: [String: [Double]], path: String,
                        describe: (Int) -> String) throws -> ChannelMap {
        // A grid cell (about two points' area on an even map) holding very many points: not a map of
        // positions, and the nearest-point search would slow to a crawl. Checked before the map (and its
        // step, a nearest-point search per point) is built.
        let grid = PointGrid(x: xs, y: ys)
        if let crowded = grid.buckets.values.max(by: { $0.count < $1.count }), crowded.count > maximumPointsPerCell {
            throw LaueError(.invalidFormat, file: path,
                            String(format: "%d map points crowd within %.3g µm of each other (at most %d): not a map of stage positions",
                                   crowded.count, grid.cell * 2.0.squareRoot(), maximumPointsPerCell))
        }
        // Two points at one position (within 1 nm) would leave a scan point two values to choose from.
        let order = xs.indices.sorted { (xs[$0], ys[$0], $0) < (xs[$1], ys[$1], $1) }
        for (a, b) in zip(order, order.dropFirst())
        where abs(xs[a] - xs[b]) <= ScanManifest.positionTolerance && abs(ys[a] - ys[b]) <= ScanManifest.positionTolerance {
            throw LaueError(.invalidFormat, file: path, item: "\(describe(min(a, b))) and \(describe(max(a, b)))",
                            "two map points at one position (\(xs[a]), \(ys[a])) µm")
        }
        return ChannelMap(names: names, x: xs, y: ys, values: values)
    }

    static func isName(_ s: String) -> Bool {
        (1...64).contains(s.count) && s.unicodeScalars.allSatisfy(InputFile.isPlainNameScalar)
    }

    /// The median distance from a point of `grid` to its nearest other point; neighbours farther than 16
    /// cells count as none (a median needs only the even part); 0 without any.
    static func medianNeighbourDistance(_ grid: PointGrid) -> Double {
        guard grid.x.count > 1 else { return 0 }
        let d = grid.x.indices.compactMap { grid.nearest(to: grid.x[$0], grid.y[$0], excluding: $0, limit: 16 * grid.cell)?.distance }.sorted()
        return d.isEmpty ? 0 : d[d.count / 2]
    }

    /// The values of each channel at `points` (stage positions, micrometres): those of the nearest map
    /// point within `toleranceFraction` of the step, NaN where there is none (or the position is NaN).
    /// Also how many points had no map point near them.
    public func sample(at points: [(x: Double, y: Double)]) -> (channels: [String: [Double]], unmatched: Int) {
        let tolerance = max(ChannelMap.toleranceFraction * step, ScanManifest.positionTolerance)
        var out = [String: [Double]](uniqueKeysWithValues: names.map { ($0, [Double](repeating: .nan, count: points.count)) })
        var unmatched = 0
        for (k, p) in points.enumerated() {
            guard let n = grid.nearest(to: p.x, p.y, limit: tolerance) else { unmatched += 1; continue }
            for name in names { out[name]![k] = values[name]![n.index] }
        }
        return (out, unmatched)
    }
}

/// Points in the plane bucketed on a square grid, for nearest-point look-ups.
struct PointGrid {
    let x: [Double], y: [Double]
    let cell: Double
    let origin: (x: Double, y: Double)
    /// Cells per side that hold points, and the points' bounding box.
    let columns: Int64, rows: Int64
    let bounds: (x0: Double, x1: Double, y0: Double, y1: Double)
    var buckets: [Int64: [Int]] = [:]

    init(x: [Double], y: [Double]) {
        self.x = x; self.y = y
        let (x0, x1) = (x.min() ?? 0, x.max() ?? 0), (y0, y1) = (y.min() ?? 0, y.max() ?? 0)
        // Cell size from the central 98 % of the points (a few far-off points must not make one cell of
        // the rest): about two points per cell on an even spread over an area, or along a line; at
        // least 1 nm. Only occupied cells are stored.
        func central(_ v: [Double]) -> Double {
            guard v.count > 2 else { return (v.max() ?? 0) - (v.min() ?? 0) }
            let s = v.sorted(), k = s.count / 100
            return s[s.count - 1 - k] - s[k]
        }
        let (w, h) = (central(x), central(y)), n = Double(max(x.count, 1))
        cell = max((2 * w * h / n).squareRoot(), 2 * max(w, h) / n, ScanManifest.positionTolerance)
        origin = (x0, y0)
        bounds = (x0, x1, y0, y1)
        columns = Int64(((x1 - x0) / cell).rounded(.down)) + 1
        rows = Int64(((y1 - y0) / cell).rounded(.down)) + 1
        for i in x.indices { buckets[key(column(x[i]), row(y[i])), default: []].append(i) }
    }

    func column(_ v: Double) -> Int64 { Int64(((v - origin.x) / cell).rounded(.down)) }
    func row(_ v: Double) -> Int64 { Int64(((v - origin.y) / cell).rounded(.down)) }
    func key(_ c: Int64, _ r: Int64) -> Int64 { r &* 1_000_003 &+ c }

    /// The nearest point to (px, py) other than `excluding` within `limit` (micrometres), searching
    /// rings of cells outwards until the nearest found is closer than any unsearched cell, or the rings
    /// are farther than `limit`.
    func nearest(to px: Double, _ py: Double, excluding: Int? = nil, limit: Double) -> (index: Int, distance: Double)? {
        guard !x.isEmpty, px.isFinite, py.isFinite, limit.isFinite else { return nil }
        // Farther than `limit` from the points' bounding box: no point is within it.
        let dx = max(bounds.x0 - px, 0, px - bounds.x1), dy = max(bounds.y0 - py, 0, py - bounds.y1)
        guard (dx * dx + dy * dy).squareRoot() <= limit else { return nil }
        // A position far outside the map starts from the nearest cell just outside it; rings then reach inwards.
        let c0 = min(max(column(px), -1), columns), r0 = min(max(row(py), -1), rows)
        let span = max(columns, rows)
        let outside = max(abs(px - (origin.x + (Double(c0) + 0.5) * cell)), abs(py - (origin.y + (Double(r0) + 0.5) * cell)))
        var best: (index: Int, distance: Double)? = nil
        func visit(_ c: Int64, _ r: Int64) {
            for i in buckets[key(c, r)] ?? [] where i != excluding {
                let d = hypot(x[i] - px, y[i] - py)
                if d <= limit, best == nil || d < best!.distance || (d == best!.distance && i < best!.index) { best = (i, d) }
            }
        }
        var ring: Int64 = 0
        while ring <= span + 1 {
            if ring == 0 { visit(c0, r0) } else {
                for d in -ring...ring {
                    visit(c0 + d, r0 - ring); visit(c0 + d, r0 + ring)
                    if abs(d) < ring { visit(c0 - ring, r0 + d); visit(c0 + ring, r0 + d) }
                }
            }
            // Every point in a later ring is at least (ring - 1/2) cells from the start cell's centre.
            let reach = (Double(ring) + 0.5) * cell - outside
            if let b = best, b.distance <= reach { break }
            if reach > limit { break }
            ring += 1
        }
        return best
    }

}
