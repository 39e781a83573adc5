// Attention's query-key dot products (see CausalAttention.swift). The eight dots of a pass end
// in one transposing reduction of eight 8-lane accumulators; Swift's SIMD types cannot make the
// compiler keep that in in-lane shuffles (it rebuilt the sums element by element, about 70
// instructions per eight keys against 21 here, counted in the disassembly of a test build), so
// this one loop is C with AVX2 intrinsics.
#ifndef TANDEM_ATTENTION_H
#define TANDEM_ATTENTION_H

#include <stdint.h>

/// 1 when the CPU has AVX2 and FMA, else 0.
int tandem_attention_has_avx2(void);

/// scores[t] = scale * (q . keys[t]) for t < visible, keys [visible x hd] contiguous, hd a
/// multiple of 8; only on a CPU with AVX2 and FMA. Each dot: eight lanes of FMAs over the
/// head dimension in order (lane l sums q[i] k[i] for i = l mod 8), then the lanes x0..x7 added as
/// ((x0 + x2) + (x1 + x3)) + ((x4 + x6) + (x5 + x7)). The same arithmetic for every key,
/// whichever pass of eight it falls in, so the result does not depend on `visible`.
void tandem_attention_scores(const float *q, const float *keys, int64_t hd, int64_t visible, float scale,
                             float *scores);

#endif
