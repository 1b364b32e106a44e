import Foundation
import LaueCore
import LaueIO
import LaueRendering

/// The PNG maps of a scan (docs/scan-pipeline.md): class, streaking extent, pixel deviation,
/// orientation (IPF colouring of the lab z axis) and misorientation to the scan's mean orientation,
/// plus spread, tilt and confidence. Each is written atomically.
enum ScanMapImages {
    static let classColours: [Colour] = [
        Colour(hex: 0xE8E8E8),   // no_defect
        Colour(hex: 0x0072B2),   // gnd
        Colour(hex: 0xE69F00),   // tilt_boundary
        Colour(hex: 0x009E73),   // tilt_boundary_gnd
        Colour(hex: 0xCC79A7),   // stacking_tilt_boundaries
        Colour(hex: 0xD55E00),   // random_dislocations
        Colour(hex: 0x9A9A9A),   // unclassified
        Colour(hex: 0x404040),   // unindexed
        Colour(hex: 0x000000),   // failed
    ]

    /// Colours of the phases in the phase map (the run's materials in order; Okabe-Ito, colour-blind safe).
    static let phaseColours: [Colour] = [Colour(hex: 0x0072B2), Colour(hex: 0xE69F00), Colour(hex: 0x009E73), Colour(hex: 0xCC79A7),
                                         Colour(hex: 0xD55E00), Colour(hex: 0x56B4E9), Colour(hex: 0xF0E442), Colour(hex: 0x000000)]

    /// The scalar maps drawn: map name, figure label, unit, lower end of the colour scale.
    static let scalarFigures: [(String, String, String, Double?)] = [
        ("streak_extent_deg", "streaking extent", "°", 0),
        ("mean_deviation_px", "mean pixel deviation", "px", 0),
        ("misorientation_deg", "misorientation to the mean orientation", "°", 0),
        ("spread_deg", "spread (GND band / random FWHM)", "°", 0),
        ("tilt_deg", "tilt between sub-orientations", "°", 0),
        ("confidence", "classification confidence", "", 0),
        ("strain_equivalent", "deviatoric strain (von Mises equivalent)", "", 0),
        ("kam_deg", "kernel average misorientation (4 neighbours, < 5°)", "°", 0),
        ("grod_deg", "grain reference orientation deviation", "°", 0),
        ("gnd_gradient_m2", "GND density from orientation gradients (lower bound)", "m⁻²", 0),
    ]

    static func fileName(scalar name: String) -> String {
        name.replacingOccurrences(of: "_deg", with: "").replacingOccurrences(of: "_px", with: "").replacingOccurrences(of: "_m2", with: "") + ".png"
    }

    /// Every file `write` may create in its folder (each figure as PNG and PDF).
    static var fileNames: [String] {
        (["class.png"] + scalarFigures.map { fileName(scalar: $0.0) } + ["orientation_ipf.png", "orientation_ipf_x.png", "orientation_ipf_y.png"]
            + PoleFigure.fileNames).flatMap(Canvas.figurePaths)
    }

    static func write(_ maps: ScanMaps, folder: String, title: String, material: Material) throws -> [String] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let g = maps.grid
        let figure = { (name: String) in MapFigure(title: "\(title): \(name)", columns: g.columns, rows: g.rows, xs: g.xs, ys: g.ys) }
        var written: [String] = []
        func save(_ canvas: Canvas, _ name: String) throws {
            let path = (folder as NSString).appendingPathComponent(name)
            written += try canvas.writeFigure(to: path)
        }
        try save(figure("defect class").categorical(maps.classCodes, keys: ScanOutputs.classCodes.map(\.rawValue), colours: classColours), "class.png")
        for (name, label, unit, low) in scalarFigures {
            // The strain map only when the run refined strain.
            guard let values = maps.scalar(name), name != "strain_equivalent" || values.contains(where: \.isFinite) else { continue }
            try save(figure(label).scalar(values, label: unit.isEmpty ? label : "\(unit)", low: low,
                                          high: name == "confidence" ? 1 : nil), fileName(scalar: name))
        }
        let key = ipfKey(material)
        try save(figure("orientation (IPF of lab z)").rgb(maps.ipf, legend: ["IPF colour of the", "lab z axis in the", "crystal frame"], key: key), "orientation_ipf.png")
        for (axis, values) in [("x", maps.ipfX), ("y", maps.ipfY)] {
            try save(figure("orientation (IPF of lab \(axis))").rgb(values, legend: ["IPF colour of the", "lab \(axis) axis in the", "crystal frame"], key: key),
                     "orientation_ipf_\(axis).png")
        }
        for (name, canvas) in PoleFigure.figures(maps.orientations.compactMap { $0 }, material: material, frameName: "lab frame", title: title) {
            try save(canvas, name)
        }
        return written
    }

    /// The colour key of the IPF map: the standard stereographic triangle of the crystal system.
    static func ipfKey(_ material: Material) -> Canvas? {
        let size = 110
        var canvas = Canvas(width: size + 60, height: size + 2 * Canvas.lineHeight + 8)
        let ox = 8, oy = size + 4
        let lat = material.lattice
        // The coloured triangle, one pixel per unit, (0, 0) at its lower-left corner (the origin pole).
        var triangle = RGBImage(width: size + 1, height: size + 1)
        switch material.spaceGroup.crystalSystem {
        case .cubic:
            // [001] at the origin, [101] along +X (stereographic X = tan(22.5 deg)), [111] up-right.
            let scale = Double(size) / tan(Double.pi / 8)
            for py in 0...size { for px in 0...size {
                let X = Double(px) / scale, Y = Double(py) / scale
                let n = 1 + X * X + Y * Y
                let d = Vec3(2 * X / n, 2 * Y / n, (1 - X * X - Y * Y) / n)
                guard d.x >= d.y - 1e-9, d.y >= 0, d.z >= d.x - 1e-9 else { continue }
                let (r, g, b) = OrientationStatistics.ipfColour(crystalDirection: d, material: material)
                triangle[px, size - py] = Colour(r, g, b).bytes
            } }
            canvas.raster(triangle, x: ox, y: oy - size)
            canvas.text("001", x: 0, y: oy + 2)
            canvas.text("101", x: ox + size - 14, y: oy + 2)
            let t = tan(acos(1 / 3.0.squareRoot()) / 2) / 2.0.squareRoot() * scale
            canvas.text("111", x: ox + Int(t) + 4, y: oy - Int(t) - Canvas.lineHeight)
        case .hexagonal, .trigonal:
            let c = lat.cartesian(direction: Vec3(0, 0, 1)).normalized
            let a1 = lat.cartesian(direction: Vec3(1, 0, 0)).normalized
            let a2 = c.cross(a1).normalized
            for py in 0...size { for px in 0...size {
                let X = Double(px) / Double(size), Y = Double(py) / Double(size)
                let rr = (X * X + Y * Y).squareRoot()
                let theta = 2 * atan(rr), phi = atan2(Y, X)
                guard theta <= Double.pi / 2 + 1e-9, phi <= Double.pi / 6 + 1e-9 else { continue }
                let d = a1 * (sin(theta) * cos(phi)) + a2 * (sin(theta) * sin(phi)) + c * cos(theta)
                let (r, g, b) = OrientationStatistics.ipfColour(crystalDirection: d, material: material)
                triangle[px, size - py] = Colour(r, g, b).bytes
            } }
            canvas.raster(triangle, x: ox, y: oy - size)
            canvas.text("0001", x: 0, y: oy + 2)
            canvas.text("21\u{305}1\u{305}0", x: ox + size - 28, y: oy + 2)
            canvas.text("101\u{305}0", x: ox + Int(Double(size) * cos(Double.pi / 6)) - 10, y: oy - Int(Double(size) * sin(Double.pi / 6)) - Canvas.lineHeight - 2)
        default:
            return nil
        }
        return canvas
    }
}
