/// The shape of causal attention over a batch of sequences, and where its keys come from.
///
/// Keys and values of position s seen by the query at position t (s <= t) are the model's own
/// when s lies in t's block (s >= floor(t / ownBlock) * ownBlock), and come from the second
/// source (the projected primary states of a tandem secondary) before it. Without a second
/// source every key is the model's own (an ordinary decoder).
public struct AttentionShape: Sendable {
    public var batch: Int, length: Int, heads: Int, keyValueHeads: Int, headDimension: Int
    /// Own positions per block; nil: every position is the model's own.
    public var ownBlock: Int?

    public init(batch: Int, length: Int, heads: Int, keyValueHeads: Int, headDimension: Int, ownBlock: Int?) {
        self.batch = batch
        self.length = length
        self.heads = heads
        self.keyValueHeads = keyValueHeads
        self.headDimension = headDimension
        self.ownBlock = ownBlock
    }

    public var queryWidth: Int { heads * headDimension }
    public var keyValueWidth: Int { keyValueHeads * headDimension }
    /// Row stride of the fused [q | k | v] buffer.
    public var stride: Int { queryWidth + 2 * keyValueWidth }
    /// Floats of saved probabilities: [batch][heads][length][length].
    public var probabilityCount: Int { batch * heads * length * length }

    /// First own position for the query at position t.
    @inline(__always) func ownStart(_ t: Int) -> Int { ownBlock.map { (t / $0) * $0 } ?? 0 }
}

/// Causal (GQA) attention with an optional second key/value source, via gemm per head.
public enum AttentionOps {
    // out[B*T x qW] = softmax(q k^T / sqrt(hd)) v;  qkv [B*T x (qW + 2 kvW)] rotated, primaryKV [B*T x 2 kvW] or nil;
    // probabilities [B][H][T][T] saved for backward; scratch [2 T T]
    public static func forward<S: TrainingScalar>(
        _ qkv: UnsafePointer<S>, primaryKV: UnsafePointer<S>?, shape: AttentionShape,
        probabilities: UnsafeMutablePointer<S>, _ out: UnsafeMutablePointer<S>, scratch: UnsafeMutablePointer<S>
    ) {
        let T = shape.length, hd = shape.headDimension, qW = shape.queryWidth, kvW = shape.keyValueWidth
        let stride = shape.stride, groups = shape.heads / shape.keyValueHeads
        let scale = 1 / S(hd).squareRoot()
        let primaryScores = scratch, ownPart = scratch + T * T
        for b in 0..<shape.batch {
            let rows = b * T
            for h in 0..<shape.heads {
                let kvh = h / groups
                let q = qkv + rows * stride + h * hd
                let keys = qkv + rows * stride + qW + kvh * hd, values = keys + kvW
                let p = probabilities + (b * shape.heads + h) * T * T
                S.gemm(false, true, T, T, hd, scale, q, stride, keys, stride, 0, p, T)
                if let primaryKV {
                    let primaryKeys = primaryKV + rows * 2 * kvW + kvh * hd
                    S.gemm(false, true, T, T, hd, scale, q, stride, primaryKeys, 2 * kvW, 0, primaryScores, T)
                }
                for t in 0..<T {
                    let scores = p + t * T, start = primaryKV == nil ? 0 : shape.ownStart(t)
                    for s in 0..<start { scores[s] = primaryScores[t * T + s] }
                    var maximum = scores[0]
                    for s in 0...t { maximum = max(maximum, scores[s]) }
                    var total: S = 0
                    for s in 0...t { scores[s] = S.exponential(scores[s] - maximum); total += scores[s] }
                    let inverse = 1 / total
                    for s in 0...t { scores[s] *= inverse }
                    for s in (t + 1)..<T { scores[s] = 0 }
                }
                let o = out + rows * qW + h * hd
                guard let primaryKV else {
                    S.gemm(false, false, T, hd, T, 1, p, T, values, stride, 0, o, qW)
                    continue
                }
                split(p, shape: shape, own: ownPart, primary: primaryScores)
                S.gemm(false, false, T, hd, T, 1, ownPart, T, values, stride, 0, o, qW)
                let primaryValues = primaryKV + rows * 2 * kvW + kvW + kvh * hd
                S.gemm(false, false, T, hd, T, 1, primaryScores, T, primaryValues, 2 * kvW, 1, o, qW)
            }
        }
    }

    // dqkv [B*T x (qW + 2 kvW)] = gradients of q, own k, own v (overwritten); dPrimaryKV [B*T x 2 kvW] likewise;
    // from dOut [B*T x qW]   (same argument order as forward); scratch [2 T T]
    public static func backward<S: TrainingScalar>(
        _ qkv: UnsafePointer<S>, primaryKV: UnsafePointer<S>?, shape: AttentionShape,
        probabilities: UnsafePointer<S>, _ dOut: UnsafePointer<S>, scratch: UnsafeMutablePointer<S>,
        dqkv: UnsafeMutablePointer<S>, dPrimaryKV: UnsafeMutablePointer<S>?
    ) {
        let T = shape.length, hd = shape.headDimension, qW = shape.queryWidth, kvW = shape.keyValueWidth
        let stride = shape.stride, groups = shape.heads / shape.keyValueHeads
        let scale = 1 / S(hd).squareRoot()
        dqkv.update(repeating: 0, count: shape.batch * T * stride)
        dPrimaryKV?.update(repeating: 0, count: shape.batch * T * 2 * kvW)
        let own = scratch, primary = scratch + T * T
        for b in 0..<shape.batch {
            let rows = b * T
            for h in 0..<shape.heads {
                let kvh = h / groups
                let q = qkv + rows * stride + h * hd
                let keys = qkv + rows * stride + qW + kvh * hd, values = keys + kvW
                let dq = dqkv + rows * stride + h * hd
                let dKeys = dqkv + rows * stride + qW + kvh * hd, dValues = dKeys + kvW
                let p = probabilities + (b * shape.heads + h) * T * T
                let dO = dOut + rows * qW + h * hd
                // dP = dO v^T from whichever source each entry used
                S.gemm(false, true, T, T, hd, 1, dO, qW, values, stride, 0, own, T)
                let primaryKeys = primaryKV.map { $0 + rows * 2 * kvW + kvh * hd }
                let primaryValues = primaryKeys.map { $0 + kvW }
                if let primaryValues {
                    S.gemm(false, true, T, T, hd, 1, dO, qW, primaryValues, 2 * kvW, 0, primary, T)
                }
                // dS = P (dP - rowsum(P dP)) * scale, split by source
                for t in 0..<T {
                    let start = primaryKV == nil ? 0 : shape.ownStart(t)
                    let pr = p + t * T, ownRow = own + t * T, primaryRow = primary + t * T
                    var dot: S = 0
                    for s in 0..<start { dot += pr[s] * primaryRow[s] }
                    for s in start...t { dot += pr[s] * ownRow[s] }
                    for s in 0..<start { primaryRow[s] = pr[s] * (primaryRow[s] - dot) * scale }
                    for s in start...t { ownRow[s] = pr[s] * (ownRow[s] - dot) * scale }
                    for s in (t + 1)..<T { ownRow[s] = 0 }
                    if primaryKV != nil {
                        for s in start..<T { primaryRow[s] = 0 }
                        for s in 0..<start { ownRow[s] = 0 }
                    }
                }
                S.gemm(false, false, T, hd, T, 1, own, T, keys, stride, 1, dq, stride)
                S.gemm(true, false, T, hd, T, 1, own, T, q, stride, 1, dKeys, stride)
                if let primaryKeys, let dPrimaryKV {
                    S.gemm(false, false, T, hd, T, 1, primary, T, primaryKeys, 2 * kvW, 1, dq, stride)
                    S.gemm(true, false, T, hd, T, 1, primary, T, q, stride, 1,
                           dPrimaryKV + rows * 2 * kvW + kvh * hd, 2 * kvW)
                }
                // dV = P^T dO per source
                if let dPrimaryKV {
                    split(p, shape: shape, own: own, primary: primary)
                    S.gemm(true, false, T, hd, T, 1, own, T, dO, qW, 1, dValues, stride)
                    S.gemm(true, false, T, hd, T, 1, primary, T, dO, qW, 1,
                           dPrimaryKV + rows * 2 * kvW + kvW + kvh * hd, 2 * kvW)
                } else {
                    S.gemm(true, false, T, hd, T, 1, p, T, dO, qW, 1, dValues, stride)
                }
            }
        }
    }

    // own/primary [T x T] = the probabilities p [T x T] restricted to each source's entries
    private static func split<S: TrainingScalar>(_ p: UnsafePointer<S>, shape: AttentionShape,
                                                 own: UnsafeMutablePointer<S>, primary: UnsafeMutablePointer<S>) {
        let T = shape.length
        for t in 0..<T {
            let start = shape.ownStart(t)
            for s in 0..<T {
                let value = p[t * T + s]
                own[t * T + s] = s >= start ? value : 0
                primary[t * T + s] = s < start ? value : 0
            }
        }
    }
}
