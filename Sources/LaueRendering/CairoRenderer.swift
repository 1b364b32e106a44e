import CCairo
import Foundation
import LaueCore

/// Draws a `Canvas` with cairo: on an image surface (PNG, `Canvas.image`), a PDF or an SVG surface.
enum CairoRenderer {
    /// The figure rasterised, one pixel per unit.
    static func rasterise(_ canvas: Canvas) -> RGBImage {
        var out = RGBImage(width: canvas.width, height: canvas.height, fill: canvas.background.bytes)
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(canvas.width), Int32(canvas.height)) else { return out }
        defer { cairo_surface_destroy(surface) }
        drawAll(canvas, on: surface)
        cairo_surface_flush(surface)
        guard let base = cairo_image_surface_get_data(surface) else { return out }
        let stride = Int(cairo_image_surface_get_stride(surface))
        for y in 0..<canvas.height {
            let row = UnsafeRawPointer(base + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<canvas.width {
                let p = row[x]
                out[x, y] = (UInt8((p >> 16) & 0xFF), UInt8((p >> 8) & 0xFF), UInt8(p & 0xFF))
            }
        }
        return out
    }

    /// The figure encoded as PNG, PDF or SVG.
    static func encode(_ canvas: Canvas, format: FigureFormat, svgPrefix: String = "f") throws -> Data {
        let sink = Sink()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        let w = Double(canvas.width), h = Double(canvas.height)
        let status: cairo_status_t
        switch format {
        case .png:
            guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(canvas.width), Int32(canvas.height)) else {
                throw LaueError(.numerical, "cairo could not create a \(canvas.width) x \(canvas.height) image")
            }
            drawAll(canvas, on: surface)
            status = cairo_surface_write_to_png_stream(surface, Sink.write, context)
            cairo_surface_destroy(surface)
        case .pdf:
            guard let surface = cairo_pdf_surface_create_for_stream(Sink.write, context, w * pointsPerUnit, h * pointsPerUnit) else {
                throw LaueError(.numerical, "cairo could not create a PDF surface")
            }
            // A fixed creation date: the same figure gives the same bytes (resumed scans are byte-identical).
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, fixedDate)
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "LaueMap")
            drawAll(canvas, on: surface, scale: pointsPerUnit)
            cairo_surface_finish(surface)
            status = cairo_surface_status(surface)
            cairo_surface_destroy(surface)
        case .svg:
            guard let surface = cairo_svg_surface_create_for_stream(Sink.write, context, w, h) else {
                throw LaueError(.numerical, "cairo could not create an SVG surface")
            }
            cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX)
            drawAll(canvas, on: surface)
            cairo_surface_finish(surface)
            status = cairo_surface_status(surface)
            cairo_surface_destroy(surface)
        }
        guard status == CAIRO_STATUS_SUCCESS else {
            throw LaueError(.numerical, "cairo could not write the \(format.rawValue.uppercased()) figure: \(String(cString: cairo_status_to_string(status)))")
        }
        guard format == .svg else { return sink.data }
        return Data(pixelated(renumberIDs(String(decoding: sink.data, as: UTF8.self), prefix: svgPrefix)).utf8)
    }

    /// The SVG with every embedded raster marked `image-rendering: pixelated`: cairo 1.16 does not say
    /// that a pattern is drawn with the nearest filter, and browsers would smooth map cells into blurs.
    static func pixelated(_ svg: String) -> String {
        svg.replacingOccurrences(of: "<image ", with: "<image style=\"image-rendering:pixelated;image-rendering:crisp-edges\" ")
    }

    /// The SVG with its element ids (cairo numbers glyphs and surfaces by process-wide counters)
    /// renamed `prefix` + 1, 2, ... in order of appearance: the same figure gives the same bytes, and
    /// figures inlined in one HTML page with distinct prefixes do not share ids.
    static func renumberIDs(_ svg: String, prefix: String) -> String {
        let ns = svg as NSString
        guard let regex = try? NSRegularExpression(pattern: #"(id="|#)([A-Za-z][A-Za-z0-9_.\-]*)"#) else { return svg }
        let matches = regex.matches(in: svg, range: NSRange(location: 0, length: ns.length))
        var names: [String: String] = [:]
        for m in matches where ns.substring(with: m.range(at: 1)) == "id=\"" {
            let old = ns.substring(with: m.range(at: 2))
            if names[old] == nil { names[old] = "\(prefix)\(names.count + 1)" }
        }
        var out = "", last = 0
        for m in matches {
            guard let new = names[ns.substring(with: m.range(at: 2))] else { continue }
            let r = m.range(at: 2)
            out += ns.substring(with: NSRange(location: last, length: r.location - last)) + new
            last = r.location + r.length
        }
        return out + ns.substring(from: last)
    }

    /// PDF points per figure unit (a unit is 1/96 inch, as in CSS and SVG).
    static let pointsPerUnit = 72.0 / 96.0
    /// The creation date written into PDFs (ISO 8601, as cairo takes it).
    static let fixedDate = "2000-01-01T00:00:00Z"

    /// Collects the bytes a cairo stream surface writes.
    final class Sink {
        var data = Data()
        static let write: cairo_write_func_t = { closure, bytes, length in
            guard let closure, let bytes else { return CAIRO_STATUS_WRITE_ERROR }
            Unmanaged<Sink>.fromOpaque(closure).takeUnretainedValue().data.append(bytes, count: Int(length))
            return CAIRO_STATUS_SUCCESS
        }
    }

    static func drawAll(_ canvas: Canvas, on surface: OpaquePointer, scale: Double = 1) {
        guard let cr = cairo_create(surface) else { return }
        defer { cairo_destroy(cr) }
        cairo_scale(cr, scale, scale)
        setColour(cr, canvas.background)
        cairo_paint(cr)
        draw(canvas, on: cr)
    }

    static func setColour(_ cr: OpaquePointer, _ c: Colour) { cairo_set_source_rgb(cr, c.r, c.g, c.b) }

    static func draw(_ canvas: Canvas, on cr: OpaquePointer) {
        for op in canvas.operations {
            switch op {
            case let .fill(x, y, w, h, c):
                setColour(cr, c)
                cairo_rectangle(cr, Double(x), Double(y), Double(w), Double(h))
                cairo_fill(cr)
            case let .line(x0, y0, x1, y1, c, lineWidth):
                setColour(cr, c)
                cairo_set_line_width(cr, lineWidth)
                cairo_move_to(cr, x0 + 0.5, y0 + 0.5)
                cairo_line_to(cr, x1 + 0.5, y1 + 0.5)
                cairo_stroke(cr)
            case let .circle(x, y, radius, c, filled):
                setColour(cr, c)
                cairo_new_sub_path(cr)
                cairo_arc(cr, x + 0.5, y + 0.5, radius, 0, 2 * Double.pi)
                if filled { cairo_fill(cr) } else { cairo_set_line_width(cr, 1); cairo_stroke(cr) }
            case let .text(text, x, y, c):
                setColour(cr, c)
                TextLayout.draw(text, x: Double(x), y: Double(y), on: cr)
            case let .raster(image, x, y, scaleX, scaleY):
                drawRaster(image, x: x, y: y, scaleX: scaleX, scaleY: scaleY, on: cr)
            case let .canvas(other, x, y):
                cairo_save(cr)
                cairo_translate(cr, Double(x), Double(y))
                cairo_rectangle(cr, 0, 0, Double(other.width), Double(other.height))
                cairo_clip(cr)
                setColour(cr, other.background)
                cairo_paint(cr)
                draw(other, on: cr)
                cairo_restore(cr)
            }
        }
    }

    /// `image` as a cairo image pattern scaled with the nearest-neighbour filter.
    static func drawRaster(_ image: RGBImage, x: Int, y: Int, scaleX: Int, scaleY: Int, on cr: OpaquePointer) {
        guard image.width > 0, image.height > 0,
              let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(image.width), Int32(image.height)) else { return }
        defer { cairo_surface_destroy(surface) }
        cairo_surface_flush(surface)
        guard let base = cairo_image_surface_get_data(surface) else { return }
        let stride = Int(cairo_image_surface_get_stride(surface))
        for r in 0..<image.height {
            let row = UnsafeMutableRawPointer(base + r * stride).assumingMemoryBound(to: UInt32.self)
            for c in 0..<image.width {
                let (red, green, blue) = image[c, r]
                row[c] = UInt32(red) << 16 | UInt32(green) << 8 | UInt32(blue)
            }
        }
        cairo_surface_mark_dirty(surface)
        cairo_save(cr)
        cairo_translate(cr, Double(x), Double(y))
        cairo_scale(cr, Double(scaleX), Double(scaleY))
        cairo_set_source_surface(cr, surface, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST)
        cairo_rectangle(cr, 0, 0, Double(image.width), Double(image.height))
        cairo_fill(cr)
        cairo_restore(cr)
    }
}
