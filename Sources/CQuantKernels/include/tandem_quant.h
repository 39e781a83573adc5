// Integer dot-product kernels over quantized weight panels (see QuantizedMatrix.swift for the
// layout). Swift cannot spell AVX-512 VNNI or AVX2's byte multiply-adds, so these few
// functions are C with intrinsics; everything around them (packing, activation quantization,
// threading, the portable oracle) is Swift.
#ifndef TANDEM_QUANT_H
#define TANDEM_QUANT_H

#include <stdint.h>

/// Weight kinds of a panel; the values are fixed (Swift passes them).
enum { TANDEM_Q8_0 = 0, TANDEM_Q4_0 = 1, TANDEM_Q4_1 = 2 };

/// One panel of 16 output columns times `blocks` blocks of 32 inputs, multiplied by `rows`
/// rows of Q8 activations (int8 quants, one float scale and one int sum per row and block).
typedef struct {
    const uint8_t *panel;      // blocks x block bytes (544 Q8_0, 288 Q4_0, 320 Q4_1)
    int32_t blocks;            // K / 32
    int32_t kind;              // TANDEM_Q8_0, TANDEM_Q4_0 or TANDEM_Q4_1
    const int8_t *x;           // activation quants, row r at x + r * x_stride
    int64_t x_stride;          // bytes
    const float *x_scale;      // row r, block b at x_scale[r * scale_stride + b]
    const int32_t *x_sum;      // sum of the row's 32 quants in block b, same indexing
    int64_t scale_stride;      // elements
    float *y;                  // row r at y + r * y_stride; `width` columns written
    int64_t y_stride;          // elements
    int32_t width;             // 1...16
    int32_t accumulate;        // y += product instead of y = product
    const uint8_t *prefetch;   // the next panel (NULL: none), prefetched block by block
} tandem_quant_call;

/// 1 when the CPU has AVX-512 F/BW/VL/VNNI (and F16C), else 0.
int tandem_quant_has_avx512vnni(void);
/// 1 when the CPU has AVX2, FMA and F16C, else 0.
int tandem_quant_has_avx2(void);

/// y[rows x width] (+)= x[rows x 32 blocks] . panel, rows 1...8; only on a CPU that has it.
void tandem_quant_panel_avx512vnni(const tandem_quant_call *call, int rows);
void tandem_quant_panel_avx2(const tandem_quant_call *call, int rows);

#endif
