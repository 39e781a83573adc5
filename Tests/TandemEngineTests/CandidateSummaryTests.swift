import Foundation
import Testing
import TandemEngine

/// `CandidateSummary` (what the confidence and router policies read from a candidate's logits)
/// against a Double softmax and a full sort, over vocabularies that exercise the SIMD body and
/// tail, ties, and tokens the softmax gives probability 0.
@Suite struct CandidateSummaryTests {
    @Test(arguments: [1, 3, 8, 17, 256, 1001])
    func matchesDoubleSoftmax(vocabulary: Int) {
        var generator = SeededGenerator(seed: UInt64(vocabulary))
        for trial in 0..<20 {
            let scale = Float(trial % 5) * 4 // 0: every logit equal (all ties)
            var logits = (0..<vocabulary).map { _ in (generator.nextUnitFloat() * 2 - 1) * scale }
            if trial % 4 == 3 && vocabulary > 2 { logits[1] = -.infinity; logits[vocabulary - 1] = logits[0] }
            let (p, entropy, order) = doubleSoftmax(logits)
            logits.withUnsafeBufferPointer { buffer in
                let summary = CandidateSummary(buffer)
                let label = "V=\(vocabulary) trial \(trial)"
                // Tolerance: the float32 exp's relative error (2e-7) summed over the vocabulary.
                #expect(abs(summary.topProbability - p.max()!) <= 1e-6,
                        "\(label): top probability \(summary.topProbability) vs \(p.max()!)")
                #expect(abs(summary.entropy - entropy) <= 2e-6 * max(1, entropy),
                        "\(label): entropy \(summary.entropy) vs \(entropy)")
                for k in [1, 4, vocabulary + 2] {
                    let top = CandidateSummary.topTokens(buffer, count: k)
                    #expect(top == Array(order.prefix(k)), "\(label): top-\(k) \(top) vs \(Array(order.prefix(k)))")
                }
                let worst = order.prefix(4).map { abs(summary.probability(logit: logits[$0]) - p[$0]) }.max()!
                #expect(worst <= 1e-6, "\(label): top-4 probabilities off by \(worst)")
            }
        }
    }
}
