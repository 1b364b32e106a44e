import Foundation
import Testing
import LaueRendering
import LaueTestSupport

/// Figures drawn by cairo and Pango (issue 17): µ and ° come from a real font in PNG and PDF, PDFs
/// carry the text as text, the same figure gives the same bytes, map cells stay sharp.
@Suite struct CanvasTests {
    /// Rows holding ink (a channel below 128) in `image`, first and last.
    func inkRows(_ image: RGBImage) -> ClosedRange<Int>? {
        let rows = (0..<image.height).filter { y in (0..<image.width).contains { x in image[x, y].0 < 128 } }
        guard let first = rows.first, let last = rows.last else { return nil }
        return first...last
    }

    /// `text` alone on a canvas, rasterised.
    func ink(_ text: String) -> ClosedRange<Int>? {
        var c = Canvas(width: 60, height: 40)
        c.text(text, x: 10, y: 10)
        return inkRows(c.image)
    }

    /// What tells µ from u and ° from o on the page: µ reaches below the baseline (u does not) and °
    /// sits above the x-height (o fills it).
    func checkGlyphs(u: ClosedRange<Int>, mu: ClosedRange<Int>, degree: ClosedRange<Int>, o: ClosedRange<Int>, _ where_: String) {
        #expect(mu.upperBound >= u.upperBound + 2, "\(where_): µ descends to row \(mu.upperBound), u to \(u.upperBound)")
        #expect(abs(mu.lowerBound - u.lowerBound) <= 1, "\(where_): µ and u share the x-height (\(mu), \(u))")
        #expect(degree.upperBound < o.lowerBound + (o.upperBound - o.lowerBound) / 2, "\(where_): ° (\(degree)) above the middle of o (\(o))")
    }

    @Test func microAndDegreeSignsAreDrawnFromTheFont() throws {
        let u = try #require(ink("u")), mu = try #require(ink("µ")), degree = try #require(ink("°")), o = try #require(ink("o"))
        checkGlyphs(u: u, mu: mu, degree: degree, o: o, "PNG")
        #expect(Canvas.textWidth("µm") > Canvas.textWidth("m"))
        #expect(Canvas.lineHeight >= 12 && Canvas.lineHeight <= 20, "line height \(Canvas.lineHeight)")
    }

    /// The PDF, rendered back by poppler (an independent renderer), shows the same glyphs, and its text
    /// layer reads "µm" and "°".
    @Test func pdfHoldsMicroAndDegreeAsText() throws {
        guard let pdftoppm = ["/usr/bin/pdftoppm"].first(where: FileManager.default.isExecutableFile),
              let pdftotext = ["/usr/bin/pdftotext"].first(where: FileManager.default.isExecutableFile) else {
            print("skipped: poppler-utils (pdftoppm, pdftotext) not installed (tools/install-deps --test installs it)")
            return
        }
        let dir = Fixtures.temporaryFolder("pdf")
        var ranges: [ClosedRange<Int>] = []
        for (n, glyph) in ["u", "µ", "°", "o"].enumerated() {
            var c = Canvas(width: 60, height: 40)
            c.text(glyph, x: 10, y: 10)
            let pdf = "\(dir)/g\(n).pdf"
            try c.write(to: pdf)
            let run = try Command.run(pdftoppm, ["-r", "96", "-gray", pdf, "\(dir)/g\(n)"])
            #expect(run.status == 0, "\(run.stderr)")
            let pgm = try #require(FileManager.default.contentsOfDirectory(atPath: dir).first { $0.hasPrefix("g\(n)-") && $0.hasSuffix(".pgm") })
            ranges.append(try #require(inkRows(try readPGM("\(dir)/\(pgm)")), "no ink in the PDF of \(glyph)"))
        }
        checkGlyphs(u: ranges[0], mu: ranges[1], degree: ranges[2], o: ranges[3], "PDF")

        let figure = MapFigure(title: "tilt (°)", columns: 3, rows: 2, xs: [0, 0.5, 1], ys: [0, 0.5])
        try figure.scalar([0, 1, 2, 3, 4, .nan], label: "°").write(to: "\(dir)/map.pdf")
        let text = try Command.run(pdftotext, ["\(dir)/map.pdf", "-"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("x (µm)") && text.stdout.contains("y (µm)"), "\(text.stdout)")
        #expect(text.stdout.contains("tilt (°)"), "\(text.stdout)")
    }

    /// A map whose values differ by rounding only (a single pattern's misorientation to the mean: 2e-14°)
    /// gets a colour bar over one value, not ticks at 5e-15 steps.
    @Test func roundingNoiseIsOneValue() throws {
        guard let pdftotext = ["/usr/bin/pdftotext"].first(where: FileManager.default.isExecutableFile) else {
            print("skipped: poppler-utils not installed")
            return
        }
        let path = Fixtures.temporaryFolder("noise") + "/map.pdf"
        try MapFigure(title: "misorientation", columns: 2, rows: 1, xs: [0, 1], ys: [0]).scalar([0, 2e-14], label: "°", low: 0).write(to: path)
        let text = try Command.run(pdftotext, [path, "-"]).stdout
        #expect(!text.contains("e-1") && text.contains("0.0") && text.contains("1.0"), "\(text)")
    }

    /// A binary PGM (P5) as grey RGB.
    func readPGM(_ path: String) throws -> RGBImage {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var fields: [String] = [], i = 0
        while fields.count < 4 {
            while i < data.count, data[i] == 0x20 || data[i] == 0x0A || data[i] == 0x0D || data[i] == 0x09 { i += 1 }
            var field = ""
            while i < data.count, !(data[i] == 0x20 || data[i] == 0x0A || data[i] == 0x0D || data[i] == 0x09) { field.append(Character(UnicodeScalar(data[i]))); i += 1 }
            fields.append(field)
        }
        i += 1
        let w = try #require(Int(fields[1])), h = try #require(Int(fields[2]))
        #expect(fields[0] == "P5" && data.count - i == w * h)
        var image = RGBImage(width: w, height: h)
        for y in 0..<h { for x in 0..<w { let v = data[i + y * w + x]; image[x, y] = (v, v, v) } }
        return image
    }

    @Test func sameFigureSameBytes() throws {
        let figure = MapFigure(title: "class", columns: 2, rows: 2, xs: [0, 1], ys: [0, 1])
        let a = figure.categorical([0, 1, 1, -1], keys: ["no_defect", "gnd"], colours: [.lightGrey, Colour(hex: 0x0072B2)])
        let b = figure.categorical([0, 1, 1, -1], keys: ["no_defect", "gnd"], colours: [.lightGrey, Colour(hex: 0x0072B2)])
        for format in FigureFormat.allCases {
            #expect(try a.data(format) == b.data(format), "\(format)")
        }
        let png = [UInt8](try a.data(.png))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        // IHDR: width and height, big-endian, at bytes 16 and 20.
        let be = { (k: Int) in png[k...(k + 3)].reduce(0) { $0 << 8 | Int($1) } }
        #expect(be(16) == a.width && be(20) == a.height)
        #expect(String(decoding: try a.data(.pdf).prefix(5), as: UTF8.self) == "%PDF-")
        let svg = String(decoding: try a.data(.svg), as: UTF8.self)
        #expect(svg.contains("<svg") && svg.contains("width=\"\(a.width)px\""), "\(svg.prefix(300))")
        // Map cells are rasters that browsers must not smooth.
        #expect(svg.contains("<image style=\"image-rendering:pixelated"))
        // Inlined with distinct prefixes, two figures share no element id.
        let ids = { (text: String) in Set(text.matches(of: /id="([^"]+)"/).map { String($0.output.1) }) }
        let x = ids(try a.svg(idPrefix: "x-")), y = ids(try a.svg(idPrefix: "y-"))
        #expect(!x.isEmpty && x.allSatisfy { $0.hasPrefix("x-") } && x.isDisjoint(with: y))
    }

    /// Map cells are squares of one colour up to their edge: no smoothing between neighbours.
    @Test func mapCellsStaySharp() {
        var raster = RGBImage(width: 2, height: 1)
        raster[0, 0] = (255, 0, 0); raster[1, 0] = (0, 0, 255)
        var c = Canvas(width: 40, height: 20)
        c.raster(raster, x: 0, y: 0, scale: 10)
        let image = c.image
        #expect(image[0, 0] == (255, 0, 0) && image[9, 9] == (255, 0, 0))
        #expect(image[10, 0] == (0, 0, 255) && image[19, 9] == (0, 0, 255))
        #expect(image[20, 0] == (255, 255, 255) && image[0, 10] == (255, 255, 255))
    }

    @Test func unknownExtensionIsAnErrorNamingTheFile() {
        let c = Canvas(width: 4, height: 4)
        #expect { try c.write(to: "/tmp/figure.bmp") } throws: { "\($0)".contains("figure.bmp") && "\($0)".contains(".png, .pdf or .svg") }
    }
}
