import CGSL

/// Summary statistics of a sample, computed with GSL.
public struct SampleSummary: Equatable, Sendable {
    public var count: Int
    public var mean: Double
    public var standardDeviation: Double
    public var median: Double
    public var percentile10: Double
    public var percentile90: Double
    /// t-based 95% confidence interval of the mean (gsl_cdf_tdist_Pinv); equal to the mean
    /// when there is a single sample.
    public var confidenceLow: Double
    public var confidenceHigh: Double
}

public enum Statistics {
    /// Summarizes `samples` (at least one). Quantiles use GSL's linear interpolation between
    /// order statistics (gsl_stats_quantile_from_sorted_data).
    public static func summarize(_ samples: [Double]) -> SampleSummary {
        precondition(!samples.isEmpty, "summary of an empty sample")
        var sorted = samples
        let n = sorted.count
        return sorted.withUnsafeMutableBufferPointer { buffer in
            let data = buffer.baseAddress!
            gsl_sort(data, 1, n)
            let mean = gsl_stats_mean(data, 1, n)
            let sd = n > 1 ? gsl_stats_sd_m(data, 1, n, mean) : 0
            let halfWidth = n > 1 ? gsl_cdf_tdist_Pinv(0.975, Double(n - 1)) * sd / Double(n).squareRoot() : 0
            return SampleSummary(
                count: n, mean: mean, standardDeviation: sd,
                median: gsl_stats_median_from_sorted_data(data, 1, n),
                percentile10: gsl_stats_quantile_from_sorted_data(data, 1, n, 0.10),
                percentile90: gsl_stats_quantile_from_sorted_data(data, 1, n, 0.90),
                confidenceLow: mean - halfWidth, confidenceHigh: mean + halfWidth)
        }
    }

    /// The median absolute deviation scaled to estimate a normal sample's standard deviation
    /// (1.4826 MAD, gsl_stats_mad): a spread that a few outliers do not move.
    public static func robustStandardDeviation(_ samples: [Double]) -> Double {
        precondition(!samples.isEmpty, "spread of an empty sample")
        var work = [Double](repeating: 0, count: samples.count)
        return samples.withUnsafeBufferPointer { data in
            work.withUnsafeMutableBufferPointer { gsl_stats_mad(data.baseAddress!, 1, data.count, $0.baseAddress!) }
        }
    }
}
