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

    /// Builds a XANES map from one fluorescence map file per energy, taking the channel named
    /// `channel` (e.g. "Co" or "Co_K") from each. MAPS: `/MAPS/XRF_Analyzed/{Fitted,NNLS,ROI}/Counts_Per_Sec`
    /// [channels, rows, columns] with `Channel_Names`, axes `/MAPS/x_axis`, `/MAPS/y_axis`; the incident
    /// energy is not stored in a standard place, so `energies` (one per file) is required. PyXRF:
    /// `/xrfmap/detsum/xrf_fit` [lines, rows, columns] with `xrf_fit_name` (or `xrf_roi`), positions
    /// `/xrfmap/positions/pos` [2, rows, columns], energy from the `instrument_mono_incident_energy`
    /// attribute of `/xrfmap/scan_metadata` (keV). Axis units: the `units` attribute when present,
    /// else millimetres (motor positions) - check against your beamline.
    public static func readXRFMaps(paths: [String], channel: String, energies energyFile: String? = nil,
                                   geometry: Geometry = Geometry()) throws -> XANESMap {
        guard !paths.isEmpty else { throw LaueError(.invalidArgument, "no XRF map files given") }
        var images: [[Float]] = [], energies: [Double] = []
        var grid: MapGrid? = nil
        for path in paths.sorted() {
            let f = try HDF5File(path: path)
            let (image, g, energy) = try f.exists("/MAPS") ? readMAPS(f, channel: channel) : readPyXRF(f, channel: channel)
            if let grid, grid.columns != g.columns || grid.rows != g.rows {
                throw LaueError(.invalidFormat, file: path, "\(g.columns) x \(g.rows) map, the first is \(grid.columns) x \(grid.rows)")
            }
            grid = grid ?? g
            images.append(image)
            energies.append(energy ?? .nan)
        }
        if let energyFile {
            energies = try readEnergies(energyFile)
            guard energies.count == paths.count else { throw LaueError(.invalidFormat, file: energyFile, "\(energies.count) energies for \(paths.count) files") }
        } else if energies.contains(where: \.isNaN) {
            throw LaueError(.missingData, file: paths[energies.firstIndex(where: \.isNaN)!], "no incident energy in the file: give --energies")
        }
        var g = grid!
        if let step = geometry.stepUm { g.stepX = step.x; g.stepY = step.y }
        if let origin = geometry.originUm { g.originX = origin.x; g.originY = origin.y }
        return try XANESMap(energies: energies, grid: g, values: images.flatMap { $0 }, name: paths[0])
    }

    static func channelIndex(_ names: [String], _ channel: String, file: String) throws -> Int {
        let wanted = channel.lowercased()
        if let i = names.firstIndex(where: { $0.lowercased() == wanted }) { return i }
        if let i = names.firstIndex(where: { $0.lowercased().hasPrefix(wanted + "_") || $0.lowercased().hasPrefix(wanted + " ") }) { return i }
        throw LaueError(.missingData, file: file, "no channel \"\(channel)\" (channels: \(names.joined(separator: ", ")))")
    }

    static func axisStep(_ f: HDF5File, _ dataset: String) throws -> (step: Double, origin: Double) {
        let values = try f.read(dataset, as: Double.self).values
        guard values.count >= 2 else { throw LaueError(.invalidFormat, file: f.path, item: dataset, "an axis needs two positions") }
        let unit = (f.stringAttribute("units", of: dataset) ?? "mm").lowercased()
        let scale = unit.hasPrefix("um") || unit.hasPrefix("µm") || unit.contains("micro") ? 1.0 : unit == "nm" ? 1e-3 : 1000.0
        return ((values[values.count - 1] - values[0]) / Double(values.count - 1) * scale, values[0] * scale)
    }

    static func readMAPS(_ f: HDF5File, channel: String) throws -> ([Float], MapGrid, Double?) {
        guard let group = ["Fitted", "NNLS", "ROI"].map({ "/MAPS/XRF_Analyzed/\($0)" }).first(where: { f.exists($0 + "/Counts_Per_Sec") }) else {
            throw LaueError(.missingData, file: f.path, "MAPS file without /MAPS/XRF_Analyzed/{Fitted,NNLS,ROI}/Counts_Per_Sec")
        }
        let names = try f.readStrings(group + "/Channel_Names")
        let k = try channelIndex(names, channel, file: f.path)
        let (values, shape) = try f.read(group + "/Counts_Per_Sec", as: Float.self)
        guard shape.count == 3, k < shape[0] else { throw LaueError(.invalidFormat, file: f.path, item: group, "Counts_Per_Sec shape \(shape)") }
        let n = shape[1] * shape[2]
        let x = try axisStep(f, f.exists("/MAPS/Scan/x_axis") ? "/MAPS/Scan/x_axis" : "/MAPS/x_axis")
        let y = try axisStep(f, f.exists("/MAPS/Scan/y_axis") ? "/MAPS/Scan/y_axis" : "/MAPS/y_axis")
        let grid = MapGrid(columns: shape[2], rows: shape[1], stepX: abs(x.step), stepY: abs(y.step), originX: x.origin, originY: y.origin)
        return (Array(values[(k * n)..<((k + 1) * n)]), grid, nil)
    }

    static func readPyXRF(_ f: HDF5File, channel: String) throws -> ([Float], MapGrid, Double?) {
        guard let (data, namesPath) = [("/xrfmap/detsum/xrf_fit", "/xrfmap/detsum/xrf_fit_name"), ("/xrfmap/detsum/xrf_roi", "/xrfmap/detsum/xrf_roi_name")]
            .first(where: { f.exists($0.0) }) else {
            throw LaueError(.missingData, file: f.path, "neither a MAPS nor a PyXRF file (no /MAPS, no /xrfmap/detsum/xrf_fit)")
        }
        let names = try f.readStrings(namesPath)
        let k = try channelIndex(names, channel, file: f.path)
        let (values, shape) = try f.read(data, as: Float.self)
        guard shape.count == 3, k < shape[0] else { throw LaueError(.invalidFormat, file: f.path, item: data, "shape \(shape)") }
        let n = shape[1] * shape[2]
        var grid = MapGrid(columns: shape[2], rows: shape[1], stepX: 1, stepY: 1)
        if f.exists("/xrfmap/positions/pos") {
            let (pos, ps) = try f.read("/xrfmap/positions/pos", as: Double.self)
            if ps.count == 3, ps[0] >= 2, ps[1] == shape[1], ps[2] == shape[2], shape[1] >= 1, shape[2] >= 2 {
                let unit = (f.stringAttribute("units", of: "/xrfmap/positions/pos") ?? "mm").lowercased()
                let scale = unit.hasPrefix("um") || unit.contains("micro") ? 1.0 : 1000.0
                let cols = shape[2], rows = shape[1]
                grid.originX = pos[0] * scale
                grid.originY = pos[n] * scale
                grid.stepX = abs(pos[cols - 1] - pos[0]) / Double(cols - 1) * scale
                grid.stepY = rows > 1 ? abs(pos[n + (rows - 1) * cols] - pos[n]) / Double(rows - 1) * scale : grid.stepX
            }
        }
        let energy = f.numericAttribute("instrument_mono_incident_energy", of: "/xrfmap/scan_metadata")?.first.map { $0 < 100 ? $0 * 1000 : $0 }
        return (Array(values[(k * n)..<((k + 1) * n)]), grid, energy)
    }
}
