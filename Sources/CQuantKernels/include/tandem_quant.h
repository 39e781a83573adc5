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
/// rows of Q8 activations (int8 quants, one float scale per row and block, and the block's sum of
/// quants in the two forms the weight kinds need, precomputed so the kernels broadcast from memory).
typedef struct {
    const uint8_t *panel;      // blocks x block bytes (544 Q8_0, 288 Q4_0, 320 Q4_1)
    int32_t blocks;            // K / 32
    int32_t kind;              // TANDEM_Q8_0, TANDEM_Q4_0 or TANDEM_Q4_1
    const int8_t *x;           // activation quants, row r at x + r * x_stride
    int64_t x_stride;          // bytes
    const float *x_scale;      // power-of-two scale 2^e of row r, block b at x_scale[r * scale_stride + b]
    const int32_t *x_offset_sum; // offset (128 Q8_0, 8 Q4_0) x the block's sum of quants, same indexing
    const float *x_scaled_sum; // x_scale x the block's sum of quants (for Q4_1's minimum), same indexing
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

/// Quantizes rows of activations for the kernels: x[rows x columns] (row stride x_stride floats,
/// columns a multiple of 32) -> int8 quants [rows x columns] (nearest, ties to even), per row and
/// block of 32 ([rows x columns / 32]) the power-of-two scale 2^e with e the smallest integer in
/// [-100, 100] such that amax / 127 <= 2^e, offset x the quants' sum, and 2^e x (float)
/// the quants' sum; NaN counts as 0. simd: 0 scalar, 1 AVX2, 2 AVX-512 (only on a CPU that has
/// it; the VNNI kernel's CPUs have it) changes the speed, not the bytes.
void tandem_quantize_rows(const float *x, int64_t x_stride, int rows, int columns, int32_t offset,
                          int8_t *quants, float *scales, int32_t *offset_sums,
                          float *scaled_sums, int simd);

/// The integer multiply-add rate's probe: 8 independent chains of vpdpbusd (use_vnni, only on a
/// CPU with it) or vpmaddubsw + vpmaddwd, `iterations` rounds; returns the multiply-adds done.
int64_t tandem_quant_peak_loop(int64_t iterations, int use_vnni, int32_t *sink);

#endif
