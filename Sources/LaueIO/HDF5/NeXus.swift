import Foundation
import LaueCore

/// NeXus structure for LaueMap's HDF5 outputs (results.h5, XANES edge maps, correlation files), so
/// that silx, h5web and NeXus readers find a default plot and every map with its axes in µm.
///
/// The datasets stay where LaueMap writes them (`/maps/class`, `/edge/edge_energy`, ...); an `NXentry`
/// named `/entry` holds one `NXdata` group per map whose signal and axes are hard links to them (the
/// data is stored once). The root's `default` names the entry, the entry's `default` the map shown
/// first (docs/file-formats.md, "NeXus").
public enum NeXus {
    /// Unit spellings used in every LaueMap HDF5 output (UDUNITS symbols, as NeXus recommends).
    public enum Unit {
        public static let micrometre = "um"
        public static let degree = "deg"
        public static let pixel = "pixel"
        public static let perSquareMetre = "m^-2"
        public static let electronvolt = "eV"
    }

    /// How a map is shown.
    public enum Interpretation: String, Sendable {
        /// A scalar image (colormap).
        case image
        /// Integer codes of categories (a `legend` attribute names them): a categorical colormap.
        case categories
        /// An RGB image [rows, columns, 3] (IPF colours).
        case rgb = "rgb-image"
    }

    /// One map of an output: its dataset and how to show it.
    public struct Map: Sendable {
        public var name: String
        public var dataset: String
        public var interpretation: Interpretation
        public var title: String

        public init(name: String, dataset: String, interpretation: Interpretation = .image, title: String? = nil) {
            self.name = name; self.dataset = dataset; self.interpretation = interpretation; self.title = title ?? name
        }
    }

    /// Makes `/entry` an NXentry holding one NXdata per map (signal and axes linked), the file's
    /// default plot being `defaultMap`. `x` and `y` are the 1-D datasets of the columns' and rows'
    /// cell centres, in micrometres.
    public static func describe(_ f: HDF5File, title: String, program: String = "LaueMap", maps: [Map], x: String, y: String,
                                defaultMap: String, entry: String = "/entry") throws {
        try f.setAttribute("NX_class", "NXroot")
        try f.setAttribute("default", String(entry.dropFirst()))
        try f.createGroup(entry)
        try f.setAttribute("NX_class", "NXentry", on: entry)
        try f.setAttribute("default", defaultMap, on: entry)
        try f.writeStrings([title], to: entry + "/title")
        try f.writeStrings([program], to: entry + "/program_name")
        try f.setAttribute("version", LaueMapInfo.version, on: entry + "/program_name")
        for axis in [x, y] {
            try f.setAttribute("units", Unit.micrometre, on: axis)
        }
        try f.setAttribute("long_name", "x (um)", on: x)
        try f.setAttribute("long_name", "y (um)", on: y)
        for map in maps {
            let group = entry + "/" + map.name
            try f.createGroup(group)
            try f.setAttribute("NX_class", "NXdata", on: group)
            try f.setAttribute("signal", map.name, on: group)
            try f.setAttribute("title", map.title, on: group)
            try f.link(map.dataset, as: group + "/" + map.name)
            try f.link(x, as: group + "/x")
            try f.link(y, as: group + "/y")
            try f.setAttribute("axes", strings: map.interpretation == .rgb ? ["y", "x", "."] : ["y", "x"], on: group)
            try f.setAttribute("y_indices", integers: [0], on: group)
            try f.setAttribute("x_indices", integers: [1], on: group)
            switch map.interpretation {
            case .rgb: try f.setAttribute("interpretation", "rgb-image", on: map.dataset)
            case .image, .categories: try f.setAttribute("interpretation", "image", on: map.dataset)
            }
            if map.interpretation == .categories { try f.setAttribute("colormap", "categorical", on: map.dataset) }
        }
    }

    /// Makes `/entry` an NXentry whose default NXdata `stack` shows the 3-D `stack` [energy, rows,
    /// columns] (a XANES map stack) with its axes linked: `energy` (eV), `y` and `x` (cell centres, µm).
    public static func describeStack(_ f: HDF5File, title: String, stack: String, energy: String, x: String, y: String,
                                     entry: String = "/entry") throws {
        try f.setAttribute("NX_class", "NXroot")
        try f.setAttribute("default", String(entry.dropFirst()))
        try f.createGroup(entry)
        try f.setAttribute("NX_class", "NXentry", on: entry)
        try f.setAttribute("default", "stack", on: entry)
        try f.writeStrings([title], to: entry + "/title")
        try f.writeStrings(["LaueMap"], to: entry + "/program_name")
        try f.setAttribute("version", LaueMapInfo.version, on: entry + "/program_name")
        try f.setAttribute("units", Unit.electronvolt, on: energy)
        for axis in [x, y] { try f.setAttribute("units", Unit.micrometre, on: axis) }
        try f.setAttribute("long_name", "x (um)", on: x)
        try f.setAttribute("long_name", "y (um)", on: y)
        try f.setAttribute("long_name", "energy (eV)", on: energy)
        let group = entry + "/stack"
        try f.createGroup(group)
        try f.setAttribute("NX_class", "NXdata", on: group)
        try f.setAttribute("signal", "data", on: group)
        try f.setAttribute("title", title, on: group)
        try f.link(stack, as: group + "/data")
        try f.link(energy, as: group + "/energy")
        try f.link(y, as: group + "/y")
        try f.link(x, as: group + "/x")
        try f.setAttribute("axes", strings: ["energy", "y", "x"], on: group)
        try f.setAttribute("energy_indices", integers: [0], on: group)
        try f.setAttribute("y_indices", integers: [1], on: group)
        try f.setAttribute("x_indices", integers: [2], on: group)
    }
}
