import Foundation
import LaueIO

/// An RGB colour, components 0...1.
public struct Colour: Sendable, Equatable {
    public var r: Double, g: Double, b: Double
    public init(_ r: Double, _ g: Double, _ b: Double) { self.r = r; self.g = g; self.b = b }
    public init(hex: UInt32) {
        self.init(Double((hex >> 16) & 0xFF) / 255, Double((hex >> 8) & 0xFF) / 255, Double(hex & 0xFF) / 255)
    }
    public static let white = Colour(1, 1, 1), black = Colour(0, 0, 0), lightGrey = Colour(0.85, 0.85, 0.85)
    var bytes: (UInt8, UInt8, UInt8) {
        func c(_ v: Double) -> UInt8 { UInt8(max(0, min(255, (v * 255).rounded()))) }
        return (c(r), c(g), c(b))
    }
}

/// A drawing surface over an `RGBImage`: rectangles, lines and text in a built-in bitmap font
/// (DejaVu Sans Mono, 7 x 15 px cells).
public struct Canvas: Sendable {
    public var image: RGBImage

    public init(width: Int, height: Int, background: Colour = .white) {
        image = RGBImage(width: width, height: height, fill: background.bytes)
    }

    public var width: Int { image.width }
    public var height: Int { image.height }

    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ c: Colour) {
        let b = c.bytes
        for yy in max(0, y)..<min(height, y + h) { for xx in max(0, x)..<min(width, x + w) { image[xx, yy] = b } }
    }

    public mutating func rectangle(x: Int, y: Int, width w: Int, height h: Int, _ c: Colour = .black) {
        fill(x: x, y: y, width: w, height: 1, c); fill(x: x, y: y + h - 1, width: w, height: 1, c)
        fill(x: x, y: y, width: 1, height: h, c); fill(x: x + w - 1, y: y, width: 1, height: h, c)
    }

    /// Width in pixels of `text` in the built-in font.
    public static func textWidth(_ text: String) -> Int { text.count * FontGlyphs.width }
    public static let lineHeight = FontGlyphs.height

    /// Draws `text` with its top-left corner at (x, y), blending glyph coverage over the background.
    public mutating func text(_ text: String, x: Int, y: Int, _ c: Colour = .black) {
        let glyphs = BitmapFont.shared
        var cx = x
        for ch in text.unicodeScalars {
            let code = Int(ch.value)
            let index = (32...126).contains(code) ? code - 32 : Int(("?" as Unicode.Scalar).value) - 32
            let w = FontGlyphs.width, h = FontGlyphs.height
            for gy in 0..<h {
                for gx in 0..<w {
                    let a = Double(glyphs.coverage[(index * h + gy) * w + gx]) / 255
                    guard a > 0 else { continue }
                    let px = cx + gx, py = y + gy
                    guard px >= 0, py >= 0, px < width, py < height else { continue }
                    let old = image[px, py]
                    func mix(_ o: UInt8, _ n: Double) -> UInt8 { UInt8(max(0, min(255, (Double(o) * (1 - a) + n * 255 * a).rounded()))) }
                    image[px, py] = (mix(old.0, c.r), mix(old.1, c.g), mix(old.2, c.b))
                }
            }
            cx += FontGlyphs.width
        }
    }

    public func write(to path: String) throws { try PNGWriter.write(image, to: path) }
}

/// Decoded glyph coverage of the built-in font.
final class BitmapFont: Sendable {
    static let shared = BitmapFont()
    let coverage: [UInt8]
    private init() {
        let text = FontGlyphs.base64.filter { !$0.isWhitespace }
        coverage = [UInt8](Data(base64Encoded: text) ?? Data())
    }
}
