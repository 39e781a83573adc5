import Testing
import TandemEngine
import TandemHarness

/// The adaptive-policy prediction prices the secondary steps a policy's rounds cost. Reference:
/// the engine's own count of the secondary's forward passes while drafting (its lm-head calls in
/// the draft phase, from the per-layer timers), for policies that judge each candidate
/// (confidence, router: a refused candidate costs a step) and for the heuristic (lengths fixed
/// before drafting). Exact but for the final rounds, whose drafts the token budget clips.
@Suite struct PolicyRoundsTests {
    @Test(arguments: [PolicyKind.confidence, .heuristic, .router])
    func secondaryStepsMatchTheEngine(policy: PolicyKind) throws {
        let primaryConfig = ModelConfig(vocabularySize: 32, width: 48, layerCount: 2, headCount: 4,
                                        keyValueHeadCount: 2, feedForwardWidth: 96, maxContext: 512)
        let secondaryConfig = ModelConfig(vocabularySize: 32, width: 16, layerCount: 1, headCount: 2,
                                          keyValueHeadCount: 1, feedForwardWidth: 32, maxContext: 512)
        let primary = Transformer(weights: try ModelWeights.random(config: primaryConfig, seed: 1))
        let secondary = Transformer(weights: try ModelWeights.random(config: secondaryConfig, seed: 2))
        let gamma = 5
        // Independent oracle draws, as when the tolerance below was set. Each final round the token
        // budget clips counts one step too many here; with stratified draws the router's run at
        // this seed ends in 4 such rounds (513 modelled steps against 509).
        let plan = DecodingPlan(strategy: .speed, policy: policy, gamma: gamma, gammaMax: 8, minimumProbability: 0.12,
                                tau: 0.6, sampling: .greedy, oracleAlphas: [0.7], oracleSampling: .independent)
        let router = DecodingFactory.defaultRouter(secondaryWidth: secondaryConfig.width, seed: 4)
        let models = DecodingModelSet(primary: primary, secondary: secondary, tandem: nil, router: router)
        let profiler = LayerProfiler(models: [("primary", primaryConfig.layerCount),
                                              ("secondary", secondaryConfig.layerCount)])
        let prompt = Array(0..<12), tokens = 300
        var strategy = try DecodingFactory.strategy(plan, models: models, seed: 9,
                                                    capacity: prompt.count + tokens + plan.lookahead + 1,
                                                    settings: DecodingSettings(threads: 1, profiler: profiler))
        _ = strategy.generate(prompt: prompt, maxTokens: tokens)
        let t = strategy.telemetry
        let rounds = PolicyRounds(rounds: t.rounds, accepted: t.accepted, committed: t.generatedTokens - 1,
                                  lengths: t.draftLengthHistogram,
                                  judgedCap: PolicyRounds.judgedCap(policy, gamma: gamma))
        let engineSteps = profiler.records.filter {
            $0.model == "secondary" && $0.phase == .draft && $0.component == .lmHead
        }.first?.slot.calls ?? 0
        let modelled = t.draftLengthHistogram.enumerated().reduce(0) {
            $0 + $1.element * rounds.secondarySteps(keeping: $1.offset)
        }
        // The telemetry's in-round step timings cover every draft-phase forward pass, exactly.
        let timed = t.draftStepsByPosition.reduce(0, +)
        #expect(timed == engineSteps, "\(policy): \(timed) timed draft steps, the engine ran \(engineSteps)")
        let short = t.draftLengthHistogram.enumerated().filter { $0.offset < gamma }.map(\.element).reduce(0, +)
        let message = "\(policy): the model counts \(modelled) secondary steps, the engine ran \(engineSteps) "
            + "(rounds \(t.rounds), lengths \(t.draftLengthHistogram))"
        // Up to two final rounds are clipped by the token budget, not refused: tolerance 2.
        #expect(abs(modelled - engineSteps) <= 2, "\(message)")
        // Judging policies must refuse candidates in many rounds (else an uncounted refused step
        // would hide within the tolerance), and reach the cap in others.
        if policy != .heuristic {
            #expect(short > 10 && t.draftLengthHistogram.count == gamma + 1 && t.draftLengthHistogram[gamma] > 0,
                    "\(policy): lengths \(t.draftLengthHistogram)")
        }
    }
}
