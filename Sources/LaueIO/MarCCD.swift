import Foundation
import LaueCore

/// The fields of a MarCCD frame header that matter for Laue work.
///
/// A MarCCD `.mccd` file is a TIFF whose first 1024 bytes (TIFF header and directory) are followed by a
/// 3072-byte `frame_header` (Mar's `frame.h`); pixel data follow at byte 4096. Zero fields mean "not set".
public struct MarCCDHeader: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var bytesPerPixel: Int
    /// Crystal-to-detector distance in mm (nil when not recorded).
    public var distance: Double?
    /// Beam centre in pixels (fast, slow).
    public var beamX: Double?
    public var beamY: Double?
    /// Pixel size in mm.
    public var pixelSizeX: Double?
    public var pixelSizeY: Double?
    /// Wavelength in angstrom.
    public var wavelength: Double?
    public var exposureTime: Double?
    public var filename: String
    public var acquireTimestamp: String

    static let headerOffset = 1024

    /// Parses the header from the first 4096 bytes of a file; nil when the bytes are not a MarCCD header.
    public static func parse(_ bytes: [UInt8]) -> MarCCDHeader? {
        guard bytes.count >= 4096 else { return nil }
        let base = headerOffset
        func u32(_ off: Int, swapped: Bool) -> UInt32 {
            let b = Array(bytes[(base + off)..<(base + off + 4)])
            let little = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
            return swapped ? little.byteSwapped : little
        }
        // header_byte_order: 1234 little endian, 4321 big endian.
        let order = u32(28, swapped: false)
        let swapped: Bool
        if order == 1234 || order == 4321 {
            swapped = false
        } else if order.byteSwapped == 1234 || order.byteSwapped == 4321 {
            swapped = true
        } else {
            return nil
        }
        func i32(_ off: Int) -> Int { Int(Int32(bitPattern: u32(off, swapped: swapped))) }
        func text(_ off: Int, _ len: Int) -> String {
            let slice = bytes[(base + off)..<(base + off + len)].prefix { $0 != 0 }
            return String(decoding: slice, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        func positive(_ v: Int, scale: Double) -> Double? { v > 0 ? Double(v) / scale : nil }
        let nfast = i32(80), nslow = i32(84), depth = i32(88)
        guard nfast > 0, nslow > 0, (1...8).contains(depth) else { return nil }
        return MarCCDHeader(width: nfast, height: nslow, bytesPerPixel: depth,
                            distance: positive(i32(640), scale: 1000),        // 1000 * mm
                            beamX: positive(i32(644), scale: 1000),           // 1000 * pixels
                            beamY: positive(i32(648), scale: 1000),
                            pixelSizeX: positive(i32(772), scale: 1e6),       // nanometres
                            pixelSizeY: positive(i32(776), scale: 1e6),
                            wavelength: positive(i32(908), scale: 1e5),       // femtometres
                            exposureTime: positive(i32(656), scale: 1000),    // milliseconds
                            filename: text(1280, 64), acquireTimestamp: text(1344, 32))
    }

    /// The header as image metadata entries.
    public var metadata: [String: String] {
        var m: [String: String] = ["marccd.width": "\(width)", "marccd.height": "\(height)"]
        func put(_ key: String, _ v: Double?, _ fmt: String) { if let v { m[key] = String(format: fmt, v) } }
        put("marccd.distance_mm", distance, "%.3f")
        put("marccd.beam_x_px", beamX, "%.3f")
        put("marccd.beam_y_px", beamY, "%.3f")
        put("marccd.pixel_size_x_mm", pixelSizeX, "%.6f")
        put("marccd.pixel_size_y_mm", pixelSizeY, "%.6f")
        put("marccd.wavelength_A", wavelength, "%.5f")
        put("marccd.exposure_s", exposureTime, "%.3f")
        if !filename.isEmpty { m["marccd.filename"] = filename }
        if !acquireTimestamp.isEmpty { m["marccd.acquire_timestamp"] = acquireTimestamp }
        return m
    }
}

/// Reads MarCCD frames: pixels through libtiff, header fields from the frame header.
public enum MarCCDReader {
    public static func readHeader(path: String) throws -> MarCCDHeader {
        let bytes = try InputFile.head(path, count: 4096)
        guard bytes.count == 4096 else {
            throw LaueError(.invalidFormat, file: path, "too short for a MarCCD file (\(bytes.count) bytes, header needs 4096)")
        }
        guard let header = MarCCDHeader.parse(bytes) else {
            throw LaueError(.invalidFormat, file: path, "no MarCCD frame header at byte 1024")
        }
        return header
    }

    public static func read(path: String) throws -> LaueImage {
        let header = try readHeader(path: path)
        var image = try TIFFReader.read(path: path)
        guard image.width == header.width && image.height == header.height else {
            throw LaueError(.invalidFormat, file: path,
                            "MarCCD header says \(header.width)x\(header.height), TIFF holds \(image.width)x\(image.height)")
        }
        image.metadata.merge(header.metadata) { _, new in new }
        image.metadata["format"] = "MarCCD"
        return image
    }
}
