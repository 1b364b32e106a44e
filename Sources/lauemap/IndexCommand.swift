import ArgumentParser
import Foundation
import LaueCore
import LaueIndexing
import LaueIO
import LauePeaks

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Index a Laue pattern: peak search, orientation, refinement (LaueTools' UB).",
        discussion: "JSON layout and the rules for 'unindexed': docs/indexing.md."
    )

    @Argument(help: "Image file (TIFF, MarCCD, HDF5).")
    var image: String

    @Option(help: "Detector calibration (.det, or a .cor with a calibration trailer).")
    var calib: String

    @Option(help: ArgumentHelp("Material: built-in name or JSON material file; several, comma-separated, for several phases.",
                               discussion: "With several phases (e.g. GaN,Si for a film on its substrate), each grain is the best of any phase among the spots left, and reports its phase."))
    var material: String

    @Option(help: ArgumentHelp("Grains to look for (of any phase); default 1, with several materials one more than materials (as scan run).",
                               discussion: "scan run looks for as many grains with several materials and reports the first material's."))
    var grains: Int?

    @Option(help: "Write the result as a LaueTools .fit file.")
    var fitOut: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup(title: "Indexing") var indexing: IndexingArguments

    @Option(help: "Frame (TIFF page or HDF5 stack index).")
    var frame: Int = 0

    @Option(help: ArgumentHelp("A side detector's frame of the same point, indexed jointly with IMAGE (repeat for each; pair each with --side-calib).",
                               discussion: "34-ID-E records a top detector and up to two side detectors: the orientation is refined on the spots of all of them, each through its own calibration (docs/indexing.md, Several detectors)."))
    var side: [String] = []

    @Option(help: "The calibration of each --side frame, in the same order (a .det; its kf_direction Y>0/Y<0 or azimuth key places the detector about the beam).")
    var sideCalib: [String] = []

    func run() throws {
        try reportingErrors {
            let img = try ImageReader.read(path: image, frame: frame)
            let materials = try Material.loadList(material)
            let calibration = try LaueToolsCalibration.read(path: calib, frameSize: (img.width, img.height))
            if let why = calibration.frameSizeMismatch(width: img.width, height: img.height) {
                throw LaueError(.invalidArgument, file: image, "frame \(why) (\(calib))")
            }
            guard side.count == sideCalib.count else {
                throw LaueError(.invalidArgument, "\(side.count) --side frames and \(sideCalib.count) --side-calib files: give one calibration per side frame")
            }
            var calibrations = [calibration]
            var spots = PeakSearcher().search(img).peaks.map(ObservedSpot.init)
            for (k, (path, calibPath)) in zip(side, sideCalib).enumerated() {
                let sideImage = try ImageReader.read(path: path)
                let c = try LaueToolsCalibration.read(path: calibPath, frameSize: (sideImage.width, sideImage.height))
                if let why = c.frameSizeMismatch(width: sideImage.width, height: sideImage.height) {
                    throw LaueError(.invalidArgument, file: path, "side frame \(why) (\(calibPath))")
                }
                calibrations.append(c)
                spots += PeakSearcher().search(sideImage).peaks.map { ObservedSpot($0, detector: k + 1) }
            }
            var options = try indexing.options()
            let grains = self.grains ?? MultiPhaseIndexer.defaultGrains(phases: materials.count)
            guard (1...100).contains(grains) else { throw LaueError(.invalidArgument, "--grains must be 1...100, not \(grains)") }
            options.maxGrains = grains
            let result = try MultiPhaseIndexer(materials: materials, calibrations: calibrations, options: options).index(spots)
            if let fitOut, !result.grains.isEmpty {
                try result.laueToolsFit(materials: materials, calibration: calibration).write(to: fitOut, peakListName: image)
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: result.json(detectors: calibrations.count), options: [.prettyPrinted, .sortedKeys])
                emit(String(decoding: data, as: UTF8.self))
            } else {
                // With side detectors, a count split by detector: " (per detector: 26, 46)".
                func perDetector(_ detectors: [Int]) -> String {
                    calibrations.count < 2 ? "" : " (per detector: " + calibrations.indices.map { d in "\(detectors.filter { $0 == d }.count)" }.joined(separator: ", ") + ")"
                }
                var s = "\(image): \(result.peakCount) peaks" + perDetector(spots.map(\.detector))
                s += ", \(result.status.rawValue)"
                if let r = result.reason { s += " (\(r))" }
                for (i, g) in result.grains.enumerated() {
                    s += String(format: "\ngrain %d%@: %d spots indexed, mean deviation %.3f px, matching rate %.1f %%", i,
                                materials.count > 1 ? " (\(g.phase))" : "", g.indexedCount, g.meanDeviation, 100 * g.matchingRate)
                    s += perDetector(g.spots.map(\.detector))
                    for r in g.orientation.rows { s += "\n  [" + r.map { String(format: "% .6f", $0) }.joined(separator: " ") + "]" }
                }
                emit(s)
            }
        }
    }
}

