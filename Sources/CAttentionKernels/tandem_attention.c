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

AVX2_TARGET void tandem_attention_scores(const float *q, const float *keys, int64_t hd, int64_t visible,
                                         float scale, float *scores) {
    const __m256 factor = _mm256_set1_ps(scale);
    for (int64_t t = 0; t < visible; t += 8) {
        // The last pass repeats its final key in the slots past `visible` (computed, not stored).
        const float *k[8];
        for (int j = 0; j < 8; j++) k[j] = keys + (t + j < visible ? t + j : visible - 1) * hd;
        __m256 a[8];
        for (int j = 0; j < 8; j++) a[j] = _mm256_setzero_ps();
        for (int64_t i = 0; i < hd; i += 8) {
            const __m256 qv = _mm256_loadu_ps(q + i);
            for (int j = 0; j < 8; j++) a[j] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k[j] + i), a[j]);
        }
        const __m256 dots = _mm256_mul_ps(sums8(a), factor);
        if (visible - t >= 8) {
            _mm256_storeu_ps(scores + t, dots);
        } else {
            float tail[8];
            _mm256_storeu_ps(tail, dots);
            for (int64_t j = 0; j < visible - t; j++) scores[t + j] = tail[j];
        }
    }
}
#else // not x86-64: the portable Swift loop is used
int tandem_attention_has_avx2(void) { return 0; }
void tandem_attention_scores(const float *q, const float *keys, int64_t hd, int64_t visible, float scale,
                             float *scores) {
    (void)q; (void)keys; (void)hd; (void)visible; (void)scale; (void)scores;
    abort();
}
#endif
