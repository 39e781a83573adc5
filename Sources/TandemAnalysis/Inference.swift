import CGSL

/// Interval estimates and goodness-of-fit tests (GSL distributions).
public enum Inference {
    /// Wilson score interval of a binomial proportion at `confidence` (default 95%).
    public static func wilsonInterval(successes: Int, trials: Int, confidence: Double = 0.95)
        -> (low: Double, high: Double) {
        guard trials > 0 else { return (0, 1) }
        let z = gsl_cdf_ugaussian_Pinv(1 - (1 - confidence) / 2)
        let n = Double(trials), p = Double(successes) / n
        let denominator = 1 + z * z / n
        let center = (p + z * z / (2 * n)) / denominator
        let half = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / denominator
        return (max(0, center - half), min(1, center + half))
    }

    /// Pearson chi-square goodness of fit of `observed` counts to `probabilities` (summing to
    /// 1). Cells with expected count below `minimumExpected` are pooled into one cell so the
    /// chi-square approximation holds. p-value from gsl_cdf_chisq_Q.
    /// `estimatedParameters` fitted from the same data reduce the degrees of freedom.
    public static func chiSquare(observed: [Int], probabilities: [Double], minimumExpected: Double = 5,
                                 estimatedParameters: Int = 0)
        -> (statistic: Double, degreesOfFreedom: Int, pValue: Double) {
        precondition(observed.count == probabilities.count)
        let total = Double(observed.reduce(0, +))
        var cells: [(observed: Double, expected: Double)] = []
        var pooled = (observed: 0.0, expected: 0.0)
        for (count, p) in zip(observed, probabilities) {
            let expected = p * total
            if expected >= minimumExpected {
                cells.append((Double(count), expected))
            } else {
                pooled.observed += Double(count); pooled.expected += expected
            }
        }
        if pooled.expected > 0 || pooled.observed > 0 { cells.append(pooled) }
        // An observation in a cell of probability 0 is impossible under the hypothesis.
        if cells.contains(where: { $0.expected == 0 && $0.observed > 0 }) {
            return (.infinity, max(cells.count - 1 - estimatedParameters, 1), 0)
        }
        let statistic = cells.filter { $0.expected > 0 }.reduce(0) {
            $0 + ($1.observed - $1.expected) * ($1.observed - $1.expected) / $1.expected
        }
        let degrees = max(cells.filter { $0.expected > 0 }.count - 1 - estimatedParameters, 1)
        return (statistic, degrees, gsl_cdf_chisq_Q(statistic, Double(degrees)))
    }
}
