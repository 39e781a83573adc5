import Testing
import TandemAnalysis
import TandemEngine

/// The cost model's finite-run DP against the engine itself: in oracle mode, the DP with unit
/// costs predicts the expected number of rounds (primary passes) and of drafted tokens of a run;
/// the engine's counts, averaged over many seeds, must match within 4 standard errors (both
/// drafters), and standalone tandem's deterministic counts exactly.
@Suite struct CostModelEngineTests {
    static func unitCosts(rounds: Bool) -> RoundCosts {
        RoundCosts(primary: { _ in rounds ? 1 : 0 }, secondaryStep: rounds ? 0 : 1, secondaryFirstStep: rounds ? 0 : 1,
                   projection: { _ in 0 }, roundOverhead: 0, baselineOverhead: 0)
    }

    @Test(arguments: [false, true])
    func roundsAndDraftsMatchTheDynamicProgram(tandem: Bool) throws {
        let fixture = try DecodingFixture()
        let alphas = [0.9, 0.6, 0.8], gamma = 4, maxTokens = 31, seeds = 300
        var rounds: [Double] = [], drafted: [Double] = []
        for seed in 0..<seeds {
            var decoding = fixture.speculative(tandem: tandem, policy: FixedPolicy(gamma: gamma),
                                               rule: OracleAcceptance(alphas: alphas, parameters: .greedy,
                                                                      seed: UInt64(seed) &+ 1000,
                                                                      sampling: .independent),
                                               seed: UInt64(seed))
            _ = decoding.generate(prompt: [1, 2, 3], maxTokens: maxTokens)
            rounds.append(Double(decoding.telemetry.rounds))
            drafted.append(Double(decoding.telemetry.drafted))
        }
        let decodeTokens = maxTokens - 1
        for (name, values, unit) in [("rounds", rounds, true), ("drafted", drafted, false)] {
            let expected = SpeedupModel.speculativeTimePerToken(costs: Self.unitCosts(rounds: unit), acceptance: alphas,
                                                                gamma: gamma, decodeTokens: decodeTokens)
                * Double(decodeTokens)
            let summary = Statistics.summarize(values)
            let standardError = summary.standardDeviation / Double(values.count).squareRoot()
            let message = "\(tandem ? "tandem" : "plain") \(name): engine \(summary.mean) +- \(standardError), "
                + "DP \(expected)"
            #expect(abs(summary.mean - expected) <= 4 * standardError, "\(message)")
        }
    }

    @Test(arguments: [1, 3, 5])
    func standaloneTandemCountsExactly(gamma: Int) throws {
        let fixture = try DecodingFixture()
        let maxTokens = 29
        var decoding = StandaloneTandemDecoding(primary: fixture.primary, tandem: fixture.tandem, gamma: gamma,
                                                parameters: .greedy, seed: 1, contextCapacity: 64)
        _ = decoding.generate(prompt: [1, 2, 3], maxTokens: maxTokens)
        let decodeTokens = maxTokens - 1
        let drafted = SpeedupModel.standaloneTimePerToken(costs: Self.unitCosts(rounds: false), gamma: gamma,
                                                          decodeTokens: decodeTokens) * Double(decodeTokens)
        let blocks = SpeedupModel.standaloneTimePerToken(costs: Self.unitCosts(rounds: true), gamma: gamma,
                                                         decodeTokens: decodeTokens) * Double(decodeTokens)
        #expect(abs(Double(decoding.telemetry.drafted) - drafted) < 1e-9, "drafted")
        #expect(abs(Double(decoding.telemetry.drafted) + blocks - Double(decodeTokens)) < 1e-9,
                "every decode token is a draft or a primary block's token")
    }
}
