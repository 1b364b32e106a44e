#ifndef CGSL_SHIM_H
#define CGSL_SHIM_H
#include <gsl/gsl_version.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_multilarge_nlinear.h>
#include <gsl/gsl_fft_complex.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_sort.h>

/* Global const pointers are imported as mutable globals; function accessors avoid the
   Swift 6 "shared mutable state" diagnostics. */
static inline const gsl_multifit_nlinear_type *cgsl_trust(void) { return gsl_multifit_nlinear_trust; }
static inline const gsl_multifit_nlinear_trs *cgsl_trs_lm(void) { return gsl_multifit_nlinear_trs_lm; }
static inline const gsl_multifit_nlinear_trs *cgsl_trs_lmaccel(void) { return gsl_multifit_nlinear_trs_lmaccel; }
static inline const gsl_multifit_nlinear_solver *cgsl_solver_cholesky(void) { return gsl_multifit_nlinear_solver_cholesky; }
static inline const gsl_multilarge_nlinear_type *cgsl_large_trust(void) { return gsl_multilarge_nlinear_trust; }
static inline const gsl_multilarge_nlinear_trs *cgsl_large_trs_lm(void) { return gsl_multilarge_nlinear_trs_lm; }
static inline const gsl_multilarge_nlinear_solver *cgsl_large_solver_cholesky(void) { return gsl_multilarge_nlinear_solver_cholesky; }
static inline const gsl_multifit_nlinear_solver *cgsl_solver_qr(void) { return gsl_multifit_nlinear_solver_qr; }
static inline const char *cgsl_version(void) { return gsl_version; }
/* GSL's default error handler calls abort(); LaueMap checks return codes instead. */
static inline void cgsl_disable_abort(void) { gsl_set_error_handler_off(); }
#endif
