import CCairo
import Foundation

/// Text in figures: laid out by Pango in a system font (DejaVu Sans from Debian's fonts-dejavu-core,
/// or fontconfig's nearest sans-serif), so any Unicode the font holds is drawn: µ, °, Å, ⁻², Greek.
enum TextLayout {
    /// The Pango font description of figure text: 12 px DejaVu Sans (the size of 9 pt at 96 dpi).
    static let font = "DejaVu Sans, sans-serif 12px"

    /// Logical width and height of `text` on one line, units.
    static func size(_ text: String) -> (width: Double, height: Double) {
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1) else { return (0, 0) }
        defer { cairo_surface_destroy(surface) }
        guard let cr = cairo_create(surface) else { return (0, 0) }
        defer { cairo_destroy(cr) }
        ccairo_text_options(cr)
        var w = 0.0, h = 0.0, baseline = 0.0
        guard let layout = ccairo_layout(cr, text, font, &w, &h, &baseline) else { return (0, 0) }
        ccairo_layout_free(layout)
        return (w, h)
    }

    /// Draws `text` with the top-left corner of its line box at (x, y).
    static func draw(_ text: String, x: Double, y: Double, on cr: OpaquePointer) {
        ccairo_text_options(cr)
        var w = 0.0, h = 0.0, baseline = 0.0
        guard let layout = ccairo_layout(cr, text, font, &w, &h, &baseline) else { return }
        cairo_move_to(cr, x, y)
        ccairo_layout_show(cr, layout)
        ccairo_layout_free(layout)
    }
}
