import CAttentionKernels

/// Causal attention of one query head over its key/value head, for a block of query rows: the
/// attention step of every forward pass. Scores take eight keys per pass over the query (eight
/// FMA chains, then one transposing reduction: a C kernel, `CAttentionKernels`) and the weighted
/// sum of values keeps its output in registers (64 floats at a time), so a key costs a few cycles
/// instead of a call per dot product and a load/store of the output per key. Inputs come
/// 64-byte aligned (`KeyValueCache`, `ForwardState`): at malloc's 16 bytes every other 32-byte
/// load straddled two cache lines and the value sum of 72 keys took 1.45x as long.
///
/// Contract: row r's arithmetic does not depend on how many rows travel with it (every score is
/// the same fused sequence, and the value sum runs over keys in order from zero), so a block
/// gives the same bits as decoding its rows one at a time.
public enum CausalAttention {
    typealias Vector = VectorMath.Vector
    typealias Wide = SIMD16<Float>

    /// out[rows x hd] = softmax(scale * q k^T) v for one head, where row r sees keys 0...start + r.
    /// Query row r at queries + r * queryStride, output row r at out + r * outStride; keys and
    /// values [positions x hd] contiguous; scores scratch of at least start + rows floats.
    public static func attend(queries: UnsafePointer<Float>, queryStride: Int, rows: Int, start: Int,
                              keys: UnsafePointer<Float>, values: UnsafePointer<Float>, headDimension hd: Int,
                              scale: Float, scores: UnsafeMutablePointer<Float>,
                              out: UnsafeMutablePointer<Float>, outStride: Int) {
        for row in 0..<rows {
            let query = queries + row * queryStride
            let visible = start + row + 1
            scoreKeys(query, keys, hd, visible, scale, scores)
            VectorMath.softmax(scores, visible)
            sumValues(scores, values, hd, visible, out + row * outStride)
        }
    }

    /// Whether scores run in the C kernel (AVX2 and FMA) or in `portableScores`; both give the
    /// same bits.
    static let vectorScores = tandem_attention_has_avx2() != 0

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
    static func portableScores(_ q: UnsafePointer<Float>, _ keys: UnsafePointer<Float>, _ hd: Int,
                               _ visible: Int, _ scale: Float, _ scores: UnsafeMutablePointer<Float>) {
        for t in 0..<visible {
            let key = keys + t * hd
            var a = Vector()
            var i = 0
            while i < hd { a.addProduct(VectorMath.load(q + i), VectorMath.load(key + i)); i += 8 }
            scores[t] = (((a[0] + a[2]) + (a[1] + a[3])) + ((a[4] + a[6]) + (a[5] + a[7]))) * scale
        }
    }

    // out[hd] = sum_t p[t] * v_t over t < visible, in key order, fused
    @inline(__always)
    static func sumValues(_ p: UnsafePointer<Float>, _ values: UnsafePointer<Float>, _ hd: Int, _ visible: Int,
                          _ out: UnsafeMutablePointer<Float>) {
        var column = 0
        while column + 64 <= hd {
            var a0 = Wide(), a1 = Wide(), a2 = Wide(), a3 = Wide()
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
            var a = Vector()
            var v = values + column
            for t in 0..<visible { a.addProduct(Vector(repeating: p[t]), VectorMath.load(v)); v += hd }
            VectorMath.store(a, out + column)
            column += 8
        }
        while column < hd {
            var a: Float = 0
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
