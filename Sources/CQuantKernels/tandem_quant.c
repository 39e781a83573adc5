// Quantized-panel kernels. Layout of one block of a panel (16 columns x 32 inputs):
//   scales: 16 IEEE halves (d of each column's GGML block)
//   minima: 16 halves, Q4_1 only (m)
//   quants: Q8_0: 8 groups of 64 bytes, group g byte 4j + t = q[j][4g + t] + 128 (unsigned)
//           Q4_0/Q4_1: 4 pairs of 64 bytes, pair p byte 4j + t = q[j][8p + t] | q[j][8p + 4 + t] << 4
// Four consecutive inputs of one column share a 32-bit lane, which is what VNNI's vpdpbusd and
// AVX2's vpmaddubsw + vpmaddwd reduce. Activations carry a power-of-two scale 2^e per row and
// block, so per row r and block b the integer dot is exact, and so is (float)(dot - offset * xsum)
// * 2^e; then
//   y[r][j] = fma((float)(dot - offset * xsum) * 2^e, d[j], y[r][j])   (offset 128 Q8_0, 8 Q4_0, 0 Q4_1)
//   y[r][j] = fma(m[j], 2^e * (float)xsum, y[r][j])                     (Q4_1)
// The SIMD kernels form d[j] * 2^e instead (also exact: an integer add of e << 23 to d's
// exponent field), so the scale costs an integer add instead of a float multiply on the pipes
// vpdpbusd needs, and every kernel (and the Swift oracle) gives the same bits. The add needs a
// normal d: packing stores a zero d as 2^-14 with quants whose offset-corrected dot is 0, so no
// kernel masks lanes (on Zen 4 a masked add takes a slot on the pipes vpdpbusd and vfmadd share:
// measured, 8 per block of 8 rows cost about 5% of the product). The unused lanes of a partial
// last panel keep d = 0 and produce garbage that the width mask discards. A GGUF d of infinity
// or NaN is not supported: the add turns it into another value where the portable kernel gives
// inf or NaN.
#include "tandem_quant.h"
#include <stdlib.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { BLOCK_BYTES_Q8_0 = 544, BLOCK_BYTES_Q4_0 = 288, BLOCK_BYTES_Q4_1 = 320 };

static inline int block_bytes(int kind) {
    return kind == TANDEM_Q8_0 ? BLOCK_BYTES_Q8_0 : kind == TANDEM_Q4_0 ? BLOCK_BYTES_Q4_0 : BLOCK_BYTES_Q4_1;
}

#if defined(__x86_64__)
int tandem_quant_has_avx512vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")
        && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma");
}

int tandem_quant_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

static inline int32_t load_i32(const int8_t *p) {
    int32_t v;
    __builtin_memcpy(&v, p, 4);
    return v;
}

// e << 23 of a power-of-two scale 2^e (normal): its bits minus those of 1.0f, what adding to
// a float's bits multiplies it by 2^e.
static inline int32_t exponent_shift(float scale) {
    uint32_t bits;
    __builtin_memcpy(&bits, &scale, 4);
    return (int32_t)(bits - 0x3F800000u);
}

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma")))

// y[R x 16] (+)= x[R x 32 blocks] . panel, R = rows <= 8 and kind constants after inlining. Few
// rows leave vpdpbusd's latency exposed, so their groups go to up to 4 independent integer
// chains, summed per block (integer sums: the result is the same).
VNNI_TARGET static inline __attribute__((always_inline))
void panel_vnni(const tandem_quant_call *c, const int rows, const int kind) {
    const int bytes = block_bytes(kind), quant_offset = kind == TANDEM_Q4_1 ? 64 : 32;
    const int chains = rows <= 2 ? 4 : rows <= 4 ? 2 : 1;
    const int32_t offset = kind == TANDEM_Q8_0 ? 128 : kind == TANDEM_Q4_0 ? 8 : 0;
    const __m512i low_nibbles = _mm512_set1_epi8(0x0F);
    __m512 acc[8];
    for (int r = 0; r < rows; r++) acc[r] = _mm512_setzero_ps();
    for (int b = 0; b < c->blocks; b++) {
        const uint8_t *block = c->panel + (int64_t)b * bytes, *q = block + quant_offset;
        if (c->prefetch) {
            const uint8_t *next = c->prefetch + (int64_t)b * bytes;
            for (int line = 0; line < bytes; line += 64) _mm_prefetch((const char *)next + line, _MM_HINT_T1);
        }
        __m512i dot[8][4];
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < chains; h++) dot[r][h] = _mm512_setzero_si512();
        for (int g = 0; g < 8; g++) {
            __m512i w;
            if (kind == TANDEM_Q8_0) {
                w = _mm512_loadu_si512(q + 64 * g);
            } else {
                const __m512i raw = _mm512_loadu_si512(q + 64 * (g >> 1));
                w = (g & 1) ? _mm512_and_si512(_mm512_srli_epi16(raw, 4), low_nibbles)
                            : _mm512_and_si512(raw, low_nibbles);
            }
            for (int r = 0; r < rows; r++) {
                const int8_t *x = c->x + r * c->x_stride + 32 * b + 4 * g;
                const int h = g % chains;
                dot[r][h] = _mm512_dpbusd_epi32(dot[r][h], w, _mm512_set1_epi32(load_i32(x)));
            }
        }
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)block));
        __m512 m = _mm512_setzero_ps();
        if (kind == TANDEM_Q4_1) m = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(block + 32)));
        const __m512i d_bits = _mm512_castps_si512(d);
        for (int r = 0; r < rows; r++) {
            const int64_t at = r * c->scale_stride + b;
            __m512i exact = dot[r][0];
            for (int h = 1; h < chains; h++) exact = _mm512_add_epi32(exact, dot[r][h]);
            if (offset) exact = _mm512_sub_epi32(exact, _mm512_set1_epi32(c->x_offset_sum[at]));
            const __m512i exponent = _mm512_set1_epi32(exponent_shift(c->x_scale[at]));
            const __m512 scaled_d = _mm512_castsi512_ps(_mm512_add_epi32(d_bits, exponent));
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), scaled_d, acc[r]);
            if (kind == TANDEM_Q4_1) acc[r] = _mm512_fmadd_ps(m, _mm512_set1_ps(c->x_scaled_sum[at]), acc[r]);
        }
    }
    const __mmask16 mask = (__mmask16)((1u << c->width) - 1);
    for (int r = 0; r < rows; r++) {
        float *y = c->y + r * c->y_stride;
        __m512 out = acc[r];
        if (c->accumulate) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(mask, y));
        _mm512_mask_storeu_ps(y, mask, out);
    }
}

#define VNNI_ROWS(kind) \
    switch (rows) { \
    case 1: panel_vnni(c, 1, kind); break; \
    case 2: panel_vnni(c, 2, kind); break; \
    case 3: panel_vnni(c, 3, kind); break; \
    case 4: panel_vnni(c, 4, kind); break; \
    case 5: panel_vnni(c, 5, kind); break; \
    case 6: panel_vnni(c, 6, kind); break; \
    case 7: panel_vnni(c, 7, kind); break; \
    default: panel_vnni(c, 8, kind); break; \
    }

VNNI_TARGET void tandem_quant_panel_avx512vnni(const tandem_quant_call *c, int rows) {
    switch (c->kind) {
    case TANDEM_Q8_0: VNNI_ROWS(TANDEM_Q8_0) break;
    case TANDEM_Q4_0: VNNI_ROWS(TANDEM_Q4_0) break;
    default: VNNI_ROWS(TANDEM_Q4_1) break;
    }
}

#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))

// y[R x 16] (+)= x[R x 32 blocks] . panel, R = rows <= 4; 16 columns as two 8-lane halves
AVX2_TARGET static inline __attribute__((always_inline))
void panel_avx2(const tandem_quant_call *c, const int rows) {
    const int kind = c->kind, bytes = block_bytes(kind), quant_offset = kind == TANDEM_Q4_1 ? 64 : 32;
    // Q8_0: the signed product is formed directly (sign trick), so no offset is subtracted.
    const int32_t offset = kind == TANDEM_Q4_0 ? 8 : 0;
    const __m256i low_nibbles = _mm256_set1_epi8(0x0F), flip = _mm256_set1_epi8((char)0x80);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[4][2];
    for (int r = 0; r < rows; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int b = 0; b < c->blocks; b++) {
        const uint8_t *block = c->panel + (int64_t)b * bytes, *q = block + quant_offset;
        if (c->prefetch) {
            const uint8_t *next = c->prefetch + (int64_t)b * bytes;
            for (int line = 0; line < bytes; line += 64) _mm_prefetch((const char *)next + line, _MM_HINT_T1);
        }
        __m256i dot[4][2];
        for (int r = 0; r < rows; r++) dot[r][0] = dot[r][1] = _mm256_setzero_si256();
        for (int g = 0; g < 8; g++) {
            for (int h = 0; h < 2; h++) {
                __m256i w;
                if (kind == TANDEM_Q8_0) {
                    w = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(q + 64 * g + 32 * h)), flip);
                } else {
                    const __m256i raw = _mm256_loadu_si256((const __m256i *)(q + 64 * (g >> 1) + 32 * h));
                    w = (g & 1) ? _mm256_and_si256(_mm256_srli_epi16(raw, 4), low_nibbles)
                                : _mm256_and_si256(raw, low_nibbles);
                }
                const __m256i magnitude = kind == TANDEM_Q8_0 ? _mm256_sign_epi8(w, w) : w;
                for (int r = 0; r < rows; r++) {
                    __m256i x = _mm256_set1_epi32(load_i32(c->x + r * c->x_stride + 32 * b + 4 * g));
                    if (kind == TANDEM_Q8_0) x = _mm256_sign_epi8(x, w);
                    const __m256i pairs = _mm256_maddubs_epi16(magnitude, x);
                    dot[r][h] = _mm256_add_epi32(dot[r][h], _mm256_madd_epi16(pairs, ones));
                }
            }
        }
        const __m256 d0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)block));
        const __m256 d1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(block + 16)));
        __m256 m0 = _mm256_setzero_ps(), m1 = _mm256_setzero_ps();
        if (kind == TANDEM_Q4_1) {
            m0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(block + 32)));
            m1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(block + 48)));
        }
        const __m256i d_bits[2] = {_mm256_castps_si256(d0), _mm256_castps_si256(d1)};
        for (int r = 0; r < rows; r++) {
            const int64_t at = r * c->scale_stride + b;
            const __m256i exponent = _mm256_set1_epi32(exponent_shift(c->x_scale[at]));
            for (int h = 0; h < 2; h++) {
                __m256i exact = dot[r][h];
                if (offset) exact = _mm256_sub_epi32(exact, _mm256_set1_epi32(c->x_offset_sum[at]));
                const __m256 scaled_d = _mm256_castsi256_ps(_mm256_add_epi32(d_bits[h], exponent));
                acc[r][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(exact), scaled_d, acc[r][h]);
                if (kind == TANDEM_Q4_1)
                    acc[r][h] = _mm256_fmadd_ps(h ? m1 : m0, _mm256_set1_ps(c->x_scaled_sum[at]), acc[r][h]);
            }
        }
    }
    for (int r = 0; r < rows; r++) {
        float *y = c->y + r * c->y_stride, out[16];
        _mm256_storeu_ps(out, acc[r][0]);
        _mm256_storeu_ps(out + 8, acc[r][1]);
        for (int j = 0; j < c->width; j++) y[j] = c->accumulate ? y[j] + out[j] : out[j];
    }
}

AVX2_TARGET void tandem_quant_panel_avx2(const tandem_quant_call *c, int rows) {
    switch (rows) {
    case 1: panel_avx2(c, 1); break;
    case 2: panel_avx2(c, 2); break;
    case 3: panel_avx2(c, 3); break;
    default: panel_avx2(c, 4); break;
    }
}

#else // not x86-64: only the portable Swift kernel and the scalar quantizer exist
int tandem_quant_has_avx512vnni(void) { return 0; }
int tandem_quant_has_avx2(void) { return 0; }
void tandem_quant_panel_avx512vnni(const tandem_quant_call *c, int rows) { (void)c; (void)rows; abort(); }
void tandem_quant_panel_avx2(const tandem_quant_call *c, int rows) { (void)c; (void)rows; abort(); }
#endif

// x[rows x columns] (row stride x_stride floats) -> quants [rows x columns] int8 (nearest, ties to
// even), per row and block of 32 the power-of-two scale 2^e, e the smallest integer in
// [-100, 100] with amax / 127 <= 2^e (so |q| <= 127; beyond 2^100 * 127 values saturate),
// offset x the quants' sum and 2^e x that sum; NaN counts as 0. x * 2^-e is exact, so all paths
// give the same bytes. A power of two instead of llama.cpp's amax / 127 costs at most one bit of
// the quants (the rounding error grows by sqrt(2.16) = 1.47x in RMS over uniformly spread amax),
// and saves a float multiply per row, block and 16 outputs in the kernels.
static inline int block_exponent(float amax) {
    const float s = amax / 127;
    if (!(s > 0x1p-100f)) return -100; // also 0 and NaN
    if (s > 0x1p100f) return 100;      // also infinity
    uint32_t bits;
    __builtin_memcpy(&bits, &s, 4);    // normal here: s = 1.mantissa * 2^(field - 127)
    const int field = (int)(bits >> 23) & 0xFF;
    return (bits & 0x7FFFFF) ? field - 126 : field - 127;
}

static inline float power_of_two(int e) { // e in [-126, 127]
    const uint32_t bits = (uint32_t)(e + 127) << 23;
    float f;
    __builtin_memcpy(&f, &bits, 4);
    return f;
}

static inline void store_block(int e, int32_t sum, int32_t offset, int64_t at, float *scales,
                               int32_t *offset_sums, float *scaled_sums) {
    const float scale = power_of_two(e);
    scales[at] = scale;
    offset_sums[at] = offset * sum;
    scaled_sums[at] = scale * (float)sum;
}

static void quantize_rows_scalar(const float *x, int64_t x_stride, int rows, int columns, int32_t offset,
                                 int8_t *quants, float *scales, int32_t *offset_sums,
                                 float *scaled_sums) {
    const int blocks = columns / 32;
    for (int r = 0; r < rows; r++) {
        for (int b = 0; b < blocks; b++) {
            const float *v = x + r * x_stride + 32 * b;
            float amax = 0;
            for (int k = 0; k < 32; k++) { float a = __builtin_fabsf(v[k]); amax = a > amax ? a : amax; }
            const int e = block_exponent(amax);
            const float inverse = power_of_two(-e);
            int32_t sum = 0;
            for (int k = 0; k < 32; k++) {
                float s = v[k] * inverse;
                if (s != s) s = 0;
                s = s < -127 ? -127 : s > 127 ? 127 : s;
                const int32_t q = (int32_t)__builtin_rintf(s); // default rounding mode: ties to even
                quants[(int64_t)r * columns + 32 * b + k] = (int8_t)q;
                sum += q;
            }
            store_block(e, sum, offset, r * blocks + b, scales, offset_sums, scaled_sums);
        }
    }
}

#if defined(__x86_64__)
AVX2_TARGET static void quantize_rows_avx2(const float *x, int64_t x_stride, int rows, int columns,
                                           int32_t offset, int8_t *quants, float *scales,
                                           int32_t *offset_sums, float *scaled_sums) {
    const int blocks = columns / 32;
    const __m256 sign = _mm256_set1_ps(-0.0f), low = _mm256_set1_ps(-127), high = _mm256_set1_ps(127);
    for (int r = 0; r < rows; r++) {
        for (int b = 0; b < blocks; b++) {
            const float *v = x + r * x_stride + 32 * b;
            __m256 a[4], m = _mm256_setzero_ps();
            for (int i = 0; i < 4; i++) {
                a[i] = _mm256_loadu_ps(v + 8 * i);
                // maxps returns its second operand when either is NaN: keep m there, so a NaN
                // element is skipped (as in the scalar path) instead of wiping out the maximum.
                m = _mm256_max_ps(_mm256_andnot_ps(sign, a[i]), m);
            }
            __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
            m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
            m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
            const float amax = _mm_cvtss_f32(m4);
            const int e = block_exponent(amax);
            const __m256 inv = _mm256_set1_ps(power_of_two(-e));
            __m256i total = _mm256_setzero_si256();
            int32_t q32[32];
            for (int i = 0; i < 4; i++) {
                __m256 s = _mm256_mul_ps(a[i], inv);
                s = _mm256_and_ps(s, _mm256_cmp_ps(s, s, _CMP_ORD_Q)); // NaN -> 0
                s = _mm256_min_ps(_mm256_max_ps(s, low), high);
                const __m256i q = _mm256_cvtps_epi32(s); // MXCSR default: nearest, ties to even
                total = _mm256_add_epi32(total, q);
                _mm256_storeu_si256((__m256i *)(q32 + 8 * i), q);
            }
            int8_t *out = quants + (int64_t)r * columns + 32 * b;
            for (int k = 0; k < 32; k++) out[k] = (int8_t)q32[k];
            __m128i t = _mm_add_epi32(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
            t = _mm_hadd_epi32(t, t);
            t = _mm_hadd_epi32(t, t);
            store_block(e, _mm_cvtsi128_si32(t), offset, r * blocks + b, scales, offset_sums, scaled_sums);
        }
    }
}


// The same bytes with 16 lanes: vpmovdb narrows. Two passes over a row's blocks: first every
// block's maximum and exponent, then the quantization with the exponents known, so the long
// per-block chain (maximum, exponent, scale, round, sum) is cut in two independent halves that
// the core overlaps across blocks (a throwaway harness, 8 rows of 576 or 1536: 40 -> 27 cycles
// per block).
VNNI_TARGET static void quantize_rows_avx512(const float *x, int64_t x_stride, int rows, int columns,
                                             int32_t offset, int8_t *quants, float *scales,
                                             int32_t *offset_sums, float *scaled_sums) {
    const int blocks = columns / 32;
    const __m512 low = _mm512_set1_ps(-127), high = _mm512_set1_ps(127);
    for (int r = 0; r < rows; r++) {
        const float *row = x + r * x_stride;
        int8_t *out = quants + (int64_t)r * columns;
        float *scale = scales + (int64_t)r * blocks;
        for (int b = 0; b < blocks; b++) {
            const __m512 a0 = _mm512_loadu_ps(row + 32 * b), a1 = _mm512_loadu_ps(row + 32 * b + 16);
            // maxps returns its second operand when either is NaN: a NaN element is skipped.
            __m512 m = _mm512_max_ps(_mm512_abs_ps(a0), _mm512_setzero_ps());
            m = _mm512_max_ps(_mm512_abs_ps(a1), m);
            scale[b] = power_of_two(block_exponent(_mm512_reduce_max_ps(m)));
        }
        for (int b = 0; b < blocks; b++) {
            const __m512 a0 = _mm512_loadu_ps(row + 32 * b), a1 = _mm512_loadu_ps(row + 32 * b + 16);
            const __m512 inv = _mm512_castsi512_ps( // 2^-e: (127 - e) << 23 = (254 << 23) - ((e + 127) << 23)
                _mm512_sub_epi32(_mm512_set1_epi32(254 << 23), _mm512_castps_si512(_mm512_set1_ps(scale[b]))));
            __m512 s0 = _mm512_mul_ps(a0, inv), s1 = _mm512_mul_ps(a1, inv);
            s0 = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(s0, s0, _CMP_ORD_Q), s0); // NaN -> 0
            s1 = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(s1, s1, _CMP_ORD_Q), s1);
            const __m512i q0 = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(s0, low), high)); // ties to even
            const __m512i q1 = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(s1, low), high));
            _mm_storeu_si128((__m128i *)(out + 32 * b), _mm512_cvtepi32_epi8(q0));
            _mm_storeu_si128((__m128i *)(out + 32 * b + 16), _mm512_cvtepi32_epi8(q1));
            const int32_t sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
            offset_sums[(int64_t)r * blocks + b] = offset * sum;
            scaled_sums[(int64_t)r * blocks + b] = scale[b] * (float)sum;
        }
    }
}
#endif

void tandem_quantize_rows(const float *x, int64_t x_stride, int rows, int columns, int32_t offset,
                          int8_t *quants, float *scales, int32_t *offset_sums,
                          float *scaled_sums, int simd) {
#if defined(__x86_64__)
    if (simd == 2) {
        quantize_rows_avx512(x, x_stride, rows, columns, offset, quants, scales, offset_sums, scaled_sums);
        return;
    }
    if (simd == 1) {
        quantize_rows_avx2(x, x_stride, rows, columns, offset, quants, scales, offset_sums, scaled_sums);
        return;
    }
#endif
    (void)simd;
    quantize_rows_scalar(x, x_stride, rows, columns, offset, quants, scales, offset_sums, scaled_sums);
}

#if defined(__x86_64__)
// The integer multiply-add peak the panel kernels can reach: 8 independent chains of the kernel's
// dot instruction on registers, `iterations` times. Returns MACs done (the sum keeps it alive).
VNNI_TARGET static int64_t peak_vnni(int64_t iterations, int32_t *sink) {
    __m512i a[8];
    for (int i = 0; i < 8; i++) a[i] = _mm512_set1_epi32(i);
    const __m512i w = _mm512_set1_epi8(3), x = _mm512_set1_epi8(5);
    for (int64_t i = 0; i < iterations; i++) {
        for (int j = 0; j < 8; j++) a[j] = _mm512_dpbusd_epi32(a[j], w, x);
        __asm__ volatile("" : "+v"(a[0]), "+v"(a[1]), "+v"(a[2]), "+v"(a[3]));
    }
    uint32_t sum = 0; // unsigned: wraps instead of overflowing
    for (int j = 0; j < 8; j++) sum += (uint32_t)_mm512_reduce_add_epi32(a[j]);
    *sink = (int32_t)sum;
    return iterations * 8 * 64;
}

AVX2_TARGET static int64_t peak_avx2(int64_t iterations, int32_t *sink) {
    __m256i a[8];
    for (int i = 0; i < 8; i++) a[i] = _mm256_set1_epi32(i);
    const __m256i w = _mm256_set1_epi8(3), x = _mm256_set1_epi8(5), ones = _mm256_set1_epi16(1);
    for (int64_t i = 0; i < iterations; i++) {
        // Each chain multiplies its own operand (x ^ its accumulator), so no multiply is shared
        // between chains or hoisted out of the loop (a vpxor each, on another port).
        for (int j = 0; j < 8; j++) {
            const __m256i products = _mm256_maddubs_epi16(w, _mm256_xor_si256(x, a[j]));
            a[j] = _mm256_add_epi32(a[j], _mm256_madd_epi16(products, ones));
        }
        __asm__ volatile("" : "+v"(a[0]), "+v"(a[1]), "+v"(a[2]), "+v"(a[3]));
    }
    uint32_t sum = 0;
    for (int j = 0; j < 8; j++) sum += (uint32_t)_mm256_extract_epi32(a[j], 0);
    *sink = (int32_t)sum;
    return iterations * 8 * 32;
}

int64_t tandem_quant_peak_loop(int64_t iterations, int use_vnni, int32_t *sink) {
    return use_vnni ? peak_vnni(iterations, sink) : peak_avx2(iterations, sink);
}
#else
int64_t tandem_quant_peak_loop(int64_t iterations, int use_vnni, int32_t *sink) {
    (void)iterations; (void)use_vnni; *sink = 0;
    return 0;
}
#endif
