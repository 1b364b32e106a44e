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

    @Option(help: "Material: built-in name or JSON material file.")
    var material: String

    @Option(help: "Grains to look for.")
    var grains: Int = 1

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
            let mat = try Material.load(material)
            let calibration = try LaueToolsCalibration.read(path: calib, frameSize: (img.width, img.height))
            let peaks = PeakSearcher().search(img).peaks
            var options = try indexing.options()
            options.maxGrains = max(1, grains)
            let result = try Indexer(material: mat, calibration: calibration, options: options).index(peaks.map(ObservedSpot.init))
            if let fitOut, !result.grains.isEmpty {
                try result.laueToolsFit(material: mat, calibration: calibration).write(to: fitOut, peakListName: image)
            }
            if json {
                let data = try JSONSerialization.data(withJSONObject: result.json(material: mat), options: [.prettyPrinted, .sortedKeys])
                emit(String(decoding: data, as: UTF8.self))
            } else {
                var s = "\(image): \(result.peakCount) peaks, \(result.status.rawValue)"
                if let r = result.reason { s += " (\(r))" }
                for (i, g) in result.grains.enumerated() {
                    s += String(format: "\ngrain %d: %d spots indexed, mean deviation %.3f px, matching rate %.1f %%", i,
                                g.indexedCount, g.meanDeviation, 100 * g.matchingRate)
                    for r in g.orientation.rows { s += "\n  [" + r.map { String(format: "% .6f", $0) }.joined(separator: " ") + "]" }
                }
                emit(s)
            }
        }
    }
}
