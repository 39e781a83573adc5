import CGSL

/// A weighted least-squares fit y = X beta (GSL gsl_multifit_wlinear) with the coefficients'
/// covariance, so predictions carry standard errors (gsl_multifit_linear_est).
public struct LinearFit: Sendable {
    public let termNames: [String]
    public let coefficients: [Double]
    /// Row-major p x p covariance of the coefficients.
    public let covariance: [Double]
    public let chiSquared: Double
    public let rSquared: Double
    public let observations: Int
    public var degreesOfFreedom: Int { observations - coefficients.count }

    public var standardErrors: [Double] {
        (0..<coefficients.count).map { max(covariance[$0 * coefficients.count + $0], 0).squareRoot() }
    }

    /// Fits `design` rows (one per observation, p columns) to `values` with `weights`
    /// (inverse variances). Needs at least p observations.
    public init(termNames: [String], design: [[Double]], values: [Double], weights: [Double]) {
        let n = values.count, p = termNames.count
        precondition(n >= p && design.count == n && weights.count == n && design.allSatisfy { $0.count == p },
                     "a fit of \(p) terms needs at least \(p) observations with \(p) columns, got \(n)")
        let x = gsl_matrix_alloc(n, p)!, y = gsl_vector_alloc(n)!, w = gsl_vector_alloc(n)!
        let c = gsl_vector_alloc(p)!, cov = gsl_matrix_alloc(p, p)!
        let work = gsl_multifit_linear_alloc(n, p)!
        defer {
            gsl_matrix_free(x); gsl_vector_free(y); gsl_vector_free(w); gsl_vector_free(c); gsl_matrix_free(cov)
            gsl_multifit_linear_free(work)
        }
        for i in 0..<n {
            for j in 0..<p { gsl_matrix_set(x, i, j, design[i][j]) }
            gsl_vector_set(y, i, values[i])
            gsl_vector_set(w, i, weights[i])
        }
        var chisq = 0.0
        gsl_multifit_wlinear(x, w, y, c, cov, &chisq, work)
        self.termNames = termNames
        coefficients = (0..<p).map { gsl_vector_get(c, $0) }
        covariance = (0..<(p * p)).map { gsl_matrix_get(cov, $0 / p, $0 % p) }
        chiSquared = chisq
        observations = n
        let totalWeight = weights.reduce(0, +)
        let mean = zip(values, weights).reduce(0) { $0 + $1.0 * $1.1 } / totalWeight
        let total = zip(values, weights).reduce(0) { $0 + $1.1 * ($1.0 - mean) * ($1.0 - mean) }
        rSquared = total > 0 ? 1 - chisq / total : 1
    }

    /// The fitted value at basis vector `x` and its standard error (GSL gsl_multifit_linear_est).
    public func predict(_ x: [Double]) -> (value: Double, standardError: Double) {
        let p = coefficients.count
        precondition(x.count == p)
        let xv = gsl_vector_alloc(p)!, c = gsl_vector_alloc(p)!, cov = gsl_matrix_alloc(p, p)!
        defer { gsl_vector_free(xv); gsl_vector_free(c); gsl_matrix_free(cov) }
        for j in 0..<p { gsl_vector_set(xv, j, x[j]); gsl_vector_set(c, j, coefficients[j]) }
        for i in 0..<(p * p) { gsl_matrix_set(cov, i / p, i % p, covariance[i]) }
        var y = 0.0, error = 0.0
        gsl_multifit_linear_est(xv, c, cov, &y, &error)
        return (y, error)
    }
}

/// One timing cell: a block of `tokens` at `context`, from `samples` repeats.
public struct CostObservation: Sendable {
    public var tokens: Int
    public var context: Int
    public var samples: [Double] // nanoseconds

    public init(tokens: Int, context: Int, samples: [Double]) {
        self.tokens = tokens
        self.context = context
        self.samples = samples
    }

    public var summary: SampleSummary { Statistics.summarize(samples) }
    /// The cell's median, which the fits take: this machine's timings carry rare samples 1.2-1.9x
    /// the rest (results/acceptance: a block of 6 at 7.45 ms among 5.66-6.11), and a mean follows them.
    public var value: Double { summary.median }
    /// The cell's relative spread: the scaled MAD (1.4826 MAD, gsl_stats_mad) over the median.
    public var relativeSpread: Double {
        let median = summary.median
        return samples.count > 1 && median > 0 ? Statistics.robustStandardDeviation(samples) / median : 0
    }

    /// Inverse variances of the cells' medians for a fit over `cells`: about (1.2533 s m)^2 / n
    /// for a cell of median m and n samples, with s the median relative spread of all the cells
    /// (timings here vary by a share of their size, and five samples estimate one cell's own
    /// spread too poorly: per-cell MADs let a lucky cell outweigh the rest 100-fold and pushed a
    /// secondary's a_2 below zero in a noisy paper-tiny profile). Standard errors are floored at
    /// 0.5% of the median. The coefficients' standard errors are approximate: the scaled MAD of
    /// 5-8 samples runs 10-30% low, which narrows the Monte Carlo prediction intervals alike.
    public static func weights(_ cells: [CostObservation]) -> [Double] {
        let spreads = cells.map(\.relativeSpread).filter { $0 > 0 }
        let spread = spreads.isEmpty ? 0 : Statistics.summarize(spreads).median
        return cells.map { cell in
            let median = cell.summary.median
            let standardError = max(1.2533 * spread * median / Double(cell.samples.count).squareRoot(),
                                    0.005 * median, 1)
            return 1 / (standardError * standardError)
        }
    }
}

/// The block-cost curve of one model: T(n, c) = a_n + b c + d n c, a level a_n per profiled
/// block size (the curve is flat while weights stream from DRAM and rises past the ridge, which
/// no low-order polynomial follows), a context term per block (reading the KV cache, once for
/// all n tokens) and one per token (attention arithmetic). With too few cells for both context
/// terms (a secondary profiled at n = 1, 2 and two contexts), T = a_n + d n c. Block sizes between
/// profiled ones interpolate linearly; beyond the largest, extrapolate from the last two.
public struct BlockCostFit: Sendable {
    public let levels: [Int]
    /// The n c term (several contexts profiled).
    public let contextTerm: Bool
    /// The c term (several contexts and enough cells to separate it from n c).
    public let blockContextTerm: Bool
    /// The decode step's own context slope, [n = 1] c (with the c term, two block sizes above 1
    /// and a residual degree of freedom). One query row reads the KV cache in another regime than
    /// a block's n c arithmetic: profiled slopes of n = 1 lay 0.1x-1.3x the line through the
    /// blocks' (paper-tiny, paper-small), so without it the step every baseline token pays came
    /// out 5-10% off at the sweep's mean context.
    public let decodeContextTerm: Bool
    public let fit: LinearFit

    public init(observations: [CostObservation]) {
        levels = Array(Set(observations.map(\.tokens))).sorted()
        contextTerm = Set(observations.map(\.context)).count > 1
        blockContextTerm = contextTerm && levels.count >= 3 && observations.count >= levels.count + 4
        decodeContextTerm = blockContextTerm && levels.contains(1) && levels.filter { $0 > 1 }.count >= 2
        let names = levels.map { "a_\($0)" } + (blockContextTerm ? ["b_context"] : [])
            + (contextTerm ? ["b_n_context"] : []) + (decodeContextTerm ? ["b_decode_context"] : [])
        let levels = self.levels
        let contextTerm = self.contextTerm, blockContextTerm = self.blockContextTerm
        let decodeContextTerm = self.decodeContextTerm
        let design = observations.map { o in
            levels.map { $0 == o.tokens ? 1.0 : 0.0 } + (blockContextTerm ? [Double(o.context)] : [])
                + (contextTerm ? [Double(o.tokens * o.context)] : [])
                + (decodeContextTerm ? [o.tokens == 1 ? Double(o.context) : 0] : [])
        }
        fit = LinearFit(termNames: names, design: design, values: observations.map(\.value),
                        weights: CostObservation.weights(observations))
    }

    /// `beta` (the fit's coefficients, or a draw of them) with the per-block-size levels a_n
    /// made non-decreasing in n by weighted isotonic regression (pool adjacent violators,
    /// weights 1 / se^2): a block of more tokens never costs less, and a noisy profile cell
    /// (a_8 < a_1 happens on this shared machine) must not make verifying look free.
    public func monotone(_ beta: [Double]) -> [Double] {
        var blocks: [(value: Double, weight: Double, count: Int)] = []
        for index in levels.indices {
            let standardError = fit.standardErrors[index]
            let weight = standardError > 0 && standardError.isFinite ? 1 / (standardError * standardError) : 1
            blocks.append((beta[index], weight, 1))
            while blocks.count > 1, blocks[blocks.count - 2].value > blocks[blocks.count - 1].value {
                let right = blocks.removeLast(), left = blocks.removeLast()
                let weight = left.weight + right.weight
                blocks.append(((left.value * left.weight + right.value * right.weight) / weight, weight,
                               left.count + right.count))
            }
        }
        var result = blocks.flatMap { Array(repeating: $0.value, count: $0.count) }
        result += beta[levels.count...]
        return result
    }

    /// The fit's basis vector for a block of `tokens` at `context`.
    public func basis(tokens: Int, context: Int) -> [Double] {
        var x = [Double](repeating: 0, count: levels.count + (blockContextTerm ? 1 : 0) + (contextTerm ? 1 : 0)
                         + (decodeContextTerm ? 1 : 0))
        if let exact = levels.firstIndex(of: tokens) {
            x[exact] = 1
        } else if levels.count == 1 {
            x[0] = Double(tokens) / Double(levels[0])
        } else {
            // Interpolate between neighbours, or extrapolate from the two nearest levels.
            let upper = levels.firstIndex(where: { $0 > tokens }).map { max($0, 1) } ?? levels.count - 1
            let lower = upper - 1
            let t = Double(tokens - levels[lower]) / Double(levels[upper] - levels[lower])
            x[lower] = 1 - t
            x[upper] = t
        }
        if blockContextTerm { x[levels.count] = Double(context) }
        if contextTerm { x[levels.count + (blockContextTerm ? 1 : 0)] = Double(tokens * context) }
        if decodeContextTerm && tokens == 1 { x[x.count - 1] = Double(context) }
        return x
    }

    /// Predicted nanoseconds for a block of `tokens` at `context`, with its standard error.
    public func predict(tokens: Int, context: Int) -> (value: Double, standardError: Double) {
        let x = basis(tokens: tokens, context: context)
        let unconstrained = fit.predict(x)
        let value = zip(x, monotone(fit.coefficients)).reduce(0) { $0 + $1.0 * $1.1 }
        return (value, unconstrained.standardError)
    }
}
