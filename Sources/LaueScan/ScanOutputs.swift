import Foundation
import LaueCore
import LaueIO
import LaueRendering

/// The whole-scan outputs built from the pattern and peak tables: `results.h5` and the PNG maps.
public enum ScanOutputs {
    /// Integer codes of the classes in the HDF5 class map (attribute `legend` on the dataset).
    public static let classCodes: [DefectClass] = [.noDefect, .gnd, .tiltBoundary, .tiltBoundaryGND, .stackingTiltBoundaries,
                                                   .randomDislocations, .unclassified, .unindexed, .failed]
    /// The colour of each class in `classCodes` order (the class maps' palette, colour-blind safe).
    public static var classColours: [Colour] { ScanMapImages.classColours }
    /// The map colour of a class.
    public static func classColour(_ c: DefectClass) -> Colour { classColours[classCodes.firstIndex(of: c) ?? 0] }
    /// The colour key of the orientation (IPF) maps of `material`'s crystal system (nil: none drawn).
    public static func ipfKey(_ material: Material) -> Canvas? { ScanMapImages.ipfKey(material) }

    /// Reads a `patterns.csv` (or part file) into records, in file order.
    public static func readPatterns(_ path: String) throws -> [PatternRecord] {
        var out: [PatternRecord] = []
        try forEachPattern(path) { out.append($0) }
        return out
    }

    /// Streams the rows of a `patterns.csv` (or part file).
    public static func forEachPattern(_ path: String, _ body: (PatternRecord) throws -> Void) throws {
        var header: [String] = []
        try LineReader.forEachLine(path) { line, number in
            let fields = CSVTable.fields(of: Substring(line))
            if number == 0 { header = fields; return }
            try body(try PatternRecord(fields: fields, header: header, source: path))
        }
    }

    /// Writes results.h5 and the maps into `folder`, streaming the tables (memory holds the maps, not
    /// the rows); returns the paths written.
    /// Writes `results.h5` and the map images of a whole scan into `work/final`, then moves them
    /// into `folder`. Files of an earlier, unfinished finalisation are removed first, and a failure
    /// (a full disk) leaves none of them in `folder`: a results.h5 or map in place is a whole one.
    /// `materials`: the run's phases, the scan's material first.
    static func writeAll(patterns: String, peaks: String, folder: String, work: String, materials: [Material], title: String,
                         provenance: [String: Any] = [:]) throws -> [String] {
        let fm = FileManager.default
        let stage = (work as NSString).appendingPathComponent("final")
        func path(_ base: String, _ name: String) -> String { (base as NSString).appendingPathComponent(name) }
        func removePublished() { removeFinalOutputs(in: folder) }
        removePublished()
        try? fm.removeItem(atPath: stage)
        do {
            try fm.createDirectory(atPath: stage, withIntermediateDirectories: true)
            let written = try writeStaged(patterns: patterns, peaks: peaks, stage: stage, materials: materials, title: title, provenance: provenance)
            var published: [String] = []
            for file in written {
                let name = String(file.dropFirst(stage.count + 1))
                try fm.createDirectory(atPath: (path(folder, name) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try fm.moveItemReplacing(file, path(folder, name))
                published.append(path(folder, name))
            }
            try? fm.removeItem(atPath: stage)
            return published
        } catch var error as LaueError {
            removePublished()
            try? fm.removeItem(atPath: stage)
            // Name the output the user knows, not its staging copy.
            if let file = error.file, file.hasPrefix(stage + "/") { error.file = path(folder, String(file.dropFirst(stage.count + 1))) }
            throw error
        } catch {
            removePublished()
            try? fm.removeItem(atPath: stage)
            throw error
        }
    }

    static let resultsFileName = "results.h5"
    /// The orientation map for MTEX / orix / Channel 5 (lab frame; `lauemap scan export` for others).
    static let orientationsFileName = "orientations.ctf"
    static let angFileName = "orientations.ang"
    /// The folder of the run's HTML report (written by `lauemap scan run`; removed with the other final
    /// outputs so that a rerun never leaves the report of an earlier run).
    public static let reportFolder = "report"
    /// One row per grain (`OrientationAnalytics`).
    static let grainsFileName = "grains.csv"

    /// grains.csv: id, cells, area, centroid, mean orientation (Bunge angles, lab frame, as in the
    /// .ctf) and GROD statistics of each grain.
    static func grainsCSV(_ maps: ScanMaps, material: Material) -> String {
        var t = CSVTable(header: ["grain_id", "n_cells", "area_um2", "x_um", "y_um", "euler1_deg", "euler2_deg", "euler3_deg",
                                  "grod_mean_deg", "grod_max_deg", "kam_mean_deg"])
        let g = maps.grid
        let step = g.step
        let kam = maps.scalarMaps.first { $0.0 == "kam_deg" }?.2 ?? []
        for grain in maps.grains {
            let xs = grain.cells.map { g.xs[$0 % g.columns] }, ys = grain.cells.map { g.ys[$0 / g.columns] }
            let n = Double(grain.cells.count)
            let (a, b, c) = OrientationMapExport.bungeAngles(OrientationMapExport.sampleToCrystal(grain.meanOrientation, lattice: material.lattice))
            let kams = grain.cells.compactMap { kam.indices.contains($0) && kam[$0].isFinite ? kam[$0] : nil }
            t.rows.append(["\(grain.id)", "\(grain.cells.count)", String(format: "%.4f", n * max(step.x, 0) * max(step.y, 0)),
                           String(format: "%.4f", xs.reduce(0, +) / n), String(format: "%.4f", ys.reduce(0, +) / n),
                           String(format: "%.4f", a), String(format: "%.4f", b), String(format: "%.4f", c),
                           String(format: "%.5f", grain.meanGROD), String(format: "%.5f", grain.maximumGROD),
                           kams.isEmpty ? "" : String(format: "%.5f", kams.reduce(0, +) / Double(kams.count))])
        }
        return t.text
    }

    /// Maps, pattern and spot columns holding counts or indices: int32 in results.h5, -1 where empty.
    static let integerMaps: Set<String> = ["n_indexed", "pattern_index", "grain_id"]
    static let integerColumns: Set<String> = ["pattern_index", "n_peaks", "n_indexed", "n_orientations", "depth_tail",
                                              "h", "k", "l", "n_subpeaks", "saturated", "label_code"]

    /// A count or index as stored in results.h5 (-1 for an empty value).
    static func integer(_ v: Double) -> Int32 { v.isFinite && abs(v) < 2e9 ? Int32(v.rounded()) : -1 }

    /// The maps of results.h5 as NeXus shows them (class first: the default plot).
    static func nexusMaps(_ maps: ScanMaps, channels: [String]) -> [NeXus.Map] {
        [NeXus.Map(name: "class", dataset: "/maps/class", interpretation: .categories, title: "defect class")]
            + maps.scalarMaps.map { NeXus.Map(name: $0.0, dataset: "/maps/" + $0.0) }
            + [NeXus.Map(name: "ipf_rgb", dataset: "/maps/ipf_rgb", interpretation: .rgb, title: "IPF colour of the lab z axis"),
               NeXus.Map(name: "ipf_x_rgb", dataset: "/maps/ipf_x_rgb", interpretation: .rgb, title: "IPF colour of the lab x axis"),
               NeXus.Map(name: "ipf_y_rgb", dataset: "/maps/ipf_y_rgb", interpretation: .rgb, title: "IPF colour of the lab y axis")]
            + channels.map { NeXus.Map(name: ScanChannels.columnPrefix + $0, dataset: "/maps/" + ScanChannels.columnPrefix + $0) }
    }

    /// Removes the results.h5 and map images a finalisation writes into `folder` (other files stay).
    static func removeFinalOutputs(in folder: String) {
        for name in [resultsFileName, orientationsFileName, angFileName, grainsFileName, reportFolder, "maps/" + phaseMapsFolder] + Canvas.figurePaths("maps/" + phaseMapFileName)
                + ScanMapImages.fileNames.map({ "maps/" + $0 }) {
            try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(name))
        }
    }

    /// The map of which phase each cell's row is about (runs of several phases), and the folder of the
    /// other phases' maps (`maps/phases/<name>/`; in results.h5 `/maps/phases/<name>/`).
    static let phaseMapFileName = "phase.png"
    static let phaseMapsFolder = "phases"

    /// Writes results.h5 and maps/*.png into `stage`; returns their paths. The maps are those of the
    /// scan's material (`materials[0]`); with several phases, `/maps/phase` says which phase each cell's
    /// row is about and every other phase found has the same maps of its own rows.
    static func writeStaged(patterns: String, peaks: String, stage: String, materials: [Material], title: String,
                            provenance: [String: Any] = [:]) throws -> [String] {
        let material = materials[0]
        var xs: [Double] = [], ys: [Double] = []
        try forEachPattern(patterns) { xs.append($0.xUm); ys.append($0.yUm) }
        let grid = ScanGrid(x: xs, y: ys)
        let count = xs.count
        xs = []; ys = []
        var maps = ScanMaps(grid: grid, phase: material.name)
        var phaseMaps = materials.dropFirst().map { ScanMaps(grid: grid, phase: $0.name) }
        var phaseCodes = [Int](repeating: -1, count: grid.rows * grid.columns)
        var rowPhases = Set<String>()                 // phases some row is about
        var channels: [String: [Double]] = [:]        // recorded channels, as maps
        var channelColumns: [String: [Double]] = [:]  // and as columns of /patterns
        let h5 = (stage as NSString).appendingPathComponent(resultsFileName)
        try HDF5File.create(atomically: h5) { f in
            try f.setAttribute("creator", "LaueMap scan run")
            try f.setAttribute("description", "Laue microdiffraction defect map: per-pattern table, indexed spots, 2-D maps (docs/scan-pipeline.md)")
            let table = try PatternTableWriter(file: f, count: count)
            var k = 0
            try forEachPattern(patterns) { r in
                try table.append(r)
                for (name, v) in r.channels { channelColumns[name, default: [Double](repeating: .nan, count: count)][k] = v }
                if r.status == .indexed { rowPhases.insert(r.phase) }
                if let cell = grid.cells[k] {
                    maps.add(r, cell: cell)
                    for m in phaseMaps.indices { phaseMaps[m].add(r, cell: cell) }
                    if r.status == .indexed { phaseCodes[cell.row * grid.columns + cell.column] = materials.firstIndex { $0.name == r.phase } ?? 0 }
                    for (name, v) in r.channels {
                        channels[name, default: [Double](repeating: .nan, count: grid.rows * grid.columns)][cell.row * grid.columns + cell.column] = v
                    }
                }
                k += 1
            }
            try table.finish()
            // Other phases get maps where some row is about them (a phase found only beside the scan's
            // material is listed in other_grains, and its maps would be empty).
            phaseMaps.removeAll { !rowPhases.contains($0.phase!) }
            maps.finish(material: material)
            for m in phaseMaps.indices { phaseMaps[m].finish(material: materials.first { $0.name == phaseMaps[m].phase }!) }
            try writePeaks(from: peaks, into: f)
            try writeMaps(maps, into: f, severalPhases: materials.count > 1)
            if materials.count > 1 {
                try f.write(phaseCodes.map(Int32.init), shape: [grid.rows, grid.columns], to: "/maps/phase")
                try f.setAttribute("legend", materials.enumerated().map { "\($0.offset)=\($0.element.name)" }.joined(separator: ";") + ";-1=not indexed",
                                   on: "/maps/phase")
                try f.setAttribute("description", "the phase each cell's row is about (the scan's material where found)", on: "/maps/phase")
                try f.setAttribute("axes", "y_um,x_um (rows, columns)", on: "/maps/phase")
                try f.createGroup("/maps/" + phaseMapsFolder)
                for m in phaseMaps { try writeMaps(m, into: f, group: "/maps/\(phaseMapsFolder)/\(m.phase!)", severalPhases: true) }
            }
            for (name, values) in channelColumns.sorted(by: { $0.key < $1.key }) {
                try f.write(values, to: "/patterns/" + ScanChannels.columnPrefix + name)
            }
            for (name, values) in channels.sorted(by: { $0.key < $1.key }) {
                let d = "/maps/" + ScanChannels.columnPrefix + name
                try f.write(values, shape: [grid.rows, grid.columns], to: d)
                try f.setAttribute("description", "channel \(name) recorded with the scan (one value per pattern); NaN where no pattern", on: d)
                try f.setAttribute("axes", "y_um,x_um (rows, columns)", on: d)
            }
            try NeXus.describe(f, title: title, maps: nexusMaps(maps, channels: channels.keys.sorted()), x: "/maps/x_um", y: "/maps/y_um",
                               defaultMap: "class")
            if !provenance.isEmpty {
                try f.writeStrings([Provenance.text(provenance)], to: "/entry/provenance")
                try f.setAttribute("description", "JSON: LaueMap version, scan and inputs (checksum), material, calibration, every setting (docs/scan-pipeline.md); command lines and times are in run.json",
                                   on: "/entry/provenance")
            }
        }
        let mapsFolder = (stage as NSString).appendingPathComponent("maps")
        var pngs = try ScanMapImages.write(maps, folder: mapsFolder, title: title, material: material)
        if materials.count > 1 {
            let figure = MapFigure(title: "\(title): phase", columns: grid.columns, rows: grid.rows, xs: grid.xs, ys: grid.ys)
            let path = (mapsFolder as NSString).appendingPathComponent(phaseMapFileName)
            pngs += try figure.categorical(phaseCodes, keys: materials.map(\.name), colours: ScanMapImages.phaseColours).writeFigure(to: path)
            for m in phaseMaps {
                let phase = materials.first { $0.name == m.phase }!
                let folder = ((mapsFolder as NSString).appendingPathComponent(phaseMapsFolder) as NSString).appendingPathComponent(phase.name)
                pngs += try ScanMapImages.write(m, folder: folder, title: "\(title) (\(phase.name))", material: phase)
            }
        }
        let grainsTable = (stage as NSString).appendingPathComponent(grainsFileName)
        try AtomicFile.write(grainsCSV(maps, material: material), to: grainsTable)
        let records = try readPatterns(patterns)
        let ctf = (stage as NSString).appendingPathComponent(orientationsFileName)
        try AtomicFile.write(OrientationMapExport.ctf(records: records, materials: materials, title: title), to: ctf)
        let ang = (stage as NSString).appendingPathComponent(angFileName)
        try AtomicFile.write(OrientationMapExport.ang(records: records, materials: materials, title: title), to: ang)
        return [h5, ctf, ang, grainsTable] + pngs
    }

    /// Writes `maps` into `group` of `f` (`/maps`, or `/maps/phases/<name>` for another phase).
    /// With `severalPhases`, a cell of a row about another phase is -1 too (the legend says so).
    static func writeMaps(_ maps: ScanMaps, into f: HDF5File, group: String = "/maps", severalPhases: Bool = false) throws {
        try f.createGroup(group)
        try f.write(maps.grid.xs, to: group + "/x_um"); try f.setAttribute("units", NeXus.Unit.micrometre, on: group + "/x_um")
        try f.write(maps.grid.ys, to: group + "/y_um"); try f.setAttribute("units", NeXus.Unit.micrometre, on: group + "/y_um")
        let shape = [maps.grid.rows, maps.grid.columns]
        try f.write(maps.classCodes.map(Int32.init), shape: shape, to: group + "/class")
        try f.setAttribute("legend", classCodes.enumerated().map { "\($0.offset)=\($0.element.rawValue)" }.joined(separator: ";")
                           + (severalPhases ? ";-1=no pattern, or a pattern about another phase (/maps/phase)" : ";-1=no pattern"), on: group + "/class")
        for (name, unit, values) in maps.scalarMaps {
            if integerMaps.contains(name) {
                try f.write(values.map(integer), shape: shape, to: group + "/" + name)
                try f.setAttribute("description", "\(name) per cell; -1 where undefined", on: group + "/" + name)
            } else {
                try f.write(values, shape: shape, to: group + "/" + name)
            }
            if !unit.isEmpty { try f.setAttribute("units", unit, on: group + "/" + name) }
        }
        for (name, values, axis) in [("ipf_rgb", maps.ipf, "z"), ("ipf_x_rgb", maps.ipfX, "x"), ("ipf_y_rgb", maps.ipfY, "y")] {
            try f.write(values.map { $0.isFinite ? UInt8(max(0, min(255, ($0 * 255).rounded()))) : 0 }, shape: shape + [3], to: group + "/" + name)
            try f.setAttribute("description", "inverse pole figure colour of the lab \(axis) axis (docs/scan-pipeline.md); 0 where not indexed",
                               on: group + "/" + name)
        }
        for d in [group + "/class", group + "/ipf_rgb", group + "/ipf_x_rgb", group + "/ipf_y_rgb"] + maps.scalarMaps.map({ group + "/" + $0.0 }) {
            try f.setAttribute("axes", "y_um,x_um (rows, columns)", on: d)
        }
        if let mean = maps.meanOrientation { try f.write(mean.flat, shape: [3, 3], to: group + "/mean_orientation_matrix") }
    }

    static func writePeaks(from path: String, into f: HDF5File) throws {
        var count = 0
        try LineReader.forEachLine(path) { _, number in if number > 0 { count += 1 } }
        try f.createGroup("/peaks")
        // Text columns stay in peaks.csv only (sub-peak offsets: a list per spot).
        let numeric = SpotRecord.columns.filter { !["file", "label", "saturated", "subpeak_offsets_px"].contains($0) }
        let names = numeric + ["saturated", "label_code"]
        for name in names {
            if integerColumns.contains(name) {
                try f.createDataset("/peaks/" + name, type: Int32.self, shape: [max(count, 1)], chunk: [4096], gzipLevel: 4)
            } else {
                try f.createDataset("/peaks/" + name, type: Double.self, shape: [max(count, 1)], chunk: [4096], gzipLevel: 4)
            }
        }
        let labels = ["", "sharp", "broad_isotropic", "streak", "split2", "split2_streak", "multi", "unclassified"]
        try f.setAttribute("legend", labels.enumerated().map { "\($0.offset)=\($0.element.isEmpty ? "not used" : $0.element)" }.joined(separator: ";"),
                           on: "/peaks/label_code")
        let index = Dictionary(uniqueKeysWithValues: SpotRecord.columns.enumerated().map { ($1, $0) })
        var buffer: [[Double]] = names.map { _ in [] }
        var offset = 0
        func flush() throws {
            for (k, name) in names.enumerated() {
                if integerColumns.contains(name) { try f.writeRange(buffer[k].map(integer), to: "/peaks/" + name, offset: offset) }
                else { try f.writeRange(buffer[k], to: "/peaks/" + name, offset: offset) }
            }
            offset += buffer[0].count
            for k in buffer.indices { buffer[k].removeAll(keepingCapacity: true) }
        }
        try LineReader.forEachLine(path) { line, number in
            guard number > 0 else { return }
            let fields = CSVTable.fields(of: Substring(line))
            guard SpotRecord.isComplete(fieldCount: fields.count) else { return }
            for (k, name) in numeric.enumerated() { buffer[k].append(Double(fields[index[name]!]) ?? .nan) }
            buffer[numeric.count].append(fields[index["saturated"]!] == "1" ? 1 : 0)
            buffer[numeric.count + 1].append(Double(labels.firstIndex(of: fields[index["label"]!]) ?? 0))
            if buffer[0].count >= 4096 { try flush() }
        }
        try flush()
    }
}

/// `/patterns` of results.h5, written in blocks as rows stream in.
final class PatternTableWriter {
    let file: HDF5File
    let count: Int
    var offset = 0
    static let block = 4096
    static let strings = ["file", "status", "class", "reason", "tilts_deg", "indexed_by"]
    nonisolated(unsafe) static let numbers: [(String, String, (PatternRecord) -> Double?)] = [
        ("pattern_index", "", { Double($0.index) }), ("x_um", NeXus.Unit.micrometre, \.xUm), ("y_um", NeXus.Unit.micrometre, \.yUm),
        ("confidence", "", \.confidence), ("n_peaks", "", { $0.peakCount.map(Double.init) }),
        ("n_indexed", "", { $0.indexedCount.map(Double.init) }), ("mean_deviation_px", "pixel", \.meanDeviation),
        ("streak_extent_deg", NeXus.Unit.degree, \.streakExtent), ("axis_lab_x", "", { $0.axisLab?.x }), ("axis_lab_y", "", { $0.axisLab?.y }),
        ("axis_lab_z", "", { $0.axisLab?.z }), ("axis_h", "", { $0.axisIndices?.x }), ("axis_k", "", { $0.axisIndices?.y }),
        ("axis_l", "", { $0.axisIndices?.z }), ("spread_deg", NeXus.Unit.degree, \.spread), ("tilt_deg", NeXus.Unit.degree, \.tilt),
        ("n_orientations", "", { $0.orientationCount.map(Double.init) }), ("gnd_density_m2", "m^-2", \.gndDensity),
        ("matching_rate", "", \.matchingRate), ("psf_sigma_px", "pixel", \.psfSigma),
        ("depth_tail", "", { $0.depthTail != nil ? 1 : ($0.peakCount != nil ? 0 : nil) }), ("depth_tail_px", "pixel", \.depthTail), ("depth_tail_deg", NeXus.Unit.degree, \.depthTailAngle),
        ("strain_xx", "", { $0.strain.count == 6 ? $0.strain[0] : nil }), ("strain_yy", "", { $0.strain.count == 6 ? $0.strain[1] : nil }),
        ("strain_zz", "", { $0.strain.count == 6 ? $0.strain[2] : nil }), ("strain_yz", "", { $0.strain.count == 6 ? $0.strain[3] : nil }),
        ("strain_xz", "", { $0.strain.count == 6 ? $0.strain[4] : nil }), ("strain_xy", "", { $0.strain.count == 6 ? $0.strain[5] : nil }),
        ("strain_equivalent", "", \.strainEquivalent),
        ("strain_sample_xx", "", { $0.strainSample.count == 6 ? $0.strainSample[0] : nil }), ("strain_sample_yy", "", { $0.strainSample.count == 6 ? $0.strainSample[1] : nil }),
        ("strain_sample_zz", "", { $0.strainSample.count == 6 ? $0.strainSample[2] : nil }), ("strain_sample_yz", "", { $0.strainSample.count == 6 ? $0.strainSample[3] : nil }),
        ("strain_sample_xz", "", { $0.strainSample.count == 6 ? $0.strainSample[4] : nil }), ("strain_sample_xy", "", { $0.strainSample.count == 6 ? $0.strainSample[5] : nil }),
    ]
    var text: [[String]] = strings.map { _ in [] }
    var values: [[Double]] = numbers.map { _ in [] }
    var matrices: [Double] = []

    init(file: HDF5File, count: Int) throws {
        self.file = file; self.count = count
        try file.createGroup("/patterns")
        for name in PatternTableWriter.strings { try file.createStringDataset("/patterns/" + name, count: max(count, 1)) }
        for (name, unit, _) in PatternTableWriter.numbers {
            if ScanOutputs.integerColumns.contains(name) {
                try file.createDataset("/patterns/" + name, type: Int32.self, shape: [max(count, 1)], chunk: [PatternTableWriter.block])
                try file.setAttribute("description", "\(name); -1 where empty in patterns.csv", on: "/patterns/" + name)
            } else {
                try file.createDataset("/patterns/" + name, type: Double.self, shape: [max(count, 1)], chunk: [PatternTableWriter.block])
            }
            if !unit.isEmpty { try file.setAttribute("units", unit, on: "/patterns/" + name) }
        }
        try file.createDataset("/patterns/orientation_matrix", type: Double.self, shape: [max(count, 1), 3, 3], chunk: [1024, 3, 3])
        try file.setAttribute("description", "LaueTools UB per pattern (q_lab = UB B0 hkl); NaN when not indexed", on: "/patterns/orientation_matrix")
    }

    func append(_ r: PatternRecord) throws {
        let t = [r.file, r.status.rawValue, r.defectClass.rawValue, r.reason, r.tilts.map { String(format: "%.5f", $0) }.joined(separator: ";"),
                 r.indexedBy?.rawValue ?? ""]
        for k in t.indices { text[k].append(t[k]) }
        for (k, c) in PatternTableWriter.numbers.enumerated() { values[k].append(c.2(r) ?? .nan) }
        matrices += r.orientation?.flat ?? [Double](repeating: .nan, count: 9)
        if text[0].count >= PatternTableWriter.block { try flush() }
    }

    func flush() throws {
        guard !text[0].isEmpty else { return }
        for (k, name) in PatternTableWriter.strings.enumerated() { try file.writeStrings(text[k], to: "/patterns/" + name, offset: offset) }
        for (k, c) in PatternTableWriter.numbers.enumerated() {
            if ScanOutputs.integerColumns.contains(c.0) { try file.writeRange(values[k].map(ScanOutputs.integer), to: "/patterns/" + c.0, offset: offset) }
            else { try file.writeRange(values[k], to: "/patterns/" + c.0, offset: offset) }
        }
        try file.writeSlices(matrices, to: "/patterns/orientation_matrix", offset: offset, count: text[0].count)
        offset += text[0].count
        for k in text.indices { text[k].removeAll(keepingCapacity: true) }
        for k in values.indices { values[k].removeAll(keepingCapacity: true) }
        matrices.removeAll(keepingCapacity: true)
    }

    func finish() throws { try flush() }
}

/// Maps of one scan on its raster, filled pattern by pattern.
public struct ScanMaps: Sendable {
    public var grid: ScanGrid
    /// Class codes (index into `ScanOutputs.classCodes`, -1 where no pattern lies), row-major.
    public var classCodes: [Int]
    /// (name, unit, values) row-major, NaN where undefined.
    public var scalarMaps: [(String, String, [Double])]
    /// IPF colours of the lab z axis, row-major RGB triples (0...1), NaN where not indexed; `ipfX`,
    /// `ipfY` those of the lab x and y axes.
    public var ipf: [Double]
    public var ipfX: [Double]
    public var ipfY: [Double]
    public var meanOrientation: Mat3?
    /// Grains by misorientation (`OrientationAnalytics`), after `finish`.
    public var grains: [OrientationAnalytics.Grain] = []
    /// Orientation (UB) per cell, for the mean, the misorientation and the IPF colours.
    var orientations: [Mat3?]
    /// The phase whose rows fill the maps (nil: every row): a row indexed as another phase leaves its
    /// cell empty; unindexed and failed rows are shown in every phase's class map.
    public var phase: String?

    static let scalarNames: [(String, String)] = [("streak_extent_deg", NeXus.Unit.degree), ("mean_deviation_px", "pixel"),
        ("misorientation_deg", NeXus.Unit.degree), ("confidence", ""), ("spread_deg", NeXus.Unit.degree), ("tilt_deg", NeXus.Unit.degree),
        ("gnd_density_m2", "m^-2"), ("n_indexed", ""), ("pattern_index", ""), ("strain_equivalent", ""),
        ("kam_deg", NeXus.Unit.degree), ("grod_deg", NeXus.Unit.degree), ("grain_id", ""), ("gnd_gradient_m2", "m^-2")]
        + ScanMaps.strainComponents.map { ("strain_" + $0, "") } + ScanMaps.strainComponents.map { ("strain_sample_" + $0, "") }

    /// Components of the deviatoric strain maps (crystal frame and LaueTools' sample2 frame).
    static let strainComponents = ["xx", "yy", "zz", "yz", "xz", "xy"]

    /// Empty maps on `grid`; fill with `add`, then `finish`.
    public init(grid: ScanGrid, phase: String? = nil) {
        self.grid = grid
        self.phase = phase
        let n = grid.rows * grid.columns
        classCodes = [Int](repeating: -1, count: n)
        scalarMaps = ScanMaps.scalarNames.map { ($0.0, $0.1, [Double](repeating: .nan, count: n)) }
        ipf = [Double](repeating: .nan, count: n * 3)
        ipfX = ipf
        ipfY = ipf
        orientations = [Mat3?](repeating: nil, count: n)
    }

    /// Maps of `records` (all in memory); with `phase`, of the rows about that phase on the grid of all.
    public init(records: [PatternRecord], material: Material, phase: String? = nil) {
        let g = ScanGrid(x: records.map(\.xUm), y: records.map(\.yUm))
        self.init(grid: g, phase: phase)
        for (r, cell) in zip(records, g.cells) { if let cell { add(r, cell: cell) } }
        finish(material: material)
    }

    public mutating func add(_ r: PatternRecord, cell c: (column: Int, row: Int)) {
        if let phase, r.status == .indexed, !r.phase.isEmpty, r.phase != phase { return }
        let i = c.row * grid.columns + c.column
        classCodes[i] = ScanOutputs.classCodes.firstIndex(of: r.defectClass) ?? -1
        let v: [Double?] = [r.streakExtent, r.meanDeviation, nil, r.confidence, r.spread, r.tilt, r.gndDensity,
                            r.indexedCount.map(Double.init), Double(r.index), r.strainEquivalent]
        for k in v.indices { scalarMaps[k].2[i] = v[k] ?? .nan }
        for (prefix, tensor) in [("strain_", r.strain), ("strain_sample_", r.strainSample)] where tensor.count == 6 {
            for (c, name) in ScanMaps.strainComponents.enumerated() {
                if let k = scalarMaps.firstIndex(where: { $0.0 == prefix + name }) { scalarMaps[k].2[i] = tensor[c] }
            }
        }
        orientations[i] = r.orientation
    }

    /// Mean orientation, misorientation to it, IPF colours.
    public mutating func finish(material: Material) {
        let analytics = OrientationAnalytics(orientations: orientations, columns: grid.columns, rows: grid.rows, material: material,
                                             step: grid.step)
        for (name, values) in [("kam_deg", analytics.kam), ("grod_deg", analytics.grod), ("grain_id", analytics.grainID.map { $0 < 0 ? .nan : Double($0) }),
                               ("gnd_gradient_m2", analytics.gndGradient)] {
            if let k = scalarMaps.firstIndex(where: { $0.0 == name }) { scalarMaps[k].2 = values }
        }
        grains = analytics.grains
        let present = orientations.compactMap { $0 }
        meanOrientation = OrientationStatistics.mean(present, material: material)
        guard let mean = meanOrientation else { return }
        for (i, u) in orientations.enumerated() {
            guard let u else { continue }
            scalarMaps[2].2[i] = material.misorientation(LinearAlgebra.nearestRotation(u), mean)
        }
        ipfX = ipfColours(of: Vec3(1, 0, 0), material: material)
        ipfY = ipfColours(of: Vec3(0, 1, 0), material: material)
        ipf = ipfColours(of: Vec3(0, 0, 1), material: material)
    }

    /// IPF colours of the lab direction `direction` per cell (row-major RGB triples, NaN where not indexed).
    public func ipfColours(of direction: Vec3, material: Material) -> [Double] {
        var colours = [Double](repeating: .nan, count: 3 * orientations.count)
        for (i, u) in orientations.enumerated() {
            guard let u else { continue }
            let (r, g, b) = OrientationStatistics.ipfColour(u, direction: direction, material: material)
            colours[3 * i] = r; colours[3 * i + 1] = g; colours[3 * i + 2] = b
        }
        return colours
    }

    public func scalar(_ name: String) -> [Double]? { scalarMaps.first { $0.0 == name }?.2 }
}
