import Testing
import TandemEngine

/// Greedy SPEED is lossless for every drafter and block policy taken separately: the output
/// equals the primary's own greedy output token for token, and each combination on its own
/// both accepts and rejects drafts (so both paths of the verification are exercised by it,
/// not only by the sum over all combinations as in `SpeculativeDecodingTests`).
@Suite struct GreedyIdentityTests {
    let prompts = [[1, 5, 7], [3], [11, 0, 4, 4, 9, 2, 6, 8], [6, 6, 6, 2]]

    func policy(_ name: String, fixture: DecodingFixture, gamma: Int, tandem: Bool) -> BlockPolicy {
        switch name {
        case "fixed": FixedPolicy(gamma: gamma)
        case "heuristic": HeuristicPolicy(initial: min(3, gamma), gammaMax: gamma)
        case "confidence": ConfidencePolicy(minimumProbability: 0.3, gammaMax: gamma)
        case "router": RouterPolicy(router: tandem ? fixture.router : fixture.copyRouter, threshold: 0.6,
                                    gammaMax: gamma)
        default: fatalError("unknown policy \(name)")
        }
    }

    /// Seeds 1 and 2 (random weights of the fixture), four prompts, gamma 2 and 6, 48 tokens
    /// each. Tandem: the fixture's tandem secondary (random projections); plain: the noisy copy
    /// of the primary.
    @Test(arguments: [false, true], ["fixed", "heuristic", "confidence", "router"])
    func greedyOutputEqualsPrimaryPerCombination(tandem: Bool, policyName: String) throws {
        var accepted = 0, rejected = 0, rounds = 0
        for seed in [UInt64(1), 2] {
            let fixture = try DecodingFixture(seed: seed)
            for gamma in [2, 6] {
                for prompt in prompts {
                    let expected = fixture.primaryGreedy(prompt, 48)
                    var strategy = fixture.speculative(tandem: tandem,
                                                       policy: policy(policyName, fixture: fixture, gamma: gamma,
                                                                      tandem: tandem),
                                                       rule: GreedyAcceptance())
                    let output = strategy.generate(prompt: prompt, maxTokens: 48)
                    let firstDifference = zip(output, expected).enumerated().first { $1.0 != $1.1 }?.offset
                    let message = "\(strategy.name) \(policyName) gamma=\(gamma) seed=\(seed) prompt=\(prompt): "
                        + "first difference at token \(firstDifference ?? -1)"
                    #expect(output == expected, "\(message)")
                    accepted += strategy.telemetry.accepted
                    rejected += strategy.telemetry.drafted - strategy.telemetry.accepted
                    rounds += strategy.telemetry.rounds
                }
            }
        }
        // This combination alone must exercise both the accept and the reject path.
        #expect(accepted > 0 && rejected > 0,
                "tandem=\(tandem) \(policyName): accepted \(accepted), rejected \(rejected) in \(rounds) rounds")
    }
}
