import Foundation
import Testing
import TandemAnalysis

@Suite struct StatisticsTests {
    /// Mean, sd, median, quantiles and the t-interval against hand-computed values (1e-12).
    @Test func summaryMatchesHandComputation() {
        let s = Statistics.summarize([4, 1, 3, 2, 5])
        #expect(s.mean == 3 && s.median == 3)
        #expect(abs(s.standardDeviation - 2.5.squareRoot()) < 1e-12)
        #expect(abs(s.percentile10 - 1.4) < 1e-12 && abs(s.percentile90 - 4.6) < 1e-12) // linear interpolation
        // t(0.975, 4) = 2.7764451051977987
        let half = 2.7764451051977987 * 2.5.squareRoot() / 5.0.squareRoot()
        #expect(abs(s.confidenceLow - (3 - half)) < 1e-9 && abs(s.confidenceHigh - (3 + half)) < 1e-9,
                "interval [\(s.confidenceLow), \(s.confidenceHigh)], expected 3 -+ \(half)")
    }

    /// Wilson 95% interval for 8/10 (reference values from the closed form, 1e-4).
    @Test func wilsonInterval() {
        let interval = Inference.wilsonInterval(successes: 8, trials: 10)
        #expect(abs(interval.low - 0.4902) < 1e-4 && abs(interval.high - 0.9433) < 1e-4, "\(interval)")
        #expect(Inference.wilsonInterval(successes: 0, trials: 0) == (0, 1))
    }

    /// A perfect fit has statistic 0 and p-value 1; a gross misfit p ~ 0; impossible cells p = 0.
    @Test func chiSquare() {
        let perfect = Inference.chiSquare(observed: [25, 25, 50], probabilities: [0.25, 0.25, 0.5])
        #expect(perfect.statistic == 0 && abs(perfect.pValue - 1) < 1e-12 && perfect.degreesOfFreedom == 2)
        let bad = Inference.chiSquare(observed: [60, 10, 30], probabilities: [0.25, 0.25, 0.5])
        #expect(bad.pValue < 1e-6, "p = \(bad.pValue)")
        // chi2 = 4 on 1 dof: p = 0.0455 (erfc(sqrt(2)))
        let edge = Inference.chiSquare(observed: [60, 40], probabilities: [0.5, 0.5])
        #expect(abs(edge.statistic - 4) < 1e-12 && abs(edge.pValue - 0.04550026389635842) < 1e-9)
        #expect(Inference.chiSquare(observed: [10, 5], probabilities: [1, 0]).pValue == 0)
    }

    /// Weighted least squares recovers exact coefficients; standard errors shrink with weight.
    @Test func linearFitRecoversCoefficients() {
        let xs = (0..<20).map(Double.init)
        let fit = LinearFit(termNames: ["b0", "b1"], design: xs.map { [1, $0] }, values: xs.map { 3 + 2 * $0 },
                            weights: Array(repeating: 1, count: 20))
        #expect(abs(fit.coefficients[0] - 3) < 1e-9 && abs(fit.coefficients[1] - 2) < 1e-9)
        #expect(abs(fit.rSquared - 1) < 1e-12)
        let prediction = fit.predict([1, 100])
        #expect(abs(prediction.value - 203) < 1e-7)
        let noisy = xs.map { 3 + 2 * $0 + ($0.truncatingRemainder(dividingBy: 2) == 0 ? 0.5 : -0.5) }
        let light = LinearFit(termNames: ["b0", "b1"], design: xs.map { [1, $0] }, values: noisy,
                              weights: Array(repeating: 1, count: 20))
        let heavy = LinearFit(termNames: ["b0", "b1"], design: xs.map { [1, $0] }, values: noisy,
                              weights: Array(repeating: 100, count: 20))
        #expect(heavy.standardErrors[1] < light.standardErrors[1] / 5,
                "\(heavy.standardErrors) vs \(light.standardErrors)")
    }

    /// The block-cost fit reproduces its levels and interpolates between profiled sizes.
    @Test func blockCostFitInterpolates() {
        var observations: [CostObservation] = []
        for n in [1, 2, 4] {
            for c in [10, 50] {
                let value = Double([1: 100.0, 2: 110.0, 4: 150.0][n]!) + 0.5 * Double(n * c)
                observations.append(CostObservation(tokens: n, context: c, samples: [value - 1, value, value + 1]))
            }
        }
        let fit = BlockCostFit(observations: observations)
        #expect(abs(fit.predict(tokens: 2, context: 10).value - 120) < 1e-6)
        #expect(abs(fit.predict(tokens: 3, context: 0).value - 130) < 1e-6) // halfway between a_2 and a_4
        #expect(abs(fit.predict(tokens: 1, context: 100).value - 150) < 1e-6)
    }

    /// One sample in eight at 1.6x (the shared machine's stalls, quickstart's profile) moves a
    /// cell's mean by 7.5% but not its median: the fit keeps a_n within 1% of the clean level.
    /// The robust spread is GSL's scaled MAD (1.4826 MAD; 1.4826 for the sample below).
    @Test func blockCostFitIgnoresRareOutliers() {
        var observations: [CostObservation] = []
        for n in [1, 2, 4] {
            for c in [10, 50] {
                let value = Double([1: 1000.0, 2: 1010.0, 4: 1050.0][n]!) + 0.5 * Double(n * c)
                var samples = (0..<8).map { value * (1 + 0.002 * Double($0 - 4)) }
                if n == 2 { samples[3] = 1.6 * value }
                observations.append(CostObservation(tokens: n, context: c, samples: samples))
            }
        }
        let fit = BlockCostFit(observations: observations)
        let a2 = fit.predict(tokens: 2, context: 10).value, clean = 1010.0 + 10
        #expect(abs(a2 - clean) / clean < 0.01, "a_2 at context 10: \(a2), clean \(clean) (reference: the median)")
        let mad = Statistics.robustStandardDeviation([1, 2, 3, 4, 100])
        #expect(abs(mad - 1.4826) < 1e-5, "scaled MAD \(mad), expected 1.4826 (GSL: 1.482602218505602)")
    }

    /// Weights follow the cells' sizes, not their luck: five identical timings do not make a cell
    /// outweigh the rest (the pooled relative spread here is 0.0741 = 1.4826 x 10 / 200).
    @Test func costWeightsPoolTheSpread() {
        let cells = [CostObservation(tokens: 1, context: 10, samples: [100, 100, 100, 100, 100]),
                     CostObservation(tokens: 2, context: 10, samples: [190, 200, 210, 220, 180]),
                     CostObservation(tokens: 1, context: 50, samples: [95, 105, 100, 110, 90])]
        let w = CostObservation.weights(cells)
        #expect(abs(w[0] / w[2] - 1) < 1e-12, "equal medians weigh alike: \(w)")
        #expect(abs(w[0] / w[1] - 4) < 1e-9, "weight ~ 1 / median^2: \(w)")
        let standardError = 1 / w[1].squareRoot(), expected = 1.2533 * 1.482602218505602 * 10 / 5.0.squareRoot()
        #expect(abs(standardError - expected) < 1e-6, "standard error \(standardError), expected \(expected)")
    }

    /// The bootstrap interval of a mean covers it and narrows with more data.
    @Test func bootstrapInterval() {
        let small = (0..<10).map { Double($0) }, large = (0..<1000).map { Double($0 % 10) }
        let mean = { (x: [Double]) in x.reduce(0, +) / Double(x.count) }
        let a = Statistics.bootstrapInterval(small, seed: 1, statistic: mean)
        let b = Statistics.bootstrapInterval(large, seed: 1, statistic: mean)
        #expect(a.low < 4.5 && 4.5 < a.high && b.low < 4.5 && 4.5 < b.high)
        #expect(b.high - b.low < (a.high - a.low) / 5)
    }
}
