#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// What the adaptive block policies read from a draft candidate's logits, softmax at T = 1, in
/// one vectorized pass and without allocating: the partition function, the entropy, the top
/// probability and the top-k tokens. The policies judge every candidate the secondary drafts, so
/// this sits on the draft path (a vocabulary of 49152 made the Double softmax and full sort of
/// the first version cost more than a draft step of a small secondary).
public struct CandidateSummary {
    /// The largest logit.
    public let maximum: Float
    /// Z = sum_i exp(l_i - max).
    public let partition: Double
    /// sum_i exp(l_i - max) (l_i - max), <= 0.
    let weightedShift: Double

    /// The softmax's largest probability, 1 / Z.
    public var topProbability: Double { 1 / partition }
    /// -sum_i p_i log p_i = log Z - sum_i p_i (l_i - max), in nats.
    public var entropy: Double { log(partition) - weightedShift / partition }

    /// p for a token whose logit is `logit`.
    public func probability(logit: Float) -> Double { exp(Double(logit - maximum)) / partition }

    public init(_ logits: UnsafeBufferPointer<Float>) {
        typealias Vector = VectorMath.Vector
        let n = logits.count
        guard let base = logits.baseAddress, n > 0 else {
            maximum = 0
            partition = 1
            weightedShift = 0
            return
        }
        let top = VectorMath.maximum(base, n), m = Vector(repeating: top)
        var sum = Vector(), weighted = Vector()
        // Adds one vector of shifted logits; exp(-inf) * -inf would be NaN, so zero terms stay 0.
        func add(_ shifted: Vector) {
            let e = VectorMath.exp(shifted)
            sum += e
            weighted.addProduct(e, shifted.replacing(with: 0, where: e .== 0))
        }
        var i = 0
        while i + 8 <= n { add(VectorMath.load(base + i) - m); i += 8 }
        if i < n { // the tail, padded with -inf (exp 0)
            var shifted = Vector(repeating: -Float.infinity)
            for j in 0..<(n - i) { shifted[j] = base[i + j] - top }
            add(shifted)
        }
        maximum = top
        partition = (0..<8).reduce(0.0) { $0 + Double(sum[$1]) }
        weightedShift = (0..<8).reduce(0.0) { $0 + Double(weighted[$1]) }
    }

    /// The `k` tokens of largest logit (hence probability), largest first, ties to the lower id;
    /// fewer when the vocabulary is smaller than k.
    public static func topTokens(_ logits: UnsafeBufferPointer<Float>, count k: Int) -> [Int] {
        var best: [Int] = []
        best.reserveCapacity(k + 1)
        for i in logits.indices {
            // Strictly larger than the current k-th: an equal logit later in the scan has the higher id.
            if best.count == k, let last = best.last, !(logits[i] > logits[last]) { continue }
            var at = best.count
            while at > 0 && logits[i] > logits[best[at - 1]] { at -= 1 }
            best.insert(i, at: at)
            if best.count > k { best.removeLast() }
        }
        return best
    }
}
