/// Causal attention of one query head over its key/value head, for a block of query rows: the
/// attention step of every forward pass. Scores take four keys per pass over the query and the
/// weighted sum of values keeps its output in registers (64 floats at a time), so a key costs a
/// few cycles instead of a call per dot product and a load/store of the output per key.
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

    // scores[t] = scale * (q . k_t), t < visible; keys [visible x hd]. Four keys per pass; the last
    // pass repeats its final key in the missing slots, so every key sees the same sequence.
    @inline(__always)
    static func scoreKeys(_ q: UnsafePointer<Float>, _ keys: UnsafePointer<Float>, _ hd: Int, _ visible: Int,
                          _ scale: Float, _ scores: UnsafeMutablePointer<Float>) {
        guard hd % 8 == 0 else {
            for t in 0..<visible { scores[t] = VectorMath.dot(q, keys + t * hd, hd) * scale }
            return
        }
        let last = visible - 1
        var t = 0
        while t < visible {
            let k0 = keys + t * hd, k1 = keys + min(t + 1, last) * hd
            let k2 = keys + min(t + 2, last) * hd, k3 = keys + min(t + 3, last) * hd
            var a0 = Vector(), a1 = Vector(), a2 = Vector(), a3 = Vector()
            var i = 0
            while i < hd {
                let qv = VectorMath.load(q + i)
                a0.addProduct(qv, VectorMath.load(k0 + i)); a1.addProduct(qv, VectorMath.load(k1 + i))
                a2.addProduct(qv, VectorMath.load(k2 + i)); a3.addProduct(qv, VectorMath.load(k3 + i))
                i += 8
            }
            let dots = sums(a0, a1, a2, a3) * scale
            for j in 0..<min(4, visible - t) { scores[t + j] = dots[j] }
            t += 4
        }
    }

    // [sum(a0), sum(a1), sum(a2), sum(a3)] by one fixed tree: halves, then pairs, then pairs again
    @inline(__always)
    static func sums(_ a0: Vector, _ a1: Vector, _ a2: Vector, _ a3: Vector) -> SIMD4<Float> {
        let h01 = SIMD8(lowHalf: a0.lowHalf + a0.highHalf, highHalf: a1.lowHalf + a1.highHalf)
        let h23 = SIMD8(lowHalf: a2.lowHalf + a2.highHalf, highHalf: a3.lowHalf + a3.highHalf)
        let pairs = SIMD8(lowHalf: h01.evenHalf + h01.oddHalf, highHalf: h23.evenHalf + h23.oddHalf)
        return pairs.evenHalf + pairs.oddHalf
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
