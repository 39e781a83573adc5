// GNU Scientific Library. OpenBLAS's <cblas.h> comes first and GSL's own CBLAS header is
// suppressed: both define CBLAS_TRANSPOSE, and a module importing CBLAS and CGSL would see two
// different definitions. libgslcblas is not linked, so OpenBLAS's symbols are the only ones.
#include <cblas.h>
#define __GSL_CBLAS_H__
#include <gsl/gsl_errno.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_sort_double.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_linalg.h>

// Swift 6 rejects GSL's mutable RNG-type globals; expose them through getters.
static inline const gsl_rng_type *tandem_gsl_rng_mt19937(void) { return gsl_rng_mt19937; }
