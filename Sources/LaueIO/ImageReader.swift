import Foundation
import LaueCore

/// Reads a detector frame from any supported file, choosing the reader from the extension and, failing
/// that, from the file's first bytes: TIFF (.tif, .tiff), MarCCD (.mccd), HDF5 (.h5, .hdf5, .hdf, .nxs).
public enum ImageReader {
    public enum Format: String, Sendable { case tiff, marccd, hdf5 }

    public static func format(of path: String) throws -> Format {
        try InputFile.requireRegular(path)
        switch (path as NSString).pathExtension.lowercased() {
        case "tif", "tiff": return .tiff
        case "mccd": return .marccd
        case "h5", "hdf5", "hdf", "nxs", "nx5": return .hdf5
        default: break
        }
        let bytes = try InputFile.head(path, count: 4096)
        let head = Array(bytes.prefix(8))
        if head.starts(with: [0x89, 0x48, 0x44, 0x46]) { return .hdf5 }
        if head.starts(with: [0x49, 0x49, 0x2A, 0x00]) || head.starts(with: [0x4D, 0x4D, 0x00, 0x2A]) {
            return MarCCDHeader.parse(bytes) != nil ? .marccd : .tiff
        }
        if head.isEmpty { throw LaueError(.invalidFormat, file: path, "empty file") }
        throw LaueError(.unsupported, file: path, "unknown image format (expected TIFF, MarCCD or HDF5)")
    }

    /// Reads one frame. `frame` selects a TIFF page or an HDF5 stack frame; `dataset` names the HDF5
    /// dataset (default `/entry1/data/data`).
    public static func read(path: String, frame: Int = 0, dataset: String? = nil) throws -> LaueImage {
        switch try format(of: path) {
        case .tiff:
            var image = try TIFFReader.read(path: path, page: frame)
            image.metadata["format"] = "TIFF"
            return image
        case .marccd:
            guard frame == 0 else { throw LaueError(.invalidArgument, file: path, "a MarCCD file holds one frame") }
            return try MarCCDReader.read(path: path)
        case .hdf5:
            return try HDF5ImageReader.read(path: path, dataset: dataset, frame: frame)
        }
    }

    /// Number of frames in a file (TIFF pages, HDF5 stack frames, 1 for MarCCD).
    public static func frameCount(path: String, dataset: String? = nil) throws -> Int {
        switch try format(of: path) {
        case .tiff: return try TIFFReader.pageCount(path: path)
        case .marccd: return 1
        case .hdf5: return try HDF5ImageReader.frameCount(path: path, dataset: dataset)
        }
    }
}
