/* LaueMap's C interface: liblauemapc.so (swift build -c release --product lauemapc).
 *
 * Conventions (docs/python.md):
 *  - Every function but lauemap_version and lauemap_free returns a status: 0 on success, else the
 *    kind of error: 1 unreadable, 2 invalid_format, 3 unsupported, 4 missing_data,
 *    5 invalid_argument, 6 unknown_material, 7 numerical, 8 external, 99 internal. The caller's buffer
 *    `error` (`error_capacity` bytes) then holds a NUL-terminated JSON object
 *    {"kind", "file", "item", "reason", "message"}. Bad input never traps.
 *  - Strings and buffers returned through out-parameters are malloc'ed: free them with lauemap_free.
 *    Input buffers stay the caller's.
 *  - Frames are row-major (row 0 first); dtype codes: 0 uint8, 1 uint16, 2 uint32, 3 int16, 4 int32,
 *    5 float32, 6 float64. Peak positions follow LaueTools (first pixel centre at (1, 1)).
 *  - `options` is a JSON object of named options (NULL or "" for the defaults); unknown keys are errors.
 *  - Thread-safe: calls may run concurrently; costly objects (indexers) are kept per calibration,
 *    material and options for later calls.
 */
#ifndef LAUEMAP_H
#define LAUEMAP_H

#include <stdint.h>

const char *lauemap_version(void);
void lauemap_free(void *pointer);

int32_t lauemap_read_image(const char *path, int64_t frame, const char *dataset,
                           float **pixels, int64_t *width, int64_t *height, int32_t *dtype,
                           char *error, int64_t error_capacity);

/* CSV of `lauemap peaks --csv` (angular columns when calibration is not NULL). */
int32_t lauemap_peaks(const void *pixels, int32_t dtype, int64_t width, int64_t height,
                      const char *calibration, const char *options, char **csv,
                      char *error, int64_t error_capacity);

/* The same table as numbers, column after column (`rows` values each, full precision, NaN where the
   CSV is empty); columns: JSON {"names": [...], "digits": [CSV decimals or null], "models": [names of
   the model column's values]}. Free values and columns with lauemap_free. */
int32_t lauemap_peaks_columns(const void *pixels, int32_t dtype, int64_t width, int64_t height,
                              const char *calibration, const char *options, double **values, int64_t *rows,
                              char **columns, char *error, int64_t error_capacity);

/* Seconds the library's own peak search takes on the frame (conversion untimed): a benchmark reference. */
int32_t lauemap_peaks_search_seconds(const void *pixels, int32_t dtype, int64_t width, int64_t height,
                                     const char *options, double *seconds, char *error, int64_t error_capacity);

/* JSON of `lauemap index --json`; material: one name/JSON file or several, comma-separated;
   detector: each peak's detector (NULL: all 0), options side_calib: the side detectors' calibrations. */
int32_t lauemap_index(const double *x, const double *y, const double *intensity, const int32_t *detector, int64_t n,
                      const char *calibration, const char *material, const char *options, char **json,
                      char *error, int64_t error_capacity);

/* JSON {"pattern": CSV (patterns.csv header + row), "spots": CSV (peaks.csv header + rows)}. */
int32_t lauemap_classify(const void *pixels, int32_t dtype, int64_t width, int64_t height,
                         const char *calibration, const char *material, const char *label,
                         const char *options, char **json, char *error, int64_t error_capacity);

/* A simulated frame (float32) and JSON of its truth; detector: built-in name or .det path. */
int32_t lauemap_simulate(const char *detector, const char *material, const char *options,
                         float **pixels, int64_t *width, int64_t *height, char **truth,
                         char *error, int64_t error_capacity);

/* JSON of `lauemap xanes normalize --json` (Larch's pre_edge). */
int32_t lauemap_xanes_normalize(const double *energy, const double *mu, int64_t n, const char *options,
                                char **json, char *error, int64_t error_capacity);

#endif
