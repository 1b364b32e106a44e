import CZlib
import Foundation
import LaueCore

/// An 8-bit RGB raster for figures and maps.
public struct RGBImage: Sendable {
    public var width: Int
    public var height: Int
    /// Row-major RGB triples.
    public var bytes: [UInt8]

    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (255, 255, 255)) {
        self.width = width; self.height = height
        bytes = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) { bytes[3 * i] = fill.0; bytes[3 * i + 1] = fill.1; bytes[3 * i + 2] = fill.2 }
    }

    public subscript(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        get { let i = 3 * (y * width + x); return (bytes[i], bytes[i + 1], bytes[i + 2]) }
        set {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            let i = 3 * (y * width + x); bytes[i] = newValue.0; bytes[i + 1] = newValue.1; bytes[i + 2] = newValue.2
        }
    }
}

/// Writes PNG files (8-bit grey or RGB, zlib-compressed), atomically.
public enum PNGWriter {
    public static func write(_ image: RGBImage, to path: String) throws {
        try write(width: image.width, height: image.height, channels: 3, bytes: image.bytes, to: path)
    }

    /// Grey image from 8-bit values, row-major.
    public static func writeGray(width: Int, height: Int, values: [UInt8], to path: String) throws {
        try write(width: width, height: height, channels: 1, bytes: values, to: path)
    }

    /// A detector frame as a grey PNG between `low` and `high` (log scale when `logarithmic`).
    public static func write(_ image: LaueImage, to path: String, low: Float? = nil, high: Float? = nil,
                             logarithmic: Bool = false) throws {
        let st = image.statistics
        let lo = Double(low ?? Float(st.minimum)), hi = Double(high ?? Float(st.maximum))
        func map(_ v: Float) -> UInt8 {
            guard v.isFinite, hi > lo else { return 0 }
            var t = (Double(v) - lo) / (hi - lo)
            t = min(max(t, 0), 1)
            if logarithmic { t = log1p(t * 999) / log(1000) }
            return UInt8((t * 255).rounded())
        }
        try writeGray(width: image.width, height: image.height, values: image.pixels.map(map), to: path)
    }

    static func write(width: Int, height: Int, channels: Int, bytes: [UInt8], to path: String) throws {
        guard width > 0, height > 0, bytes.count == width * height * channels else {
            throw LaueError(.invalidArgument, file: path, "PNG size does not match the pixel data")
        }
        // Filter byte 0 (none) before each row.
        var raw = [UInt8](); raw.reserveCapacity((width * channels + 1) * height)
        for y in 0..<height {
            raw.append(0)
            raw.append(contentsOf: bytes[(y * width * channels)..<((y + 1) * width * channels)])
        }
        var destLen = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(destLen))
        let status = compress2(&compressed, &destLen, raw, uLong(raw.count), 6)
        guard status == Z_OK else { throw LaueError(.numerical, file: path, "zlib compression failed (\(status))") }
        compressed.removeSubrange(Int(destLen)...)

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }
        func chunk(_ type: String, _ data: [UInt8]) {
            let typeBytes = Array(type.utf8)
            png += be32(UInt32(data.count))
            let body = typeBytes + data
            png += body
            png += be32(UInt32(crc32(0, body, uInt(body.count))))
        }
        chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [8, channels == 3 ? 2 : 0, 0, 0, 0])
        chunk("IDAT", compressed)
        chunk("IEND", [])
        try AtomicFile.write(Data(png), to: path)
    }
}

extension RGBImage {
    /// A grey-level view of a region of a detector frame, scaled by an integer factor (nearest
    /// neighbour), between `low` and `high` (square-root stretch).
    public static func crop(_ image: LaueImage, x: Int, y: Int, width w: Int, height h: Int, scale: Int = 1,
                            low: Float, high: Float) -> RGBImage {
        var out = RGBImage(width: w * scale, height: h * scale, fill: (0, 0, 0))
        for r in 0..<h {
            for c in 0..<w {
                let sx = x + c, sy = y + r
                var v: UInt8 = 0
                if sx >= 0, sy >= 0, sx < image.width, sy < image.height {
                    let t = max(0, min(1, (image[sx, sy] - low) / max(high - low, 1e-6)))
                    v = UInt8((t.squareRoot() * 255).rounded())
                }
                for dy in 0..<scale { for dx in 0..<scale { out[c * scale + dx, r * scale + dy] = (v, v, v) } }
            }
        }
        return out
    }

    /// Copies `other` into this image with its top-left corner at (x, y).
    public mutating func paste(_ other: RGBImage, x: Int, y: Int) {
        for r in 0..<other.height { for c in 0..<other.width { self[x + c, y + r] = other[c, r] } }
    }
}
