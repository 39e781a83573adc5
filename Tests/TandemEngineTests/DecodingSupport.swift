import TandemEngine

/// Tiny models for decoding tests: a primary, a noisy copy of it (a plain drafter that agrees
/// often but not always) and a tandem secondary with random projections.
struct DecodingFixture {
    let primaryConfig = ModelConfig(vocabularySize: 12, width: 32, layerCount: 3, headCount: 4,
                                    keyValueHeadCount: 2, feedForwardWidth: 48, maxContext: 2048)
    let secondaryConfig = ModelConfig(vocabularySize: 12, width: 16, layerCount: 2, headCount: 2,
                                      keyValueHeadCount: 1, feedForwardWidth: 24, maxContext: 2048)
    let primary: Transformer
    let noisyCopy: Transformer
    let secondary: Transformer
    let tandem: TandemSecondary
    let router: Router       // for the tandem secondary (width 16)
    let copyRouter: Router   // for the noisy copy of the primary (width 32)

    init(seed: UInt64 = 1, layerMap: TandemLayerMap = .output, vocabularySize: Int = 12) throws {
        var primaryConfig = self.primaryConfig, secondaryConfig = self.secondaryConfig
        primaryConfig.vocabularySize = vocabularySize
        secondaryConfig.vocabularySize = vocabularySize
        let weights = try ModelWeights.random(config: primaryConfig, seed: seed)
        primary = Transformer(weights: weights, backend: .packed)
        let noisy = try ModelWeights.random(config: primaryConfig, seed: seed)
        var generator = SeededGenerator(seed: seed + 100)
        for i in 0..<noisy.parameterCount { noisy.storage[i] += 0.3 * (generator.nextUnitFloat() - 0.5) }
        noisyCopy = Transformer(weights: noisy, backend: .packed)
        secondary = Transformer(weights: try ModelWeights.random(config: secondaryConfig, seed: seed + 7),
                                backend: .packed)
        let projections = ProjectionWeights(secondary: secondaryConfig, primary: primaryConfig, layerMap: layerMap)
        projections.randomize(seed: seed + 9)
        tandem = TandemSecondary(model: secondary, projections: projections, layerMap: layerMap,
                                 primaryConfig: primaryConfig)
        router = Router.random(topK: 3, hiddenWidth: 8, embeddingWidth: secondaryConfig.width, seed: seed + 11,
                               outputBias: 1)
        copyRouter = Router.random(topK: 3, hiddenWidth: 8, embeddingWidth: primaryConfig.width, seed: seed + 12,
                                   outputBias: 1)
    }

    func policies(gamma: Int, tandem: Bool) -> [BlockPolicy] {
        [FixedPolicy(gamma: gamma), ConfidencePolicy(minimumProbability: 0.3, gammaMax: gamma),
         HeuristicPolicy(initial: min(3, gamma), gammaMax: gamma),
         RouterPolicy(router: tandem ? router : copyRouter, threshold: 0.6, gammaMax: gamma)]
    }

    func speculative(tandem useTandem: Bool, drafter plain: Transformer? = nil, policy: BlockPolicy,
                     rule: AcceptanceRule, parameters: SamplingParameters = .greedy, seed: UInt64 = 1,
                     capacity: Int = 200) -> SpeculativeDecoding {
        let drafter: Drafter = useTandem
            ? TandemDrafter(tandem: tandem, contextCapacity: capacity, maxTokens: 64)
            : PlainDrafter(model: plain ?? noisyCopy, contextCapacity: capacity, maxTokens: 64)
        return SpeculativeDecoding(primary: primary, drafter: drafter, policy: policy, rule: rule,
                                   parameters: parameters, seed: seed)
    }

    func primaryGreedy(_ prompt: [Int], _ count: Int) -> [Int] {
        var baseline = AutoregressiveDecoding(name: "primary", model: primary, parameters: .greedy, seed: 0)
        return baseline.generate(prompt: prompt, maxTokens: count)
    }
}
