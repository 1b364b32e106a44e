import Foundation
import LaueCore
import LaueIO
import LaueRendering

/// Writes an edge map as HDF5 (h5py-readable, units and grid as attributes), CSV (one row per
/// pixel) and PNG maps with colour bars.
public enum EdgeMapOutputs {
    nonisolated(unsafe) static let layers: [(name: String, unit: String, label: String, values: (EdgeMap) -> [Double])] = [
        ("edge_energy", "eV", "half-height edge energy", \.edgeEnergy),
        ("derivative_e0", "eV", "max-derivative E0", \.derivativeEnergy),
        ("white_line", "eV", "white-line energy", \.whiteLineEnergy),
        ("edge_step", "", "edge step", \.edgeStep),
        ("fraction", "", "first reference fraction", \.fraction),
        ("r_factor", "", "LCF R-factor", \.rFactor),
    ]

    /// Writes `edge_map.h5`, `edge_map.csv` and PNGs into `folder`; returns the paths written.
    @discardableResult
    public static func write(_ map: EdgeMap, to folder: String, title: String) throws -> [String] {
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let g = map.grid
        var written: [String] = []

        let h5 = (folder as NSString).appendingPathComponent("edge_map.h5")
        try HDF5File.create(atomically: h5) { f in
            try f.createGroup("/edge")
            try f.write(g.xs, to: "/edge/x_um")
            try f.write(g.ys, to: "/edge/y_um")
            for layer in layers {
                let path = "/edge/" + layer.name
                try f.write(layer.values(map), shape: [g.rows, g.columns], to: path)
                try f.setAttribute("units", layer.unit, on: path)
                try f.setAttribute("long_name", layer.label, on: path)
                try f.setAttribute("axes", "y_um,x_um", on: path)
            }
            try f.write(map.mask.map { UInt8($0.rawValue) }, shape: [g.rows, g.columns], to: "/edge/mask")
            try f.setAttribute("legend", PixelMask.allCases.map { "\($0.rawValue)=\($0.reason)" }.joined(separator: ";"), on: "/edge/mask")
            try f.setAttribute("step_um", [g.stepX, g.stepY], on: "/edge")
            try f.setAttribute("origin_um", [g.originX, g.originY], on: "/edge")
            let r = map.ranges
            try f.setAttribute("ranges_ev", [r.e0 ?? .nan, r.pre1 ?? .nan, r.pre2 ?? .nan, r.norm1 ?? .nan, r.norm2 ?? .nan, Double(r.nnorm ?? 0)], on: "/edge")
            try f.setAttribute("ranges_names", "e0,pre1,pre2,norm1,norm2,nnorm", on: "/edge")
            try f.write(map.meanSpectrum.energy, to: "/edge/mean_spectrum/energy")
            try f.write(map.meanSpectrum.mu, to: "/edge/mean_spectrum/mu")
            try f.write(map.meanSpectrum.norm, to: "/edge/mean_spectrum/norm")
            try NeXus.describe(f, title: title, maps: layers.map { NeXus.Map(name: $0.name, dataset: "/edge/" + $0.name, title: $0.label) }
                                   + [NeXus.Map(name: "mask", dataset: "/edge/mask", interpretation: .categories, title: "pixel mask")],
                               x: "/edge/x_um", y: "/edge/y_um", defaultMap: "edge_energy")
        }
        written.append(h5)

        var csv = CSVTable(header: ["x_um", "y_um"] + layers.map { $0.name + ($0.unit == "eV" ? "_ev" : "") } + ["mask"])
        for j in 0..<g.rows {
            for i in 0..<g.columns {
                let p = j * g.columns + i
                csv.rows.append([format(g.x(i)), format(g.y(j))] + layers.map { format($0.values(map)[p]) } + [map.mask[p] == .valid ? "" : map.mask[p].reason])
            }
        }
        let csvPath = (folder as NSString).appendingPathComponent("edge_map.csv")
        try csv.write(to: csvPath)
        written.append(csvPath)

        let figure = { (name: String) in
            MapFigure(title: "\(title): \(name)", columns: g.columns, rows: g.rows, xs: g.xs, ys: g.ys)
        }
        for layer in layers where layer.values(map).contains(where: \.isFinite) {
            let path = (folder as NSString).appendingPathComponent(layer.name + ".png")
            written += try figure(layer.label).scalar(layer.values(map), label: layer.unit.isEmpty ? layer.label : layer.unit).writeFigure(to: path)
        }
        return written
    }

    static func format(_ v: Double) -> String { v.isFinite ? String(format: "%.6g", v) : "" }
}
