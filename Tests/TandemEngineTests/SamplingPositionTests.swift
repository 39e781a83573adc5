import CGSL
import Testing
import TandemAnalysis
import TandemEngine

/// Speculative sampling keeps the primary's (tempered, top-k and top-p filtered) distribution
/// at every position of a round, not only the first: each draft position and the bonus.
/// Reference: the exact distribution p_t of output position t; test: Pearson chi-square
/// (GSL, `Inference.chiSquare`), rejected when p < 0.001; fixed seeds. Negative controls
/// (q judged from the wrong position, p without the filters) must be rejected by the same test.
@Suite struct SamplingPositionTests {
    static let level = 0.001
    let parameters = SamplingParameters(temperature: 0.7, topK: 5, topP: 0.9)

    /// Power of the test, computed (not assumed): any alternative at total-variation distance
    /// delta from the hypothesis has chi-square divergence >= 4 delta^2 (Cauchy-Schwarz), so
    /// with n draws the statistic is noncentral chi-square with lambda >= 4 n delta^2 and
    /// power >= P(chi2(dof, lambda) > critical value), a Poisson(lambda / 2) mixture of
    /// central chi-squares (GSL `gsl_cdf_chisq_Q`).
    static func power(draws: Int, dof: Int, delta: Double) -> Double {
        let critical = gsl_cdf_chisq_Qinv(level, Double(dof))
        let halfLambda = 2 * Double(draws) * delta * delta
        var total = 0.0
        for j in 0..<2000 {
            total += gsl_ran_poisson_pdf(UInt32(j), halfLambda) * gsl_cdf_chisq_Q(critical, Double(dof + 2 * j))
        }
        return total
    }

    // MARK: The acceptance rule itself, on synthetic p_t and q_t over 8 tokens

    static let vocabulary = 8, gamma = 4, outputLength = 5 // positions 0...gamma: 4 drafts and the bonus

    /// Seeded synthetic logits per absolute position: the primary's, and a drafter's that
    /// differ from them (scale 1.2 noise), so drafts are accepted often but not always and
    /// the filtered supports of p and q differ at some positions.
    static let primaryLogits: [[Float]] = syntheticLogits(seed: 41, base: nil)
    static let draftLogits: [[Float]] = syntheticLogits(seed: 42, base: primaryLogits)

    static func syntheticLogits(seed: UInt64, base: [[Float]]?) -> [[Float]] {
        var generator = SeededGenerator(seed: seed)
        return (0..<(outputLength + gamma)).map { position in
            (0..<vocabulary).map { token in
                let noise = 2 * generator.nextUnitFloat() - 1
                return base.map { $0[position][token] + 1.2 * noise } ?? 1.3 * noise
            }
        }
    }

    /// One SPEED run at the unit level, mirroring `SpeculativeDecoding.generate`'s round:
    /// gamma drafts from q_t (the engine's `SeededSampler.draw`), each judged by `rule` in order
    /// until the first rejection, the bonus from p when all are accepted; rounds repeat until
    /// `outputLength` tokens. `qShift` judges draft i with q of draft (i + qShift) mod gamma.
    static func run(rule: inout some AcceptanceRule, parameters: SamplingParameters,
                    drafts draftGenerator: inout SeededGenerator, qShift: Int = 0) -> [Int] {
        var output: [Int] = []
        while output.count < outputLength {
            let start = output.count
            let q = (0..<gamma).map { draftLogits[start + $0].withUnsafeBufferPointer { parameters.distribution($0) } }
            let drafts = q.map { SeededSampler.draw(from: $0, using: &draftGenerator) }
            var accepted = 0, correction: Int?
            for (i, token) in drafts.enumerated() {
                let verdict = primaryLogits[start + i].withUnsafeBufferPointer {
                    rule.verify(token: token, draftDistribution: q[(i + qShift) % gamma], primaryLogits: $0,
                                position: i)
                }
                if case .reject(let token) = verdict { correction = token; break }
                accepted += 1
            }
            let final = correction ?? primaryLogits[start + gamma].withUnsafeBufferPointer {
                rule.primaryToken(primaryLogits: $0)
            }
            output += drafts.prefix(accepted) + [final]
        }
        return Array(output.prefix(outputLength))
    }

    /// Counts per output position over `draws` runs.
    static func positionCounts(draws: Int, seed: UInt64, qShift: Int = 0,
                               ruleParameters: SamplingParameters, draftParameters: SamplingParameters)
        -> (counts: [[Int]], accepted: Int, judged: Int) {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: vocabulary), count: outputLength)
        var rule = CountingRule(SpeculativeSampling(parameters: ruleParameters, seed: seed))
        var draftGenerator = SeededGenerator(seed: seed + 1)
        for _ in 0..<draws {
            let output = run(rule: &rule, parameters: draftParameters, drafts: &draftGenerator, qShift: qShift)
            for (position, token) in output.enumerated() { counts[position][token] += 1 }
        }
        return (counts, rule.accepted, rule.judged)
    }

    /// The synthetic primary's p_t, filtered and tempered as `parameters` say.
    func expected(_ position: Int, _ parameters: SamplingParameters) -> [Double] {
        Self.primaryLogits[position].withUnsafeBufferPointer { parameters.distribution($0) }
    }

    /// T = 0.7, top-k 5, top-p 0.9; 40,000 runs: at every position t = 0...4 (the four draft
    /// positions of the first round, and the bonus) the emitted tokens follow p_t (p > 0.001),
    /// and the power against any alternative at TV distance >= 0.02 is >= 0.99 per position.
    @Test func everyPositionFollowsTheFilteredPrimary() {
        let draws = 40_000
        let good = Self.positionCounts(draws: draws, seed: 5, ruleParameters: parameters, draftParameters: parameters)
        #expect(good.accepted > good.judged / 5 && good.accepted < good.judged * 4 / 5,
                "accepted \(good.accepted) of \(good.judged) judged drafts: both paths must be common")
        for position in 0..<Self.outputLength {
            let p = expected(position, parameters)
            let fit = Inference.chiSquare(observed: good.counts[position], probabilities: p)
            let observed = good.counts[position].map { Double($0) / Double(draws) }
            let tv = 0.5 * zip(observed, p).reduce(0) { $0 + abs($1.0 - $1.1) }
            let message = "position \(position): chi-square \(fit.statistic) on \(fit.degreesOfFreedom) dof, "
                + "p = \(fit.pValue); observed TV \(tv)"
            #expect(fit.pValue > Self.level, "\(message)")
            let power = Self.power(draws: draws, dof: fit.degreesOfFreedom, delta: 0.02)
            #expect(power >= 0.99, "position \(position): power \(power) at TV 0.02 with \(fit.degreesOfFreedom) dof")
        }
    }

    /// Negative control: judging draft i with q of draft i + 1 (the wrong position) must be
    /// rejected by the same test at some draft position.
    @Test func wrongPositionQIsRejected() {
        let bad = Self.positionCounts(draws: 40_000, seed: 5, qShift: 1, ruleParameters: parameters,
                                      draftParameters: parameters)
        let fits = (0..<Self.outputLength).map {
            Inference.chiSquare(observed: bad.counts[$0], probabilities: expected($0, parameters))
        }
        #expect(fits.contains { $0.pValue < Self.level },
                "q from the wrong position passed: p-values \(fits.map(\.pValue))")
    }

    /// Negative control: a rule whose p lacks the top-k/top-p filter (temperature only) while
    /// the drafter and the reference use them must be rejected by the same test.
    @Test func unfilteredPIsRejected() {
        let unfiltered = SamplingParameters(temperature: parameters.temperature)
        let bad = Self.positionCounts(draws: 40_000, seed: 5, ruleParameters: unfiltered, draftParameters: parameters)
        let fits = (0..<Self.outputLength).map {
            Inference.chiSquare(observed: bad.counts[$0], probabilities: expected($0, parameters))
        }
        #expect(fits.contains { $0.pValue < Self.level }, "unfiltered p passed: p-values \(fits.map(\.pValue))")
    }

    // MARK: The whole engine (SpeculativeDecoding with real models), every position of a round

    /// The exact marginal distribution of output positions 0 ..< depth under the primary
    /// alone (sampling with `parameters`), by enumerating every prefix of nonzero probability.
    func primaryMarginals(_ model: Transformer, prompt: [Int], depth: Int,
                          parameters: SamplingParameters) -> [[Double]] {
        let v = model.config.vocabularySize
        let cache = model.makeCache(capacity: 64)
        let state = model.makeState(maxTokens: prompt.count, contextCapacity: 64)
        var marginals = [[Double]](repeating: [Double](repeating: 0, count: v), count: depth)
        model.forward(prompt, cache: cache, state: state)
        func visit(level: Int, weight: Double, logits: [Float]) {
            let p = logits.withUnsafeBufferPointer { parameters.distribution($0) }
            for token in 0..<v where p[token] > 0 {
                marginals[level][token] += weight * p[token]
                guard level + 1 < depth else { continue }
                cache.truncate(to: prompt.count + level)
                model.forward([token], cache: cache, state: state)
                visit(level: level + 1, weight: weight * p[token], logits: Array(state.logits(0)))
            }
        }
        visit(level: 0, weight: 1, logits: Array(state.logits(prompt.count - 1)))
        return marginals
    }

    /// `tandem-speed` and `speed` on the decoding fixture (vocabulary 6), gamma 3, T = 0.7,
    /// top-k 4, top-p 0.95: over 20,000 seeded generations of 5 tokens, output position t
    /// (0: after the prefill; 1-3: the first round's drafts; 4: its bonus) follows the
    /// primary's exact marginal (p > 0.001); power >= 0.99 against TV >= 0.03 per position
    /// (computed: >= 0.99999 with 2-4 dof). A fault confined to draft position k shifts the
    /// marginal only on the runs that reach k (judged counts asserted below).
    /// Negative control: the rule's p without top-k/top-p must be rejected.
    @Test(arguments: [false, true])
    func engineEveryPositionFollowsThePrimary(tandem: Bool) throws {
        let fixture = try DecodingFixture(seed: 3, vocabularySize: 6)
        let engineParameters = SamplingParameters(temperature: 0.7, topK: 4, topP: 0.95)
        let prompt = [1, 4], length = 5, draws = 20_000
        let marginals = primaryMarginals(fixture.primary, prompt: prompt, depth: length, parameters: engineParameters)
        func counts(rule: AcceptanceRule) -> (counts: [[Int]], judged: [Int], accepted: [Int]) {
            // plain: the noisy copy of the primary (drafts accepted often enough to reach position 3)
            var strategy = fixture.speculative(tandem: tandem, policy: FixedPolicy(gamma: 3), rule: rule,
                                               parameters: engineParameters, seed: 77)
            var counts = [[Int]](repeating: [Int](repeating: 0, count: 6), count: length)
            var judged = [0, 0, 0], accepted = [0, 0, 0]
            for _ in 0..<draws {
                for (position, token) in strategy.generate(prompt: prompt, maxTokens: length).enumerated() {
                    counts[position][token] += 1
                }
                for k in 0..<3 {
                    judged[k] += strategy.telemetry.judgedByPosition[k]
                    accepted[k] += strategy.telemetry.acceptedByPosition[k]
                }
            }
            return (counts, judged, accepted)
        }
        let good = counts(rule: SpeculativeSampling(parameters: engineParameters, seed: 5))
        // Every draft position of the first round is judged often, with both outcomes.
        #expect(good.judged[2] >= draws / 20 && zip(good.accepted, good.judged).allSatisfy { $0 > 0 && $0 < $1 },
                "tandem=\(tandem): judged per draft position \(good.judged), accepted \(good.accepted)")
        for position in 0..<length {
            let fit = Inference.chiSquare(observed: good.counts[position], probabilities: marginals[position])
            let message = "tandem=\(tandem) position \(position): chi-square \(fit.statistic) on "
                + "\(fit.degreesOfFreedom) dof, p = \(fit.pValue)"
            #expect(fit.pValue > Self.level, "\(message)")
            let power = Self.power(draws: draws, dof: fit.degreesOfFreedom, delta: 0.03)
            #expect(power >= 0.99, "\(message): power \(power) at TV 0.03")
        }
        let unfiltered = counts(rule: SpeculativeSampling(parameters: SamplingParameters(temperature: 0.7), seed: 5))
        let badFits = (0..<length).map {
            Inference.chiSquare(observed: unfiltered.counts[$0], probabilities: marginals[$0])
        }
        #expect(badFits.contains { $0.pValue < Self.level },
                "tandem=\(tandem): the rule without the filters passed: p-values \(badFits.map(\.pValue))")
    }
}

/// Counts the judgements of the wrapped rule (accepted / judged) for the tests' sanity checks.
struct CountingRule<Inner: AcceptanceRule>: AcceptanceRule {
    var inner: Inner
    var accepted = 0, judged = 0
    init(_ inner: Inner) { self.inner = inner }

    mutating func verify(token: Int, draftDistribution: [Double], primaryLogits: UnsafeBufferPointer<Float>,
                         position: Int) -> Verdict {
        let verdict = inner.verify(token: token, draftDistribution: draftDistribution, primaryLogits: primaryLogits,
                                   position: position)
        judged += 1
        if verdict == .accept { accepted += 1 }
        return verdict
    }

    mutating func primaryToken(primaryLogits: UnsafeBufferPointer<Float>) -> Int {
        inner.primaryToken(primaryLogits: primaryLogits)
    }
}
