import Testing
import TandemEngine

/// A stop token ends every strategy at its first occurrence: the output is the run without a
/// stop token, cut just after that token (same seeds, so the same tokens up to there).
@Suite struct StopTokenTests {
    let prompt = [1, 5, 7]
    let maxTokens = 40

    /// The expected output: `free` up to and including the first `stop`.
    func cut(_ free: [Int], at stop: Int) -> [Int] {
        Array(free.prefix(through: free.firstIndex(of: stop)!))
    }

    /// Runs `run` without a stop token, then with each distinct token it produced as the stop
    /// (so every first-occurrence position is tried); returns how many runs stopped inside a
    /// speculative round (after accepted drafts, dropping the round's last token).
    @discardableResult
    func check(_ name: String, run: (Int?) -> ([Int], DecodingTelemetry)) -> Int {
        let (free, _) = run(nil)
        #expect(free.count == maxTokens, "\(name): \(free.count) tokens without a stop token")
        var insideRounds = 0
        for stop in Set(free).sorted() {
            let expected = cut(free, at: stop)
            let (output, telemetry) = run(stop)
            let mismatch = "\(name), stop token \(stop) (first at \(expected.count - 1)): got "
                + "\(output.count) tokens \(output), expected \(expected)"
            #expect(output == expected, "\(mismatch)")
            let counted = "\(name), stop token \(stop): telemetry counts \(telemetry.generatedTokens) tokens, "
                + "output has \(output.count)"
            #expect(telemetry.generatedTokens == output.count, "\(counted)")
            if output.count < 1 + telemetry.rounds + telemetry.accepted { insideRounds += 1 }
        }
        return insideRounds
    }

    @Test func everyStrategyStopsAtItsFirstStopToken() throws {
        let fixture = try DecodingFixture(seed: 1)
        check("primary") { stop in
            var strategy = AutoregressiveDecoding(name: "primary", model: fixture.primary, parameters: .greedy,
                                                  seed: 0)
            return (strategy.generate(prompt: prompt, maxTokens: maxTokens, stopToken: stop), strategy.telemetry)
        }
        var insideRounds = 0
        for useTandem in [false, true] {
            for policy in fixture.policies(gamma: 3, tandem: useTandem) {
                insideRounds += check("greedy \(useTandem ? "tandem-speed" : "speed") \(policy.name)") { stop in
                    var strategy = fixture.speculative(tandem: useTandem, policy: policy, rule: GreedyAcceptance())
                    return (strategy.generate(prompt: prompt, maxTokens: maxTokens, stopToken: stop),
                            strategy.telemetry)
                }
            }
            let sampling = SamplingParameters(temperature: 1)
            insideRounds += check("sampled \(useTandem ? "tandem-speed" : "speed")") { stop in
                var strategy = fixture.speculative(tandem: useTandem, policy: FixedPolicy(gamma: 4),
                                                   rule: SpeculativeSampling(parameters: sampling, seed: 3),
                                                   parameters: sampling, seed: 5)
                return (strategy.generate(prompt: prompt, maxTokens: maxTokens, stopToken: stop), strategy.telemetry)
            }
        }
        // Stops among accepted drafts (the round's own token then dropped) must have happened.
        #expect(insideRounds > 0, "no stop token fell among a round's accepted drafts")
        for gamma in [1, 3] {
            check("tandem gamma \(gamma)") { stop in
                var strategy = StandaloneTandemDecoding(primary: fixture.primary, tandem: fixture.tandem, gamma: gamma,
                                                        parameters: .greedy, seed: 1, contextCapacity: 200)
                return (strategy.generate(prompt: prompt, maxTokens: maxTokens, stopToken: stop), strategy.telemetry)
            }
        }
    }
}
