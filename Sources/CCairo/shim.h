#ifndef CCAIRO_SHIM_H
#define CCAIRO_SHIM_H
/* cairo (PNG, PDF, SVG surfaces) and pango (text layout with system fonts) for LaueRendering.
   Text goes through the small wrappers below so that Swift never handles GLib objects itself. */
#include <cairo.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <pango/pangocairo.h>

/* A layout of `text` (UTF-8) in the font `font` (a Pango font description such as "DejaVu Sans 9px"),
   with its logical extents in user units. The caller releases it with ccairo_layout_free. */
static inline PangoLayout *ccairo_layout(cairo_t *cr, const char *text, const char *font, double *width, double *height, double *baseline) {
    PangoLayout *layout = pango_cairo_create_layout(cr);
    PangoFontDescription *desc = pango_font_description_from_string(font);
    pango_layout_set_font_description(layout, desc);
    pango_font_description_free(desc);
    pango_layout_set_text(layout, text, -1);
    PangoRectangle ink, logical;
    pango_layout_get_extents(layout, &ink, &logical);
    *width = (double)logical.width / PANGO_SCALE;
    *height = (double)logical.height / PANGO_SCALE;
    *baseline = (double)pango_layout_get_baseline(layout) / PANGO_SCALE;
    return layout;
}

static inline void ccairo_layout_show(cairo_t *cr, PangoLayout *layout) { pango_cairo_show_layout(cr, layout); }
static inline void ccairo_layout_free(PangoLayout *layout) { g_object_unref(layout); }

/* Hinting off and grey anti-aliasing, so that text looks the same on every surface. */
static inline void ccairo_text_options(cairo_t *cr) {
    cairo_font_options_t *o = cairo_font_options_create();
    cairo_font_options_set_hint_style(o, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(o, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_antialias(o, CAIRO_ANTIALIAS_GRAY);
    cairo_set_font_options(cr, o);
    cairo_font_options_destroy(o);
}
#endif
