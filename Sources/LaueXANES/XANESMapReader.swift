import Foundation
import LaueCore
import LaueIO

/// Reads XANES maps from the layouts beamlines write (docs/xanes.md):
/// - plain HDF5: a stack [energies, rows, columns] with energies as a dataset or attribute;
/// - a multi-page TIFF or a folder of TIFFs, plus a text file of energies;
/// - one XRF-Maps/MAPS or PyXRF HDF5 file per energy, one element channel taken from each.
public enum XANESMapReader {
    /// Where the step and origin come from when a file does not carry them.
    public struct Geometry: Sendable {
        public var stepUm: (x: Double, y: Double)?
        public var originUm: (x: Double, y: Double)?
        public init(stepUm: (x: Double, y: Double)? = nil, originUm: (x: Double, y: Double)? = nil) {
            self.stepUm = stepUm; self.originUm = originUm
        }
    }

    /// Reads a map by its extension: `.h5`/`.hdf5` (plain layout), `.tif`/`.tiff` or a folder of
    /// TIFFs (needs `energies`).
    public static func read(path: String, energies: String? = nil, dataset: String? = nil, energyPath: String? = nil,
                            geometry: Geometry = Geometry()) throws -> XANESMap {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LaueError(.unreadable, file: path, "no such file or folder")
        }
        let lower = path.lowercased()
        if isDirectory.boolValue || lower.hasSuffix(".tif") || lower.hasSuffix(".tiff") {
            guard let energies else { throw LaueError(.missingData, file: path, "a TIFF stack needs an energies file (--energies)") }
            return try readTIFF(path: path, energies: energies, geometry: geometry)
        }
        return try readHDF5(path: path, dataset: dataset, energyPath: energyPath, energies: energies, geometry: geometry)
    }

    // MARK: Plain HDF5

    /// The plain layout: `dataset` (default `/xanes/data`, else `/exchange/data`) of shape
    /// [energies, rows, columns]; energies from `energyPath` (default `/xanes/energy` or
    /// `/exchange/energy`), the dataset's `energy` attribute, or a text file. `units` "keV" (or values
    /// below 100) are converted to eV. Step and origin from the dataset's `step_um` and `origin_um`
    /// attributes ([x, y] or one value), unless given.
    public static func readHDF5(path: String, dataset: String? = nil, energyPath: String? = nil, energies energyFile: String? = nil,
                                geometry: Geometry = Geometry()) throws -> XANESMap {
        let f = try HDF5File(path: path)
        let candidates = dataset.map { [$0] } ?? ["/xanes/data", "/exchange/data", "/data"]
        guard let data = candidates.first(where: { f.exists($0) && f.isDataset($0) }) else {
            throw LaueError(.missingData, file: path, "no XANES stack at \(candidates.joined(separator: " or ")) (give --dataset)")
        }
        let (values, shape) = try f.read(data, as: Float.self)
        guard shape.count == 3 else { throw LaueError(.invalidFormat, file: path, item: data, "shape \(shape): expected [energies, rows, columns]") }
        var energies: [Double]
        if let energyFile {
            energies = try readEnergies(energyFile)
        } else if let e = (energyPath.map { [$0] } ?? ["/xanes/energy", "/exchange/energy", "/energy"]).first(where: { f.exists($0) }) {
            energies = try f.read(e, as: Double.self).values
            if f.stringAttribute("units", of: e)?.lowercased() == "kev" { energies = energies.map { $0 * 1000 } }
        } else if let attribute = f.numericAttribute("energy", of: data) {
            energies = attribute
        } else {
            throw LaueError(.missingData, file: path, item: data, "no energies: give an energy dataset, an 'energy' attribute or --energies")
        }
        if let m = energies.max(), m < 100 { energies = energies.map { $0 * 1000 } }
        guard energies.count == shape[0] else {
            throw LaueError(.invalidFormat, file: path, item: data, "\(shape[0]) images but \(energies.count) energies")
        }
        let step = try geometry.stepUm ?? pair(f.numericAttribute("step_um", of: data), path: path, what: "step_um (or give --step-um)")
        let origin = geometry.originUm ?? (try? pair(f.numericAttribute("origin_um", of: data), path: path, what: "origin_um")) ?? (0, 0)
        let grid = MapGrid(columns: shape[2], rows: shape[1], stepX: step.x, stepY: step.y, originX: origin.x, originY: origin.y)
        return try XANESMap(energies: energies, grid: grid, values: values, name: path)
    }

    static func pair(_ values: [Double]?, path: String, what: String) throws -> (x: Double, y: Double) {
        guard let values, !values.isEmpty else { throw LaueError(.missingData, file: path, "no \(what)") }
        return (values[0], values.count > 1 ? values[1] : values[0])
    }

    /// Writes the plain layout (the format `lauemap simulate xanes` produces).
    public static func writeHDF5(_ map: XANESMap, to path: String) throws {
        try HDF5File.create(atomically: path) { f in
            try f.createGroup("/xanes")
            try f.write(map.values, shape: [map.energies.count, map.grid.rows, map.grid.columns], to: "/xanes/data",
                        chunk: [1, map.grid.rows, map.grid.columns], gzipLevel: 4)
            try f.write(map.energies, to: "/xanes/energy")
            try f.setAttribute("units", "eV", on: "/xanes/energy")
            try f.setAttribute("step_um", [map.grid.stepX, map.grid.stepY], on: "/xanes/data")
            try f.setAttribute("origin_um", [map.grid.originX, map.grid.originY], on: "/xanes/data")
            try f.setAttribute("axes", "energy,y,x", on: "/xanes/data")
            // NeXus: the stack with its energy and µm axes (silx shows it as a 3-D stack).
            try f.write((0..<map.grid.columns).map { map.grid.originX + Double($0) * map.grid.stepX }, to: "/xanes/x_um")
            try f.write((0..<map.grid.rows).map { map.grid.originY + Double($0) * map.grid.stepY }, to: "/xanes/y_um")
            try NeXus.describeStack(f, title: (path as NSString).lastPathComponent, stack: "/xanes/data", energy: "/xanes/energy",
                                    x: "/xanes/x_um", y: "/xanes/y_um")
        }
    }

    // MARK: TIFF

    /// A multi-page TIFF (one page per energy) or a folder of single-page TIFFs sorted by name.
    public static func readTIFF(path: String, energies energyFile: String, geometry: Geometry) throws -> XANESMap {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        var pages: [LaueImage]
        if isDirectory.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: path)
                .filter { $0.lowercased().hasSuffix(".tif") || $0.lowercased().hasSuffix(".tiff") }.sorted()
            guard !names.isEmpty else { throw LaueError(.missingData, file: path, "no .tif files in the folder") }
            pages = try names.map { try TIFFReader.read(path: (path as NSString).appendingPathComponent($0)) }
        } else {
            pages = try TIFFReader.readAll(path: path)
        }
        let energies = try readEnergies(energyFile)
        guard energies.count == pages.count else {
            throw LaueError(.invalidFormat, file: path, "\(pages.count) images but \(energies.count) energies in \(energyFile)")
        }
        let w = pages[0].width, h = pages[0].height
        for (k, p) in pages.enumerated() where p.width != w || p.height != h {
            throw LaueError(.invalidFormat, file: path, item: "image \(k + 1)", "\(p.width) x \(p.height), the first is \(w) x \(h)")
        }
        guard let step = geometry.stepUm else { throw LaueError(.missingData, file: path, "a TIFF stack needs its step (--step-um)") }
        let origin = geometry.originUm ?? (0, 0)
        let grid = MapGrid(columns: w, rows: h, stepX: step.x, stepY: step.y, originX: origin.x, originY: origin.y)
        return try XANESMap(energies: energies, grid: grid, values: pages.flatMap(\.pixels), name: path)
    }

    /// One energy per line (eV, or keV when all are below 100); `#` comments and extra columns ignored.
    public static func readEnergies(_ path: String) throws -> [Double] {
        let text = try readTextFile(path)
        var energies: [Double] = []
        for (n, raw) in text.split(whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let first = line.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).first, let e = Double(first) else {
                if energies.isEmpty { continue }      // header
                throw LaueError(.invalidFormat, file: path, item: "line \(n + 1)", "not an energy: \(line)")
            }
            energies.append(e)
        }
        if let m = energies.max(), m < 100 { energies = energies.map { $0 * 1000 } }
        return energies
    }

    // MARK: One XRF map file per energy (XRF-Maps/MAPS, PyXRF)

    /// Builds a XANES map from one fluorescence map file per energy (`XRFMapFile`: XRF-Maps/MAPS or
    /// PyXRF), taking the channel named `channel` (e.g. "Co" or "Co_K") from each. MAPS files store no
    /// incident energy in a standard place, so `energies` (one per file, in file-name order) is required
    /// for them; PyXRF files carry theirs. Axis units: the `units` attribute when present, else
    /// millimetres (motor positions) - check against your beamline.
    public static func readXRFMaps(paths: [String], channel: String, energies energyFile: String? = nil,
                                   geometry: Geometry = Geometry()) throws -> XANESMap {
        guard !paths.isEmpty else { throw LaueError(.invalidArgument, "no XRF map files given") }
        var images: [[Float]] = [], energies: [Double] = []
        var grid: MapGrid? = nil
        for path in paths.sorted() {
            let file = try XRFMapFile.read(path: path)
            let g = MapGrid(columns: file.columns, rows: file.rows, stepX: file.stepX, stepY: file.stepY,
                            originX: file.originX, originY: file.originY)
            if let grid, grid.columns != g.columns || grid.rows != g.rows {
                throw LaueError(.invalidFormat, file: path, "\(g.columns) x \(g.rows) map, the first is \(grid.columns) x \(grid.rows)")
            }
            grid = grid ?? g
            images.append(try file.channel(channel, file: path))
            energies.append(file.energy ?? .nan)
        }
        if let energyFile {
            energies = try readEnergies(energyFile)
            guard energies.count == paths.count else { throw LaueError(.invalidFormat, file: energyFile, "\(energies.count) energies for \(paths.count) files") }
        } else if energies.contains(where: \.isNaN) {
            throw LaueError(.missingData, file: paths.sorted()[energies.firstIndex(where: \.isNaN)!], "no incident energy in the file: give --energies")
        }
        var g = grid!
        if let step = geometry.stepUm { g.stepX = step.x; g.stepY = step.y }
        if let origin = geometry.originUm { g.originX = origin.x; g.originY = origin.y }
        return try XANESMap(energies: energies, grid: g, values: images.flatMap { $0 }, name: paths[0])
    }
}
