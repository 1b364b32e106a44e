import Foundation
import LaueCore
import LaueIO

/// An RGB colour, components 0...1.
public struct Colour: Sendable, Equatable {
    public var r: Double, g: Double, b: Double
    public init(_ r: Double, _ g: Double, _ b: Double) { self.r = r; self.g = g; self.b = b }
    public init(hex: UInt32) {
        self.init(Double((hex >> 16) & 0xFF) / 255, Double((hex >> 8) & 0xFF) / 255, Double(hex & 0xFF) / 255)
    }
    public static let white = Colour(1, 1, 1), black = Colour(0, 0, 0), lightGrey = Colour(0.85, 0.85, 0.85)
    /// 8-bit components.
    public var bytes: (UInt8, UInt8, UInt8) {
        func c(_ v: Double) -> UInt8 { UInt8(max(0, min(255, (v * 255).rounded()))) }
        return (c(r), c(g), c(b))
    }
}

/// A figure as a list of drawing operations on a surface of `width` x `height` units (one unit is one
/// pixel of the PNG, 1/96 inch in PDF and SVG): rectangles, lines, circles, rasters and text in a
/// system font laid out by Pango. Nothing is drawn until the figure is written (`write(to:)`: PNG,
/// PDF or SVG by the file's extension) or rasterised (`image`), so each format is drawn natively:
/// lines stay lines in PDF and SVG, text stays searchable text in PDF (glyph outlines in SVG), and
/// map cells are embedded rasters that no viewer smooths.
public struct Canvas: Sendable {
    public let width: Int
    public let height: Int
    public var background: Colour

    enum Operation: Sendable {
        case fill(x: Int, y: Int, width: Int, height: Int, Colour)
        case line(x0: Double, y0: Double, x1: Double, y1: Double, Colour, lineWidth: Double)
        case circle(x: Double, y: Double, radius: Double, Colour, filled: Bool)
        case text(String, x: Int, y: Int, Colour)
        /// `image` drawn with its top-left corner at (x, y), each pixel a `scale` x `scale` block.
        case raster(RGBImage, x: Int, y: Int, scaleX: Int, scaleY: Int)
        case canvas(Canvas, x: Int, y: Int)
    }
    var operations: [Operation] = []

    public init(width: Int, height: Int, background: Colour = .white) {
        self.width = max(1, width); self.height = max(1, height); self.background = background
    }

    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ c: Colour) {
        guard w > 0, h > 0 else { return }
        operations.append(.fill(x: x, y: y, width: w, height: h, c))
    }

    /// A one-unit outline along the inside of the rectangle.
    public mutating func rectangle(x: Int, y: Int, width w: Int, height h: Int, _ c: Colour = .black) {
        fill(x: x, y: y, width: w, height: 1, c); fill(x: x, y: y + h - 1, width: w, height: 1, c)
        fill(x: x, y: y, width: 1, height: h, c); fill(x: x + w - 1, y: y, width: 1, height: h, c)
    }

    /// A straight line between pixel centres (x0, y0) and (x1, y1).
    public mutating func line(x0: Double, y0: Double, x1: Double, y1: Double, _ c: Colour = .black, lineWidth: Double = 1) {
        operations.append(.line(x0: x0, y0: y0, x1: x1, y1: y1, c, lineWidth: lineWidth))
    }

    /// A circle centred on (x, y): its outline (one unit wide) or, `filled`, a disc.
    public mutating func circle(x: Double, y: Double, radius: Double, _ c: Colour = .black, filled: Bool = false) {
        operations.append(.circle(x: x, y: y, radius: radius, c, filled: filled))
    }

    /// `image` with its top-left corner at (x, y), every pixel a `scale` x `scale` block (no smoothing
    /// in any format: map cells stay sharp squares).
    public mutating func raster(_ image: RGBImage, x: Int, y: Int, scale: Int = 1) {
        operations.append(.raster(image, x: x, y: y, scaleX: max(1, scale), scaleY: max(1, scale)))
    }

    /// `image` stretched to `width` units wide, each row `scale` units high (a colour bar).
    public mutating func raster(_ image: RGBImage, x: Int, y: Int, scale: Int, width: Int) {
        operations.append(.raster(image, x: x, y: y, scaleX: max(1, width / max(1, image.width)), scaleY: max(1, scale)))
    }

    /// Another figure drawn with its top-left corner at (x, y).
    public mutating func draw(_ other: Canvas, x: Int, y: Int) {
        operations.append(.canvas(other, x: x, y: y))
    }

    /// Width of `text` in the figure font, units (rounded up).
    public static func textWidth(_ text: String) -> Int { Int(TextLayout.size(text).width.rounded(.up)) }
    /// Height of one line of text in the figure font, units.
    public static let lineHeight = Int(TextLayout.size("Åµg°").height.rounded(.up))

    /// Draws `text` (UTF-8: µ, °, ⁻² and the like are drawn from the font) with the top-left corner of
    /// its line box at (x, y).
    public mutating func text(_ text: String, x: Int, y: Int, _ c: Colour = .black) {
        guard !text.isEmpty else { return }
        operations.append(.text(text, x: x, y: y, c))
    }

    /// The figure rasterised (one pixel per unit).
    public var image: RGBImage { CairoRenderer.rasterise(self) }

    /// Writes the figure atomically as PNG, PDF or SVG, by the extension of `path`.
    public func write(to path: String) throws {
        guard let format = FigureFormat(path: path) else {
            throw LaueError(.invalidArgument, file: path, "figures are written as .png, .pdf or .svg")
        }
        try write(to: path, format: format)
    }

    /// The formats every figure of a run is written in (`writeFigure`): PNG to look at, PDF (vector
    /// lines and text, embedded map rasters) for papers.
    public static let figureFormats: [FigureFormat] = [.png, .pdf]

    /// Writes the figure at `path` (a `.png` path) and beside it in every other of `figureFormats`
    /// (`class.png`, `class.pdf`); returns the paths written.
    @discardableResult
    public func writeFigure(to path: String) throws -> [String] {
        let paths = Canvas.figurePaths(path)
        for (file, format) in zip(paths, Canvas.figureFormats) { try write(to: file, format: format) }
        return paths
    }

    /// The paths `writeFigure(to: path)` writes.
    public static func figurePaths(_ path: String) -> [String] {
        let base = (path as NSString).deletingPathExtension
        return figureFormats.map { base + "." + $0.rawValue }
    }

    public func write(to path: String, format: FigureFormat) throws {
        try AtomicFile.write(try data(format), to: path)
    }

    /// The figure encoded in `format`.
    public func data(_ format: FigureFormat) throws -> Data { try CairoRenderer.encode(self, format: format) }

    /// The figure as an SVG document whose element ids all start with `idPrefix` (to inline several
    /// figures in one HTML page).
    public func svg(idPrefix: String) throws -> String {
        String(decoding: try CairoRenderer.encode(self, format: .svg, svgPrefix: idPrefix), as: UTF8.self)
    }
}

/// The file formats figures are written in.
public enum FigureFormat: String, Sendable, CaseIterable {
    case png, pdf, svg
    /// The format named by the extension of `path` (case-insensitive), nil for other extensions.
    public init?(path: String) { self.init(rawValue: (path as NSString).pathExtension.lowercased()) }
}
