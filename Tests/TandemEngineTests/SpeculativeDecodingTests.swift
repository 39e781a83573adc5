import Testing
import TandemAnalysis
import TandemEngine

@Suite struct SpeculativeDecodingTests {
    let prompts = [[1, 5, 7], [3], [11, 0, 4, 4, 9, 2, 6, 8]]

    /// Greedy speed and tandem-speed, every policy, gamma in {1, 2, 3, 5, 8, 16}, several
    /// seeds and prompts: output identical to the primary's own greedy output, token for token.
    @Test(arguments: [1, 2, 3, 5, 8, 16])
    func greedyOutputEqualsPrimary(gamma: Int) throws {
        var acceptedSomewhere = 0, rejectedSomewhere = 0
        for seed in [UInt64(1), 2] {
            let fixture = try DecodingFixture(seed: seed)
            for prompt in prompts {
                let expected = fixture.primaryGreedy(prompt, 40)
                for useTandem in [false, true] {
                    for policy in fixture.policies(gamma: gamma, tandem: useTandem) {
                        var strategy = fixture.speculative(tandem: useTandem, policy: policy, rule: GreedyAcceptance())
                        let output = strategy.generate(prompt: prompt, maxTokens: 40)
                        let firstDifference = zip(output, expected).enumerated().first { $1.0 != $1.1 }?.offset
                        let message = "\(strategy.name) \(policy.name) gamma=\(gamma) seed=\(seed) prompt=\(prompt): "
                            + "first difference at token \(firstDifference ?? -1)"
                        #expect(output == expected, "\(message)")
                        acceptedSomewhere += strategy.telemetry.accepted
                        rejectedSomewhere += strategy.telemetry.drafted - strategy.telemetry.accepted
                    }
                }
            }
        }
        // The test must exercise both paths, or it proves little.
        #expect(acceptedSomewhere > 0 && rejectedSomewhere > 0,
                "accepted \(acceptedSomewhere), rejected \(rejectedSomewhere)")
    }

    /// A drafter identical to the primary has every draft accepted and every round ends with
    /// the bonus token: gamma + 1 tokens per round.
    @Test func selfDraftingAcceptsEverything() throws {
        let fixture = try DecodingFixture()
        var strategy = fixture.speculative(tandem: false, drafter: fixture.primary, policy: FixedPolicy(gamma: 4),
                                           rule: GreedyAcceptance())
        let output = strategy.generate(prompt: [2, 3], maxTokens: 41)
        #expect(output == fixture.primaryGreedy([2, 3], 41))
        #expect(strategy.telemetry.accepted == strategy.telemetry.drafted)
        #expect(strategy.telemetry.meanAcceptedLength == 5,
                "mean accepted length \(String(describing: strategy.telemetry.meanAcceptedLength))")
    }

    /// Joint distribution of the first two generated tokens under the primary, exactly.
    func primaryJoint(_ fixture: DecodingFixture, prompt: [Int], parameters: SamplingParameters) -> [Double] {
        let model = fixture.primary, v = model.config.vocabularySize
        let cache = model.makeCache(capacity: 32), state = model.makeState(maxTokens: 8, contextCapacity: 32)
        model.forward(prompt, cache: cache, state: state)
        let first = parameters.distribution(state.logits(prompt.count - 1))
        var joint = [Double](repeating: 0, count: v * v)
        for a in 0..<v where first[a] > 0 {
            cache.truncate(to: prompt.count)
            model.forward([a], cache: cache, state: state)
            let second = parameters.distribution(state.logits(0))
            for b in 0..<v { joint[a * v + b] = first[a] * second[b] }
        }
        return joint
    }

    func sampledJointCounts(_ fixture: DecodingFixture, rule: AcceptanceRule, parameters: SamplingParameters,
                            prompt: [Int], samples: Int, tandem: Bool) -> (counts: [Int], drafted: Int, accepted: Int) {
        let v = fixture.primary.config.vocabularySize
        var strategy = fixture.speculative(tandem: tandem, drafter: fixture.secondaryPlainSameVocabulary,
                                           policy: FixedPolicy(gamma: 3), rule: rule, parameters: parameters, seed: 77)
        var counts = [Int](repeating: 0, count: v * v)
        var drafted = 0, accepted = 0
        for _ in 0..<samples {
            let output = strategy.generate(prompt: prompt, maxTokens: 3)
            counts[output[0] * v + output[1]] += 1
            drafted += strategy.telemetry.drafted
            accepted += strategy.telemetry.accepted
        }
        return (counts, drafted, accepted)
    }

    /// Speculative sampling preserves the primary's distribution: the joint distribution of the
    /// first two generated tokens (the second decided by accept/reject of a draft) matches the
    /// primary's exact joint, chi-square p > 0.01 (GSL) with 30,000 samples at a fixed seed.
    /// A deliberately wrong rule (resampling from p instead of the residual after a rejection)
    /// fails the same test, so the test has the power to see a broken rule.
    @Test(arguments: [false, true])
    func speculativeSamplingPreservesTheDistribution(tandem: Bool) throws {
        let fixture = try DecodingFixture(seed: 3, vocabularySize: 6)
        let parameters = SamplingParameters(temperature: 1)
        let prompt = [1, 4]
        let joint = primaryJoint(fixture, prompt: prompt, parameters: parameters)
        let good = sampledJointCounts(fixture, rule: SpeculativeSampling(parameters: parameters, seed: 5),
                                      parameters: parameters, prompt: prompt, samples: 30_000, tandem: tandem)
        let fit = Inference.chiSquare(observed: good.counts, probabilities: joint)
        #expect(fit.pValue > 0.01,
                "tandem=\(tandem): chi-square \(fit.statistic) on \(fit.degreesOfFreedom) dof, p = \(fit.pValue)")
        #expect(good.accepted > 0 && good.accepted < good.drafted,
                "accepted \(good.accepted) of \(good.drafted) drafts")

        let bad = sampledJointCounts(fixture, rule: ResampleFromPrimaryRule(parameters: parameters, seed: 5),
                                     parameters: parameters, prompt: prompt, samples: 30_000, tandem: tandem)
        let badFit = Inference.chiSquare(observed: bad.counts, probabilities: joint)
        #expect(badFit.pValue < 0.01, "the wrong rule passed: chi-square \(badFit.statistic), p = \(badFit.pValue)")
    }

    /// Oracle mode: per-position acceptance matches alpha_k within its 95% Wilson interval, and
    /// the timers show every verification block was gamma + 1 tokens (all work done).
    @Test func oracleAcceptanceMatchesAlphaAndDoesAllTheWork() throws {
        let fixture = try DecodingFixture()
        let alphas = [0.9, 0.7, 0.5, 0.5]
        let gamma = 4
        let profiler = LayerProfiler(models: [("primary", fixture.primaryConfig.layerCount),
                                              ("secondary", fixture.secondaryConfig.layerCount)])
        var strategy = fixture.speculative(tandem: true, policy: FixedPolicy(gamma: gamma),
                                           rule: OracleAcceptance(alphas: alphas, parameters: .greedy, seed: 9,
                                                                  sampling: .independent),
                                           capacity: 1900, settings: DecodingSettings(threads: 1, profiler: profiler))
        _ = strategy.generate(prompt: [1, 2, 3], maxTokens: 1800)
        let telemetry = strategy.telemetry
        for (position, alpha) in alphas.enumerated() {
            // alpha_k is the conditional acceptance given the earlier drafts were accepted.
            let interval = Inference.wilsonInterval(successes: telemetry.acceptedByPosition[position],
                                                    trials: telemetry.judgedByPosition[position])
            let message = "position \(position + 1): "
                + "\(telemetry.acceptedByPosition[position])/\(telemetry.judgedByPosition[position]) accepted, "
                + "Wilson [\(interval.low), \(interval.high)] misses alpha \(alpha)"
            #expect(interval.low <= alpha && alpha <= interval.high, "\(message)")
        }
        let verifyHead = profiler.records.filter {
            $0.model == "primary" && $0.phase == .verify && $0.component == .lmHead
        }
        #expect(verifyHead.count == 1)
        if let head = verifyHead.first {
            // Every round but possibly the last (token budget) verifies gamma + 1 tokens.
            #expect(head.slot.tokens >= (head.slot.calls - 1) * (gamma + 1) + 1
                    && head.slot.tokens <= head.slot.calls * (gamma + 1),
                    "verify passes: \(head.slot.calls) calls, \(head.slot.tokens) tokens")
            #expect(head.slot.calls == telemetry.rounds)
        }
    }
}

/// A deliberately wrong rule for the negative test: after a rejection it draws from p instead
/// of norm(max(0, p - q)), which over-weights the tokens the drafter likes.
struct ResampleFromPrimaryRule: AcceptanceRule {
    var inner: SpeculativeSampling
    var parameters: SamplingParameters
    var generator: SeededGenerator

    init(parameters: SamplingParameters, seed: UInt64) {
        inner = SpeculativeSampling(parameters: parameters, seed: seed)
        self.parameters = parameters
        generator = SeededGenerator(seed: seed + 1)
    }

    mutating func verify(token: Int, draftDistribution: [Double], primaryLogits: UnsafeBufferPointer<Float>,
                         position: Int) -> Verdict {
        switch inner.verify(token: token, draftDistribution: draftDistribution, primaryLogits: primaryLogits,
                            position: position) {
        case .accept: return .accept
        case .reject:
            return .reject(correction: SeededSampler.draw(from: parameters.distribution(primaryLogits),
                                                          using: &generator))
        }
    }

    mutating func primaryToken(primaryLogits: UnsafeBufferPointer<Float>) -> Int {
        inner.primaryToken(primaryLogits: primaryLogits)
    }
}

extension DecodingFixture {
    /// The plain drafter for sampling tests: the tandem secondary's model used on its own.
    var secondaryPlainSameVocabulary: Transformer { secondary }
}
