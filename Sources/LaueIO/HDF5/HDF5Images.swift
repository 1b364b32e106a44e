import Foundation
import LaueCore

/// Detector frames in HDF5 files: the APS 34-ID-E layout (`/entry1/data/data`, detector fields under
/// `/entry1/detector/`, stage positions `/entry1/sample/sampleX|sampleY|sampleZ`) or any 2-D dataset,
/// or any frame of a 3-D [frames, rows, cols] dataset, by path.
public enum HDF5ImageReader {
    /// Dataset used when none is named.
    public static let apsDataPath = "/entry1/data/data"

    /// Number of frames in a dataset (1 for a 2-D dataset).
    public static func frameCount(path: String, dataset: String? = nil) throws -> Int {
        let file = try HDF5File(path: path)
        let name = try resolve(file, dataset)
        let shape = try file.shape(of: name)
        return shape.count == 3 ? shape[0] : 1
    }

    /// Reads frame `frame` of `dataset` (default: the APS layout's data).
    public static func read(path: String, dataset: String? = nil, frame: Int = 0) throws -> LaueImage {
        let file = try HDF5File(path: path)
        let name = try resolve(file, dataset)
        let shape = try file.shape(of: name)
        let type = try file.storedType(of: name)
        let values: [Float]
        let rows: Int, cols: Int
        switch shape.count {
        case 2:
            guard frame == 0 else {
                throw LaueError(.invalidArgument, file: path, item: name, "frame \(frame) requested from a single 2-D image")
            }
            values = try file.read(name, as: Float.self).values
            (rows, cols) = (shape[0], shape[1])
        case 3:
            values = try file.readSlice(name, index: frame, as: Float.self).values
            (rows, cols) = (shape[1], shape[2])
        default:
            throw LaueError(.unsupported, file: path, item: name, "dataset of rank \(shape.count) is not an image or a stack of images")
        }
        guard rows > 0 && cols > 0 else {
            throw LaueError(.invalidFormat, file: path, item: name, "zero-size image (\(cols)x\(rows))")
        }
        var image = LaueImage(width: cols, height: rows, pixels: values, pixelType: type)
        image.metadata["format"] = "HDF5"
        image.metadata["hdf5.dataset"] = name
        if shape.count == 3 { image.metadata["hdf5.frame"] = "\(frame)" }
        image.metadata.merge(apsMetadata(file, frame: frame)) { a, _ in a }
        return image
    }

    static func resolve(_ file: HDF5File, _ dataset: String?) throws -> String {
        if let dataset {
            let name = dataset.hasPrefix("/") ? dataset : "/" + dataset
            guard file.exists(name) else {
                throw LaueError(.missingData, file: file.path, item: name, "dataset not found")
            }
            return name
        }
        guard file.exists(apsDataPath) else {
            throw LaueError(.missingData, file: file.path, item: apsDataPath,
                            "dataset not found (name the image dataset with --dataset)")
        }
        return apsDataPath
    }

    /// Scalar fields under /entry1/detector and the stage position of this frame, as metadata.
    static func apsMetadata(_ file: HDF5File, frame: Int) -> [String: String] {
        var m: [String: String] = [:]
        if let names = try? file.children(of: "/entry1/detector") {
            for n in names {
                let p = "/entry1/detector/" + n
                if file.isDataset(p), let shape = try? file.shape(of: p),
                   let count = try? file.elementCount(shape, elementSize: 1, name: p), count <= 16,
                   let text = try? file.readScalarText(p) {
                    m["detector." + n] = text
                }
            }
        }
        for axis in ["sampleX", "sampleY", "sampleZ"] {
            let p = "/entry1/sample/" + axis
            if file.isDataset(p), let v = try? file.read(p, as: Double.self).values, !v.isEmpty {
                m["sample." + axis] = String(v[min(frame, v.count - 1)])
            }
        }
        return m
    }
}

/// Writes detector frames to HDF5 in the APS 34-ID-E layout.
public enum HDF5ImageWriter {
    /// Writes images as a [frames, rows, cols] uint16 stack at `/entry1/data/data` (gzip, one chunk per
    /// frame), with optional stage positions (micrometres) and detector fields, atomically.
    public static func write(_ images: [LaueImage], to path: String, sampleX: [Double]? = nil, sampleY: [Double]? = nil,
                             detectorFields: [String: Double] = [:]) throws {
        guard let first = images.first else { throw LaueError(.invalidArgument, file: path, "no image to write") }
        guard images.allSatisfy({ $0.width == first.width && $0.height == first.height }) else {
            throw LaueError(.invalidArgument, file: path, "all frames of a stack must have the same size")
        }
        try AtomicFile.write(to: path) { temp in
            let stack = try APSStackWriter(path: temp, frames: images.count, width: first.width, height: first.height)
            for (i, image) in images.enumerated() { try stack.write(image, at: i) }
            try stack.finish(sampleX: sampleX, sampleY: sampleY, detectorFields: detectorFields)
        }
    }
}

/// Streams frames into an APS-layout HDF5 stack one at a time (memory bounded by one frame).
public final class APSStackWriter {
    public let file: HDF5File
    public let frames: Int

    public init(path: String, frames: Int, width: Int, height: Int) throws {
        guard frames > 0, width > 0, height > 0 else {
            throw LaueError(.invalidArgument, file: path, "a stack needs frames and a non-zero frame size")
        }
        file = try HDF5File(path: path, mode: .create)
        self.frames = frames
        try file.createDataset(HDF5ImageReader.apsDataPath, type: UInt16.self, shape: [frames, height, width],
                               chunk: [1, height, width], gzipLevel: 1)
        try file.setAttribute("signal", "data", on: "/entry1/data")
        try file.setAttribute("NX_class", "NXentry", on: "/entry1")
        try file.setAttribute("NX_class", "NXdata", on: "/entry1/data")
    }

    public func write(_ image: LaueImage, at index: Int) throws {
        let values = image.pixels.map { UInt16($0.isNaN ? 0 : min(max($0.rounded(), 0), 65535)) }
        try file.writeSlice(values, to: HDF5ImageReader.apsDataPath, index: index)
    }

    /// Writes the stage positions and detector fields and closes the file (every byte on disk, or an error).
    public func finish(sampleX: [Double]?, sampleY: [Double]?, detectorFields: [String: Double] = [:]) throws {
        if let sampleX { try file.write(sampleX, to: "/entry1/sample/sampleX"); try file.setAttribute("units", "micrometer", on: "/entry1/sample/sampleX") }
        if let sampleY { try file.write(sampleY, to: "/entry1/sample/sampleY"); try file.setAttribute("units", "micrometer", on: "/entry1/sample/sampleY") }
        for (k, v) in detectorFields.sorted(by: { $0.key < $1.key }) { try file.write([v], to: "/entry1/detector/" + k) }
        try file.close()
    }
}
