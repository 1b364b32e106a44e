import Foundation
import LaueCore
import LaueIO

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

extension RGBImage {
    /// Writes the image as PNG (through cairo), atomically.
    public func write(to path: String) throws { try AtomicFile.write(try pngData(), to: path) }

    /// The image encoded as PNG (through cairo).
    public func pngData() throws -> Data {
        var canvas = Canvas(width: width, height: height)
        canvas.raster(self, x: 0, y: 0)
        return try canvas.data(.png)
    }

    /// A detector frame in grey levels between `low` and `high` (default: its minimum and maximum;
    /// log scale when `logarithmic`).
    public static func grey(_ image: LaueImage, low: Float? = nil, high: Float? = nil, logarithmic: Bool = false) -> RGBImage {
        let st = image.statistics
        let lo = Double(low ?? Float(st.minimum)), hi = Double(high ?? Float(st.maximum))
        var out = RGBImage(width: image.width, height: image.height, fill: (0, 0, 0))
        for (i, v) in image.pixels.enumerated() {
            guard v.isFinite, hi > lo else { continue }
            var t = min(max((Double(v) - lo) / (hi - lo), 0), 1)
            if logarithmic { t = log1p(t * 999) / log(1000) }
            let g = UInt8((t * 255).rounded())
            out.bytes[3 * i] = g; out.bytes[3 * i + 1] = g; out.bytes[3 * i + 2] = g
        }
        return out
    }
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
