import CGSL

/// A seeded GSL generator (MT19937) for bootstrap and Monte Carlo intervals.
public final class RandomSource {
    let rng: UnsafeMutablePointer<gsl_rng>

    public init(seed: UInt64) {
        rng = gsl_rng_alloc(tandem_gsl_rng_mt19937())!
        gsl_rng_set(rng, UInt(truncatingIfNeeded: seed))
    }

    deinit { gsl_rng_free(rng) }

    public func uniformIndex(_ n: Int) -> Int { Int(gsl_rng_uniform_int(rng, UInt(n))) }
    /// Uniform on [0, 1).
    public func uniform() -> Double { gsl_rng_uniform(rng) }
    public func beta(_ a: Double, _ b: Double) -> Double { gsl_ran_beta(rng, a, b) }
    public func gaussian(sigma: Double) -> Double { gsl_ran_gaussian(rng, sigma) }

    /// A draw of `fit`'s coefficients from their multivariate normal (Cholesky of the
    /// covariance; falls back to independent draws if it is not positive definite).
    public func coefficients(of fit: LinearFit) -> [Double] {
        let p = fit.coefficients.count
        let mu = gsl_vector_alloc(p)!, l = gsl_matrix_alloc(p, p)!, out = gsl_vector_alloc(p)!
        defer { gsl_vector_free(mu); gsl_matrix_free(l); gsl_vector_free(out) }
        for j in 0..<p { gsl_vector_set(mu, j, fit.coefficients[j]) }
        for i in 0..<(p * p) { gsl_matrix_set(l, i / p, i % p, fit.covariance[i]) }
        let previous = gsl_set_error_handler_off()
        defer { gsl_set_error_handler(previous) }
        guard gsl_linalg_cholesky_decomp1(l) == GSL_SUCCESS,
              gsl_ran_multivariate_gaussian(rng, mu, l, out) == GSL_SUCCESS else {
            return zip(fit.coefficients, fit.standardErrors).map { $0 + gsl_ran_gaussian(rng, $1) }
        }
        return (0..<p).map { gsl_vector_get(out, $0) }
    }
}

extension Statistics {
    /// Percentile bootstrap interval of `statistic` over resamples of `samples` (GSL rng).
    public static func bootstrapInterval(_ samples: [Double], resamples: Int = 2000, confidence: Double = 0.95,
                                         seed: UInt64, statistic: ([Double]) -> Double) -> (low: Double, high: Double) {
        guard samples.count > 1 else { let v = statistic(samples); return (v, v) }
        let random = RandomSource(seed: seed)
        var values: [Double] = []
        values.reserveCapacity(resamples)
        var resample = samples
        for _ in 0..<resamples {
            for i in 0..<samples.count { resample[i] = samples[random.uniformIndex(samples.count)] }
            values.append(statistic(resample))
        }
        return quantiles(values, (1 - confidence) / 2, 1 - (1 - confidence) / 2)
    }

    /// Percentile bootstrap interval of mean(numerators) / mean(denominators), resampling the
    /// two samples independently (they come from separate runs).
    public static func bootstrapRatioInterval(_ numerators: [Double], _ denominators: [Double], resamples: Int = 2000,
                                              confidence: Double = 0.95, seed: UInt64) -> (low: Double, high: Double) {
        let random = RandomSource(seed: seed)
        func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }
        var values: [Double] = []
        for _ in 0..<resamples {
            let a = (0..<numerators.count).map { _ in numerators[random.uniformIndex(numerators.count)] }
            let b = (0..<denominators.count).map { _ in denominators[random.uniformIndex(denominators.count)] }
            values.append(mean(a) / mean(b))
        }
        return quantiles(values, (1 - confidence) / 2, 1 - (1 - confidence) / 2)
    }

    /// Two quantiles of `values` (GSL, linear interpolation).
    public static func quantiles(_ values: [Double], _ low: Double, _ high: Double) -> (low: Double, high: Double) {
        var sorted = values
        return sorted.withUnsafeMutableBufferPointer { buffer in
            gsl_sort(buffer.baseAddress!, 1, buffer.count)
            return (gsl_stats_quantile_from_sorted_data(buffer.baseAddress!, 1, buffer.count, low),
                    gsl_stats_quantile_from_sorted_data(buffer.baseAddress!, 1, buffer.count, high))
        }
    }
}
