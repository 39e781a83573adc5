// OpenBLAS's CBLAS interface (Debian: libopenblas-dev; <cblas.h> points at the pthread build).
#include <cblas.h>
