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

    func run() throws {
        try reportingErrors {
            let img = try ImageReader.read(path: image, frame: frame)
            let materials = try Material.loadList(material)
            let calibration = try LaueToolsCalibration.read(path: calib, frameSize: (img.width, img.height))
            let peaks = PeakSearcher().search(img).peaks
            var options = try indexing.options()
            let grains = self.grains ?? MultiPhaseIndexer.defaultGrains(phases: materials.count)
            guard (1...100).contains(grains) else { throw LaueError(.invalidArgument, "--grains must be 1...100, not \(grains)") }
            options.maxGrains = grains
            let result = try MultiPhaseIndexer(materials: materials, calibration: calibration, options: options).index(peaks.map(ObservedSpot.init))
            if let fitOut, !result.grains.isEmpty {
                try result.laueToolsFit(materials: materials, calibration: calibration).write(to: fitOut, peakListName: image)
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: result.json(), options: [.prettyPrinted, .sortedKeys])
                emit(String(decoding: data, as: UTF8.self))
            } else {
                var s = "\(image): \(result.peakCount) peaks, \(result.status.rawValue)"
                if let r = result.reason { s += " (\(r))" }
                for (i, g) in result.grains.enumerated() {
                    s += String(format: "\ngrain %d%@: %d spots indexed, mean deviation %.3f px, matching rate %.1f %%", i,
                                materials.count > 1 ? " (\(g.phase))" : "", g.indexedCount, g.meanDeviation, 100 * g.matchingRate)
                    for r in g.orientation.rows { s += "\n  [" + r.map { String(format: "% .6f", $0) }.joined(separator: " ") + "]" }
                }
                emit(s)
            }
        }
    }
}

