import Foundation

/// Sample type of the file an image came from.
public enum PixelType: String, Sendable, CaseIterable {
    case uint8, uint16, uint32, int16, int32, float32, float64

    /// Largest value the type can hold (the saturation level of an integer detector).
    public var maximum: Double {
        switch self {
        case .uint8: return 255
        case .uint16: return 65535
        case .uint32: return 4_294_967_295
        case .int16: return 32767
        case .int32: return 2_147_483_647
        case .float32: return Double(Float.greatestFiniteMagnitude)
        case .float64: return Double.greatestFiniteMagnitude
        }
    }
}

/// One detector frame: size, pixel values and metadata.
///
/// Pixels are row-major `Float`s (row 0 first); every 8/16-bit value and every integer up to 2^24 is
/// exact. `pixelType` records the sample type of the source; `metadata` holds header fields as text
/// (for MarCCD: distance, beam centre, pixel size...).
public struct LaueImage: Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [Float]
    public var pixelType: PixelType
    public var metadata: [String: String]

    public init(width: Int, height: Int, pixels: [Float], pixelType: PixelType = .float32,
                metadata: [String: String] = [:]) {
        precondition(pixels.count == width * height, "pixel count does not match the size")
        self.width = width; self.height = height; self.pixels = pixels
        self.pixelType = pixelType; self.metadata = metadata
    }

    /// A blank image.
    public init(width: Int, height: Int, value: Float = 0, pixelType: PixelType = .float32) {
        self.init(width: width, height: height, pixels: [Float](repeating: value, count: width * height),
                  pixelType: pixelType)
    }

    @inlinable public subscript(column: Int, row: Int) -> Float {
        get { pixels[row * width + column] }
        set { pixels[row * width + column] = newValue }
    }

    public struct Statistics: Sendable, Equatable {
        public var minimum: Double
        public var maximum: Double
        public var mean: Double
        /// Pixels that are NaN or infinite (not counted in min/max/mean).
        public var nonFinite: Int
    }

    /// Minimum, maximum and mean over finite pixels (accumulated in Double).
    public var statistics: Statistics {
        var lo = Double.infinity, hi = -Double.infinity, sum = 0.0, bad = 0
        pixels.withUnsafeBufferPointer { px in
            for v in px {
                if !v.isFinite { bad += 1; continue }
                let d = Double(v)
                if d < lo { lo = d }
                if d > hi { hi = d }
                sum += d
            }
        }
        let n = pixels.count - bad
        return Statistics(minimum: n > 0 ? lo : .nan, maximum: n > 0 ? hi : .nan,
                          mean: n > 0 ? sum / Double(n) : .nan, nonFinite: bad)
    }
}
