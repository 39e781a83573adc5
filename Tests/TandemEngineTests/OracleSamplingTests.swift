import Testing
import TandemEngine

/// The oracle's two ways of drawing decisions, on the rule alone (no models): each decision is
/// accepted with probability alpha_k either way; stratified keeps every position's accepted share
/// within a few decisions of alpha_k, where independent draws wander by about sqrt(n).
@Suite struct OracleSamplingTests {
    static let logits: [Float] = [0.1, 2, 0.3]

    /// Decisions at `position`, `count` times, from a fresh rule.
    func accepted(_ sampling: OracleAcceptance.Sampling, alphas: [Double], position: Int, count: Int,
                  seed: UInt64) -> Int {
        var rule = OracleAcceptance(alphas: alphas, parameters: .greedy, seed: seed, sampling: sampling)
        return Self.logits.withUnsafeBufferPointer { logits in
            (0..<count).reduce(0) { total, _ in
                if case .accept = rule.verify(token: 0, draftDistribution: [], primaryLogits: logits,
                                              position: position) { return total + 1 }
                return total
            }
        }
    }

    /// Reference: the Kronecker sequence's discrepancy (golden ratio) keeps |accepted - n alpha|
    /// below about 3 for n up to a few thousand; tolerance 3 decisions at every position and
    /// alpha, where binomial draws at n = 2000, alpha 0.8 have a standard deviation of 18.
    @Test func stratifiedSharesStayAtAlpha() {
        let alphas = [0.9, 0.8, 0.6, 0.5, 0.95]
        var worst = 0.0
        for seed in UInt64(1)...20 {
            for position in 0..<alphas.count {
                for n in [7, 50, 333, 2000] {
                    let got = accepted(.stratified, alphas: alphas, position: position, count: n, seed: seed)
                    worst = max(worst, abs(Double(got) - Double(n) * alphas[position]))
                }
            }
        }
        #expect(worst <= 3, "worst |accepted - n alpha| \(worst) decisions, tolerance 3")
    }

    /// Each decision stays a Bernoulli(alpha) over seeds: the first decision at each position,
    /// over 4000 seeds, accepted at alpha within 4 binomial standard deviations (both samplings).
    @Test(arguments: OracleAcceptance.Sampling.allCases)
    func everyDecisionHasProbabilityAlpha(sampling: OracleAcceptance.Sampling) {
        let alphas = [0.9, 0.6, 0.3], seeds = 4000
        for position in 0..<alphas.count {
            for decision in [0, 5] {
                var hits = 0
                for seed in 0..<seeds {
                    let first = accepted(sampling, alphas: alphas, position: position, count: decision,
                                         seed: UInt64(seed))
                    let upTo = accepted(sampling, alphas: alphas, position: position, count: decision + 1,
                                        seed: UInt64(seed))
                    hits += upTo - first
                }
                let p = alphas[position], n = Double(seeds)
                let z = (Double(hits) - n * p) / (n * p * (1 - p)).squareRoot()
                let message = "\(sampling) position \(position) decision \(decision): \(hits) of \(seeds), "
                    + "z = \(z) against alpha \(p)"
                #expect(abs(z) <= 4, "\(message)")
            }
        }
    }

    /// Stratified is tighter than independent where it matters: over 20 seeds of 64 decisions at
    /// alpha 0.9, the worst share's distance from alpha (a sanity check that the option is wired).
    @Test func stratifiedIsTighterThanIndependent() {
        func worst(_ sampling: OracleAcceptance.Sampling) -> Double {
            (1...20).map { seed in
                abs(Double(accepted(sampling, alphas: [0.9], position: 0, count: 64, seed: UInt64(seed))) - 57.6)
            }.max()!
        }
        let (stratified, independent) = (worst(.stratified), worst(.independent))
        #expect(stratified < independent, "stratified \(stratified), independent \(independent)")
    }
}
