import Foundation
import LaueCore
import LaueIO

/// The whole-scan outputs built from the pattern and peak tables: `results.h5` and the PNG maps.
public enum ScanOutputs {
    /// Integer codes of the classes in the HDF5 class map (attribute `legend` on the dataset).
    public static let classCodes: [DefectClass] = [.noDefect, .gnd, .tiltBoundary, .tiltBoundaryGND, .stackingTiltBoundaries,
                                                   .randomDislocations, .unclassified, .unindexed, .failed]

    /// Reads a `patterns.csv` (or part file) into records, in file order.
    public static func readPatterns(_ path: String) throws -> [PatternRecord] {
        let table = try CSVTable.read(path: path)
        return try table.rows.map { try PatternRecord(fields: $0, header: table.header, source: path) }
    }

    /// Writes results.h5 and the maps into `folder`; returns the paths written.
    static func writeAll(patterns: String, peaks: String, folder: String, material: Material, title: String) throws -> [String] {
        let records = try readPatterns(patterns)
        let maps = ScanMaps(records: records, material: material)
        let h5 = (folder as NSString).appendingPathComponent("results.h5")
        try writeHDF5(records: records, peaks: peaks, maps: maps, to: h5)
        let pngs = try ScanMapImages.write(maps, folder: (folder as NSString).appendingPathComponent("maps"), title: title, material: material)
        return [h5] + pngs
    }

    /// `results.h5`: /patterns (one 1-D dataset per column of patterns.csv), /peaks (the same for
    /// peaks.csv, streamed), /maps (2-D maps rows x columns with x_um, y_um coordinates; units as
    /// attributes). Written to a temporary file and renamed.
    static func writeHDF5(records: [PatternRecord], peaks: String, maps: ScanMaps, to path: String) throws {
        try AtomicFile.write(to: path) { temp in
            let f = try HDF5File(path: temp, mode: .create)
            try f.setAttribute("creator", "LaueMap scan run")
            try f.setAttribute("description", "Laue microdiffraction defect map: per-pattern table, indexed spots, 2-D maps (docs/scan-pipeline.md)")
            // Pattern table.
            let n = records.count
            try f.createGroup("/patterns")
            try f.writeStrings(records.map(\.file), to: "/patterns/file")
            try f.writeStrings(records.map(\.status.rawValue), to: "/patterns/status")
            try f.writeStrings(records.map(\.defectClass.rawValue), to: "/patterns/class")
            try f.writeStrings(records.map(\.reason), to: "/patterns/reason")
            try f.writeStrings(records.map { $0.tilts.map { String(format: "%.5f", $0) }.joined(separator: ";") }, to: "/patterns/tilts_deg")
            func column(_ name: String, _ unit: String, _ v: (PatternRecord) -> Double?) throws {
                try f.write(records.map { v($0) ?? .nan }, to: "/patterns/" + name)
                try f.setAttribute("units", unit, on: "/patterns/" + name)
            }
            try column("pattern_index", "", { Double($0.index) })
            try column("x_um", "micrometre", \.xUm); try column("y_um", "micrometre", \.yUm)
            try column("confidence", "", \.confidence)
            try column("n_peaks", "", { $0.peakCount.map(Double.init) }); try column("n_indexed", "", { $0.indexedCount.map(Double.init) })
            try column("mean_deviation_px", "pixel", \.meanDeviation); try column("streak_extent_deg", "degree", \.streakExtent)
            try column("axis_lab_x", "", { $0.axisLab?.x }); try column("axis_lab_y", "", { $0.axisLab?.y }); try column("axis_lab_z", "", { $0.axisLab?.z })
            try column("axis_h", "", { $0.axisIndices?.x }); try column("axis_k", "", { $0.axisIndices?.y }); try column("axis_l", "", { $0.axisIndices?.z })
            try column("spread_deg", "degree", \.spread); try column("tilt_deg", "degree", \.tilt)
            try column("n_orientations", "", { $0.orientationCount.map(Double.init) })
            try column("gnd_density_m2", "m^-2", \.gndDensity)
            try column("matching_rate", "", \.matchingRate); try column("psf_sigma_px", "pixel", \.psfSigma)
            var u = [Double](repeating: .nan, count: n * 9)
            for (i, r) in records.enumerated() { if let m = r.orientation { for k in 0..<9 { u[i * 9 + k] = m.flat[k] } } }
            try f.write(u, shape: [n, 3, 3], to: "/patterns/orientation_matrix")
            try f.setAttribute("description", "LaueTools UB per pattern (q_lab = UB B0 hkl); NaN when not indexed", on: "/patterns/orientation_matrix")

            // Peak table, streamed from the CSV.
            try writePeaks(from: peaks, into: f)

            // Maps.
            try f.createGroup("/maps")
            try f.write(maps.grid.xs, to: "/maps/x_um"); try f.setAttribute("units", "micrometre", on: "/maps/x_um")
            try f.write(maps.grid.ys, to: "/maps/y_um"); try f.setAttribute("units", "micrometre", on: "/maps/y_um")
            let shape = [maps.grid.rows, maps.grid.columns]
            try f.write(maps.classCodes.map(Int32.init), shape: shape, to: "/maps/class")
            try f.setAttribute("legend", classCodes.enumerated().map { "\($0.offset)=\($0.element.rawValue)" }.joined(separator: ";") + ";-1=no pattern",
                               on: "/maps/class")
            for (name, unit, values) in maps.scalarMaps {
                try f.write(values, shape: shape, to: "/maps/" + name)
                try f.setAttribute("units", unit, on: "/maps/" + name)
            }
            try f.write(maps.ipf.map { UInt8(max(0, min(255, ($0 * 255).rounded()))) }, shape: shape + [3], to: "/maps/ipf_rgb")
            try f.setAttribute("description", "inverse pole figure colour of the lab z axis (docs/scan-pipeline.md)", on: "/maps/ipf_rgb")
            for d in ["/maps/class", "/maps/ipf_rgb"] + maps.scalarMaps.map({ "/maps/" + $0.0 }) {
                try f.setAttribute("axes", "y_um,x_um (rows, columns)", on: d)
            }
            if let mean = maps.meanOrientation { try f.write(mean.flat, shape: [3, 3], to: "/maps/mean_orientation_matrix") }
        }
    }

    static func writePeaks(from path: String, into f: HDF5File) throws {
        var count = 0
        try LineReader.forEachLine(path) { _, number in if number > 0 { count += 1 } }
        try f.createGroup("/peaks")
        let numeric = SpotRecord.columns.filter { !["file", "label", "saturated"].contains($0) }
        let names = numeric + ["saturated", "label_code"]
        for name in names {
            try f.createDataset("/peaks/" + name, type: Double.self, shape: [max(count, 1)], chunk: [65536], gzipLevel: 4)
        }
        let labels = ["", "sharp", "broad_isotropic", "streak", "split2", "split2_streak", "multi", "unclassified"]
        try f.setAttribute("legend", labels.enumerated().map { "\($0.offset)=\($0.element.isEmpty ? "not used" : $0.element)" }.joined(separator: ";"),
                           on: "/peaks/label_code")
        let index = Dictionary(uniqueKeysWithValues: SpotRecord.columns.enumerated().map { ($1, $0) })
        var buffer: [[Double]] = names.map { _ in [] }
        var offset = 0
        func flush() throws {
            for (k, name) in names.enumerated() { try f.writeRange(buffer[k], to: "/peaks/" + name, offset: offset) }
            offset += buffer[0].count
            for k in buffer.indices { buffer[k].removeAll(keepingCapacity: true) }
        }
        try LineReader.forEachLine(path) { line, number in
            guard number > 0 else { return }
            let fields = CSVTable.fields(of: Substring(line))
            guard fields.count == SpotRecord.columns.count else { return }
            for (k, name) in numeric.enumerated() { buffer[k].append(Double(fields[index[name]!]) ?? .nan) }
            buffer[numeric.count].append(fields[index["saturated"]!] == "1" ? 1 : 0)
            buffer[numeric.count + 1].append(Double(labels.firstIndex(of: fields[index["label"]!]) ?? 0))
            if buffer[0].count >= 65536 { try flush() }
        }
        try flush()
    }
}

/// Maps of one scan on its raster.
public struct ScanMaps: Sendable {
    public var grid: ScanGrid
    /// Class codes (index into `ScanOutputs.classCodes`, -1 where no pattern lies), row-major.
    public var classCodes: [Int]
    /// (name, unit, values) row-major, NaN where undefined.
    public var scalarMaps: [(String, String, [Double])]
    /// IPF colours, row-major RGB triples (0...1), NaN where not indexed.
    public var ipf: [Double]
    public var meanOrientation: Mat3?
    public var records: Int

    public init(records: [PatternRecord], material: Material) {
        grid = ScanGrid(x: records.map(\.xUm), y: records.map(\.yUm))
        self.records = records.count
        var codes = [Int](repeating: -1, count: grid.rows * grid.columns)
        for (r, c) in zip(records, grid.cells) { codes[c.row * grid.columns + c.column] = ScanOutputs.classCodes.firstIndex(of: r.defectClass) ?? -1 }
        classCodes = codes
        let indexed = records.filter { $0.orientation != nil }
        let mean = OrientationStatistics.mean(indexed.map { $0.orientation! }, material: material)
        meanOrientation = mean
        let mis = records.map { r -> Double? in
            guard let u = r.orientation, let m = mean else { return nil }
            return material.misorientation(LinearAlgebra.nearestRotation(u), m)
        }
        let g = grid
        func m(_ v: (PatternRecord) -> Double?) -> [Double] { g.map(records.map { v($0) ?? .nan }) }
        scalarMaps = [
            ("streak_extent_deg", "degree", m(\.streakExtent)),
            ("mean_deviation_px", "pixel", m(\.meanDeviation)),
            ("misorientation_deg", "degree", g.map(mis.map { $0 ?? .nan })),
            ("confidence", "", m(\.confidence)),
            ("spread_deg", "degree", m(\.spread)),
            ("tilt_deg", "degree", m(\.tilt)),
            ("gnd_density_m2", "m^-2", m(\.gndDensity)),
            ("n_indexed", "", m { $0.indexedCount.map(Double.init) }),
            ("pattern_index", "", m { Double($0.index) }),
        ]
        var colours = [Double](repeating: .nan, count: grid.rows * grid.columns * 3)
        for (r, c) in zip(records, grid.cells) {
            guard let u = r.orientation else { continue }
            let (red, green, blue) = OrientationStatistics.ipfColour(u, material: material)
            let k = (c.row * grid.columns + c.column) * 3
            colours[k] = red; colours[k + 1] = green; colours[k + 2] = blue
        }
        ipf = colours
    }

    public func scalar(_ name: String) -> [Double]? { scalarMaps.first { $0.0 == name }?.2 }
}
