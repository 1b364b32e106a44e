import ArgumentParser
import Foundation
import LaueCore
import LaueIO

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print an image's size, pixel type, min/max/mean and header metadata."
    )

    @Argument(help: "Image file (TIFF, MarCCD .mccd, HDF5).")
    var image: String

    @Option(help: "Frame (TIFF page or HDF5 stack index), 0-based.")
    var frame: Int = 0

    @Option(help: "HDF5 dataset path (default /entry1/data/data).")
    var dataset: String?

    func run() throws {
        try reportingErrors {
            let img = try ImageReader.read(path: image, frame: frame, dataset: dataset)
            let frames = try ImageReader.frameCount(path: image, dataset: dataset)
            let st = img.statistics
            var out = "file: \(image)\n"
            out += "format: \(img.metadata["format"] ?? "?")\n"
            out += "size: \(img.width) x \(img.height) (width x height)\n"
            out += "frames: \(frames)\n"
            out += "pixel type: \(img.pixelType.rawValue)\n"
            out += "min: \(format(st.minimum))\nmax: \(format(st.maximum))\nmean: \(String(format: "%.6f", st.mean))\n"
            if st.nonFinite > 0 { out += "non-finite pixels: \(st.nonFinite)\n" }
            for key in img.metadata.keys.sorted() where key != "format" {
                out += "\(key): \(img.metadata[key]!)\n"
            }
            emit(out)
        }
    }

    func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }
}
