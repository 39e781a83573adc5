import Testing
import TandemAnalysis

/// The block-cost levels a_n are made non-decreasing by weighted isotonic regression; the
/// reference is the pooled weighted mean computed directly. Tolerance 1e-9 relative.
@Suite struct MonotoneFitTests {
    @Test func dipIsPooledAndOrderedLevelsAreKept() {
        // a_1 = 100, a_2 = 90 (a noisy dip), a_3 = 95, a_4 = 130; equal spreads, so equal weights.
        let means: [Double] = [100, 90, 95, 130]
        let observations = means.enumerated().map { index, mean in
            CostObservation(tokens: index + 1, context: 0, samples: [mean - 1, mean, mean + 1])
        }
        let fit = BlockCostFit(observations: observations)
        let monotone = fit.monotone(fit.fit.coefficients)
        let pooled = (100.0 + 90 + 95) / 3
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
}
