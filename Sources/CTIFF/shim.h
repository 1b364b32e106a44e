#ifndef CTIFF_SHIM_H
#define CTIFF_SHIM_H
#include <stdint.h>
#include <stdarg.h>
#include <tiffio.h>

/* TIFFSetField / TIFFGetField are C variadic functions, which Swift does not import.
   Non-variadic static inline wrappers are compiled by the Clang importer. */
static inline int ctiff_set_u32(TIFF *tif, uint32_t tag, uint32_t value) { return TIFFSetField(tif, tag, value); }
/* uint16 tags travel through varargs promoted to int. */
static inline int ctiff_set_u16(TIFF *tif, uint32_t tag, uint16_t value) { return TIFFSetField(tif, tag, (int)value); }
static inline int ctiff_set_str(TIFF *tif, uint32_t tag, const char *value) { return TIFFSetField(tif, tag, value); }
static inline int ctiff_get_u32(TIFF *tif, uint32_t tag, uint32_t *value) { return TIFFGetField(tif, tag, value); }
static inline int ctiff_get_u16(TIFF *tif, uint32_t tag, uint16_t *value) { return TIFFGetField(tif, tag, value); }
static inline int ctiff_get_u16_defaulted(TIFF *tif, uint32_t tag, uint16_t *value) { return TIFFGetFieldDefaulted(tif, tag, value); }
static inline int ctiff_get_str(TIFF *tif, uint32_t tag, const char **value) { return TIFFGetField(tif, tag, value); }

/* libtiff prints warnings and errors to stderr by default; silence them so that
   readers can report one clear error of their own. */
static inline void ctiff_silence(void) {
    TIFFSetWarningHandler(NULL);
    TIFFSetErrorHandler(NULL);
}
#endif
