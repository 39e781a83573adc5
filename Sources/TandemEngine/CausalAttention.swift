import CAttentionKernels

/// Causal attention of one query head over its key/value head, for a block of query rows: the
/// attention step of every forward pass. Scores take eight keys per pass over the query (eight
/// FMA chains, then one transposing reduction: a C kernel, `CAttentionKernels`) and the weighted
/// sum of values keeps its output in registers (64 floats at a time), so a key costs a few cycles
/// instead of a call per dot product and a load/store of the output per key. Inputs come
/// 64-byte aligned (`KeyValueCache`, `ForwardState`): at malloc's 16 bytes every other 32-byte
/// load straddled two cache lines and the value sum of 72 keys took 1.45x as long (a throwaway
/// C harness, not in the repository).
///
/// Contract: row r's arithmetic does not depend on how many rows travel with it (every score is
/// the same fused sequence, and the value sum runs over keys in order from zero, its partial sums
/// stored and reloaded unchanged between key chunks), so a block gives the same bits as decoding
/// its rows one at a time.
public enum CausalAttention {
    typealias Vector = VectorMath.Vector
    typealias Wide = SIMD16<Float>

    /// Rows whose scores are held at once, per head (what `ForwardState` allocates).
    public static let scoreRows = 8

    /// out[rows x hd] = softmax(scale * q k^T) v for one head, where row r sees keys 0...start + r.
    /// Query row r at queries + r * queryStride, output row r at out + r * outStride; keys and
    /// values [positions x hd] contiguous; scores scratch of `scoreCapacity` >= start + rows floats
    /// (rows go in groups of up to scoreCapacity / (start + rows), at most `scoreRows`).
    public static func attend(queries: UnsafePointer<Float>, queryStride: Int, rows: Int, start: Int,
                              keys: UnsafePointer<Float>, values: UnsafePointer<Float>, headDimension hd: Int,
                              scale: Float, scores: UnsafeMutablePointer<Float>, scoreCapacity: Int,
                              out: UnsafeMutablePointer<Float>, outStride: Int) {
        let positions = start + rows
        precondition(scoreCapacity >= positions, "attention scratch of \(scoreCapacity) < \(positions) positions")
        let groupRows = min(scoreRows, scoreCapacity / positions)
        // Keys per chunk: a multiple of 8 filling about 24 KB, which then stays in L1 (32 KB) for
        // every row. At 16 KB (64 keys at hd 64) a SmolLM2 block of 8 at context 64 made a second
        // pass over 1-8 keys for every row; at 24 KB one pass covers contexts up to 88.
        let chunk = max(8, 24_576 / (4 * hd) / 8 * 8)
        var first = 0
        while first < rows {
            let count = min(groupRows, rows - first)
            attendGroup(queries + first * queryStride, queryStride, count, start + first, keys, values, hd, scale,
                        scores, positions, chunk, out + first * outStride, outStride)
            first += count
        }
    }

    // Rows 0..<rows, row r seeing start + r + 1 keys, phase by phase: every row's scores, every
    // softmax, every row's value sum, keys and values in chunks read from L2 once for all the rows
    // (row by row, each re-read the head's keys and values: 200 KB at 400 positions of 64 floats).
    @inline(__always)
    static func attendGroup(_ queries: UnsafePointer<Float>, _ queryStride: Int, _ rows: Int, _ start: Int,
                            _ keys: UnsafePointer<Float>, _ values: UnsafePointer<Float>, _ hd: Int, _ scale: Float,
                            _ scores: UnsafeMutablePointer<Float>, _ scoreStride: Int, _ chunk: Int,
                            _ out: UnsafeMutablePointer<Float>, _ outStride: Int) {
        let positions = start + rows
        var first = 0
        while first < positions {
            let end = min(first + chunk, positions)
            for row in 0..<rows where start + row + 1 > first {
                scoreKeys(queries + row * queryStride, keys + first * hd, hd, min(end, start + row + 1) - first,
                          scale, scores + row * scoreStride + first)
            }
            first = end
        }
        for row in 0..<rows { VectorMath.softmax(scores + row * scoreStride, start + row + 1) }
        first = 0
        while first < positions {
            let end = min(first + chunk, positions)
            for row in 0..<rows where start + row + 1 > first {
                sumValues(scores + row * scoreStride + first, values + first * hd, hd,
                          min(end, start + row + 1) - first, out + row * outStride, continuing: first > 0)
            }
            first = end
        }
    }

    /// Whether scores run in the C kernel (AVX2 and FMA) or in `portableScores`; both give the
    /// same bits.
    public static let vectorScores = tandem_attention_has_avx2() != 0

    // scores[t] = scale * (q . k_t), t < visible; keys [visible x hd]
    @inline(__always)
    static func scoreKeys(_ q: UnsafePointer<Float>, _ keys: UnsafePointer<Float>, _ hd: Int, _ visible: Int,
                          _ scale: Float, _ scores: UnsafeMutablePointer<Float>) {
        guard hd % 8 == 0 else {
            for t in 0..<visible { scores[t] = VectorMath.dot(q, keys + t * hd, hd) * scale }
            return
        }
        if vectorScores {
            tandem_attention_scores(q, keys, Int64(hd), Int64(visible), scale, scores)
        } else {
            portableScores(q, keys, hd, visible, scale, scores)
        }
    }

    /// The C kernel's arithmetic, one key at a time (hd a multiple of 8): eight lanes of FMAs over
    /// the head dimension in order, then the lanes added as ((x0 + x2) + (x1 + x3)) + ((x4 + x6) +
    /// (x5 + x7)), times scale. For CPUs without AVX2, and as the kernel's oracle in tests.
    public static func portableScores(_ q: UnsafePointer<Float>, _ keys: UnsafePointer<Float>, _ hd: Int,
                                      _ visible: Int, _ scale: Float, _ scores: UnsafeMutablePointer<Float>) {
        for t in 0..<visible {
            let key = keys + t * hd
            var a = Vector()
            var i = 0
            while i < hd { a.addProduct(VectorMath.load(q + i), VectorMath.load(key + i)); i += 8 }
            scores[t] = (((a[0] + a[2]) + (a[1] + a[3])) + ((a[4] + a[6]) + (a[5] + a[7]))) * scale
        }
    }

    // out[hd] (+)= sum_t p[t] * v_t over t < visible, in key order, fused; `continuing` starts from
    // the partial sums in out (an earlier chunk's), otherwise from zero.
    @inline(__always)
    static func sumValues(_ p: UnsafePointer<Float>, _ values: UnsafePointer<Float>, _ hd: Int, _ visible: Int,
                          _ out: UnsafeMutablePointer<Float>, continuing: Bool) {
        var column = 0
        while column + 64 <= hd {
            var a0 = Wide(), a1 = Wide(), a2 = Wide(), a3 = Wide()
            if continuing {
                a0 = loadWide(out + column); a1 = loadWide(out + column + 16)
                a2 = loadWide(out + column + 32); a3 = loadWide(out + column + 48)
            }
            var v = values + column
            for t in 0..<visible {
                let weight = Wide(repeating: p[t])
                a0.addProduct(weight, loadWide(v)); a1.addProduct(weight, loadWide(v + 16))
                a2.addProduct(weight, loadWide(v + 32)); a3.addProduct(weight, loadWide(v + 48))
                v += hd
            }
            storeWide(a0, out + column); storeWide(a1, out + column + 16)
            storeWide(a2, out + column + 32); storeWide(a3, out + column + 48)
            column += 64
        }
        while column + 8 <= hd {
            var a = continuing ? VectorMath.load(out + column) : Vector()
            var v = values + column
            for t in 0..<visible { a.addProduct(Vector(repeating: p[t]), VectorMath.load(v)); v += hd }
            VectorMath.store(a, out + column)
            column += 8
        }
        while column < hd {
            var a: Float = continuing ? out[column] : 0
            for t in 0..<visible { a = a.addingProduct(p[t], values[t * hd + column]) }
            out[column] = a
            column += 1
        }
    }

    @inline(__always)
    static func loadWide(_ p: UnsafePointer<Float>) -> Wide { UnsafeRawPointer(p).loadUnaligned(as: Wide.self) }

    @inline(__always)
    static func storeWide(_ v: Wide, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Wide.self)
    }
}
