// Software prefetch, which Swift cannot spell. static inline, so Swift inlines it into the
// kernels. Locality 2 = prefetcht1 (into L2): the skinny kernel prefetches one weight panel
// ahead (32-90 KB), too far for the 32 KB L1.
static inline void tandem_prefetch(const void *address) { __builtin_prefetch(address, 0, 2); }
