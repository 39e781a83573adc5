// Query-key dot products of attention, eight keys per pass (see tandem_attention.h).
#include "tandem_attention.h"
#include <stdlib.h>
#if defined(__x86_64__)
#include <immintrin.h>

int tandem_attention_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#define AVX2_TARGET __attribute__((target("avx2,fma")))

// [sum(a[0]), ..., sum(a[7])], lanes of each added as ((x0+x2)+(x1+x3)) + ((x4+x6)+(x5+x7)):
// in-lane interleaves, in-lane pair selections, then the two 128-bit halves.
AVX2_TARGET static inline __m256 sums8(const __m256 a[8]) {
    __m256 t[4];
    for (int j = 0; j < 4; j++) // [a(0+2) b(0+2) a(1+3) b(1+3) | a(4+6) b(4+6) a(5+7) b(5+7)]
        t[j] = _mm256_add_ps(_mm256_unpacklo_ps(a[2 * j], a[2 * j + 1]), _mm256_unpackhi_ps(a[2 * j], a[2 * j + 1]));
    // [s0 s1 s2 s3 of lanes 0-3 | of lanes 4-7]: (0+2) + (1+3) per half
    const __m256 u0 = _mm256_add_ps(_mm256_shuffle_ps(t[0], t[1], 0x44), _mm256_shuffle_ps(t[0], t[1], 0xEE));
    const __m256 u1 = _mm256_add_ps(_mm256_shuffle_ps(t[2], t[3], 0x44), _mm256_shuffle_ps(t[2], t[3], 0xEE));
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// Eight keys at k + j * stride, j < 8: each key's FMAs over the head dimension in order, then sums8.
AVX2_TARGET static inline __attribute__((always_inline))
__m256 dots8(const float *q, const float *k, const int64_t stride, const int64_t hd) {
    __m256 a[8];
    for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
    for (int64_t i = 0; i < hd; i += 8) {
        const __m256 qv = _mm256_loadu_ps(q + i);
        for (int j = 0; j < 8; j++) a[j] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k + j * stride + i), a[j]);
    }
    return sums8(a);
}

// Full passes address keys as base + j * hd (no per-key pointers: with hd a constant the loop
// unrolls and the addressing is immediate offsets); only the last, partial pass repeats its final
// key in the slots past `visible` (computed, not stored). Each score's arithmetic is the same in
// both, so the bits do not depend on where a key falls.
AVX2_TARGET static inline __attribute__((always_inline))
void scores(const float *q, const float *keys, const int64_t hd, int64_t visible, float scale, float *out) {
    const __m256 factor = _mm256_set1_ps(scale);
    int64_t t = 0;
    for (; t + 8 <= visible; t += 8) _mm256_storeu_ps(out + t, _mm256_mul_ps(dots8(q, keys + t * hd, hd, hd), factor));
    if (t == visible) return;
    const float *k[8];
    for (int j = 0; j < 8; j++) k[j] = keys + (t + j < visible ? t + j : visible - 1) * hd;
    __m256 a[8];
    for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
    for (int64_t i = 0; i < hd; i += 8) {
        const __m256 qv = _mm256_loadu_ps(q + i);
        for (int j = 0; j < 8; j++) a[j] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k[j] + i), a[j]);
    }
    float tail[8];
    _mm256_storeu_ps(tail, _mm256_mul_ps(sums8(a), factor));
    for (int64_t j = 0; j < visible - t; j++) out[t + j] = tail[j];
}

// Head dimensions 64 and 128 get their own unrolled copies (a harness of 8 rows x 65-72 keys at
// hd 64: 98 instead of 128 ns per row).
AVX2_TARGET void tandem_attention_scores(const float *q, const float *keys, int64_t hd, int64_t visible,
                                         float scale, float *out) {
    if (hd == 64) scores(q, keys, 64, visible, scale, out);
    else if (hd == 128) scores(q, keys, 128, visible, scale, out);
    else scores(q, keys, hd, visible, scale, out);
}
#else // not x86-64: the portable Swift loop is used
int tandem_attention_has_avx2(void) { return 0; }
void tandem_attention_scores(const float *q, const float *keys, int64_t hd, int64_t visible, float scale,
                             float *scores) {
    (void)q; (void)keys; (void)hd; (void)visible; (void)scale; (void)scores;
    abort();
}
#endif
