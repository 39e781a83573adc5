import Testing
import TandemAnalysis

/// The block-cost levels a_n are made non-decreasing by weighted isotonic regression; the
/// reference is the pooled weighted mean computed directly. Tolerance 1e-9 relative.
@Suite struct MonotoneFitTests {
    @Test func dipIsPooledAndOrderedLevelsAreKept() {
        // a_1 = 100, a_2 = 90 (a noisy dip), a_3 = 93, a_4 = 130. The cells share one pooled relative
        // spread (CostObservation.weights), so each level weighs 1 / a_n^2; a_1 and a_2 pool to 94.5,
        // above a_3, so all three pool.
        let means: [Double] = [100, 90, 93, 130]
        let observations = means.enumerated().map { index, mean in
            CostObservation(tokens: index + 1, context: 0, samples: [mean - 1, mean, mean + 1])
        }
        let fit = BlockCostFit(observations: observations)
        let monotone = fit.monotone(fit.fit.coefficients)
        let dip: [Double] = [100, 90, 93]
        let pooled = dip.reduce(0) { $0 + 1 / $1 } / dip.reduce(0) { $0 + 1 / ($1 * $1) }
        let expected = [pooled, pooled, pooled, 130]
        for (got, want) in zip(monotone, expected) {
            #expect(abs(got - want) <= 1e-9 * want, "monotone levels \(monotone), expected \(expected)")
        }
        #expect(zip(monotone, monotone.dropFirst()).allSatisfy { $0 <= $1 })
        // Already ordered coefficients pass through unchanged.
        let ordered = [1.0, 2, 3, 4]
        #expect(fit.monotone(ordered) == ordered)
        #expect(abs(fit.predict(tokens: 2, context: 0).value - pooled) <= 1e-9 * pooled)
    }

    /// A profile whose decode step does not grow with context (one query row: T(1, c) = 200) while
    /// blocks pay a + 10 c + 3 n c: the decode step's own slope b_decode_context = -13 recovers
    /// every cell (1e-6 relative, the repeats' symmetric spread), where one slope shared by all n
    /// would price the decode step at context 160 about 5% high. Nine block sizes, two contexts.
    @Test func decodeStepKeepsItsOwnContextSlope() {
        var observations: [CostObservation] = []
        func cost(_ n: Int, _ c: Int) -> Double {
            n == 1 ? 200 : 150 + 50 * Double(n) + 10 * Double(c) + 3 * Double(n * c)
        }
        for n in 1...9 {
            for c in [64, 160] {
                let mean = cost(n, c)
                observations.append(CostObservation(tokens: n, context: c, samples: [mean - 2, mean, mean + 2]))
            }
        }
        let fit = BlockCostFit(observations: observations)
        #expect(fit.decodeContextTerm && fit.fit.termNames.last == "b_decode_context")
        var worst = 0.0
        for n in 1...9 {
            for c in [64, 112, 160] {
                worst = max(worst, abs(fit.predict(tokens: n, context: c).value - cost(n, c)) / cost(n, c))
            }
        }
        #expect(worst <= 1e-6, "worst relative error \(worst) against the profile's own curve")
    }
}
