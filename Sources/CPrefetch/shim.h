// Software prefetch, which Swift cannot spell. static inline, so Swift inlines it into the
// kernels. The skinny kernel prefetches one weight panel ahead (32-90 KB):
// - tandem_prefetch: locality 2 = prefetcht1 (into L2), for blocks of 3 or more rows, whose
//   later row chunks re-read the current panel from L1 (prefetcht0 evicted it: 8 rows 1.75x slower),
//   and for every block of 1-6 rows in the streaming loop (weights beyond the last-level cache);
// - tandem_prefetch_l1: locality 3 = prefetcht0 (into L1 and L2), for 1-2 rows in the cache-resident
//   loops, which read each weight once over several panels at once. With those fast loops a decode
//   step took 1.21-1.23x the DRAM floor with prefetcht1, 1.05-1.13x with prefetcht0 (P150); the
//   slower 6-row streaming loop with prefetcht1 beats both (SkinnyLoop.swift).
static inline void tandem_prefetch(const void *address) { __builtin_prefetch(address, 0, 2); }
static inline void tandem_prefetch_l1(const void *address) { __builtin_prefetch(address, 0, 3); }

// Keeps a value alive for the optimizer (an empty asm that reads it), so a loop computed only
// to evict the caches is not removed as dead code.
static inline void tandem_keep(float value) { __asm__ volatile("" : : "x"(value)); }
