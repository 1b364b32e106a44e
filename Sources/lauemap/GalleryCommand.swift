import ArgumentParser
import Foundation
import LaueCore
import LaueIO
import LaueRendering
import LaueSimulation

struct SimulateGallery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gallery",
        abstract: "Render what each defect class looks like: PNG crops of the same spots for every class."
    )

    @OptionGroup var detectorOptions: DetectorOptions

    @Option(help: "Material: built-in name or JSON material file.")
    var material: String = "LiCoO2"

    @Option(help: "Seed of the orientation.")
    var seed: UInt64 = 7

    @Option(help: "Spread / tilt in degrees.")
    var angle: Double = 0.5

    @Option(help: "Output folder for the PNG files.")
    var out: String

    func run() throws {
        try reportingErrors {
            let mat = try Material.load(material)
            let det = try detectorOptions.resolve(defaultName: "medium")
            let sim = try PatternSimulator(material: mat, detector: det)
            var g = SeededGenerator(seed: seed)
            let u = Quaternion.random(using: &g).matrix
            let axis = ScanPlanner.defaultAxes(for: mat)[0]
            let models: [DefectModel] = [
                .noDefect, .gnd(axis: axis, spread: angle, profile: .uniform), .tiltBoundary(axis: axis, tilt: angle, weight: 0.5),
                .tiltBoundaryGND(axis: axis, tilt: angle * 1.4, spread: angle * 0.5, weight: 0.5),
                .stackingTiltBoundaries(axis: axis, tilts: [angle * 0.8, angle * 0.8, angle * 0.8], weights: [1, 1, 1, 1]),
                .randomDislocations(spread: angle * 0.6),
            ]
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            // The same strong, isolated spots in every panel.
            let spots = sim.predictor.spots(orientation: u)
            let chosen = spots.filter { s in
                det.calibration.contains(x: s.x, y: s.y, margin: 40) && s.energy > 6 && s.energy < 20 &&
                    !spots.contains { o in o.hkl != s.hkl && abs(o.x - s.x) < 40 && abs(o.y - s.y) < 40 }
            }.sorted { mat.intensity($0.hkl) > mat.intensity($1.hkl) }.prefix(4)
            let crop = 48, scale = 3, pad = 6
            var sheet = RGBImage(width: (crop * scale + pad) * chosen.count + pad, height: (crop * scale + pad) * models.count + pad, fill: (40, 40, 40))
            for (row, model) in models.enumerated() {
                let image = sim.simulate(PatternTruth(defect: model, orientation: u), seed: seed)
                let name = model.defectClass.rawValue
                try RGBImage.grey(image, low: 80, high: 3000, logarithmic: true).write(to: out + "/pattern_\(name).png")
                for (col, s) in chosen.enumerated() {
                    let view = RGBImage.crop(image, x: Int(s.x) - 1 - crop / 2, y: Int(s.y) - 1 - crop / 2, width: crop, height: crop,
                                             scale: scale, low: 100, high: Float(image.pixels.max() ?? 1000) * 0.6)
                    try view.write(to: out + "/spot_\(name)_\(col).png")
                    sheet.paste(view, x: pad + col * (crop * scale + pad), y: pad + row * (crop * scale + pad))
                }
            }
            try sheet.write(to: out + "/gallery.png")
            emit("wrote \(out)/gallery.png: rows " + models.map { $0.defectClass.rawValue }.joined(separator: ", ")
                 + "; columns hkl " + chosen.map { "(\($0.hkl))" }.joined(separator: " "))
        }
    }
}
