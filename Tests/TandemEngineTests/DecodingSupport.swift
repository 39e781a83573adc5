import Foundation
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

    /// `quantization` applies to the primary and its noisy copy; with it the primary's SwiGLU
    /// width is 64 so that every one of its matrices (inputs a multiple of 32) is quantized.
    init(seed: UInt64 = 1, layerMap: TandemLayerMap = .output, vocabularySize: Int = 12,
         quantization: WeightQuantization = .none) throws {
        var primaryConfig = self.primaryConfig, secondaryConfig = self.secondaryConfig
        primaryConfig.vocabularySize = vocabularySize
        secondaryConfig.vocabularySize = vocabularySize
        if case .none = quantization {} else { primaryConfig.feedForwardWidth = 64 }
        let weights = try ModelWeights.random(config: primaryConfig, seed: seed)
        primary = Transformer(weights: weights, backend: .packed, quantization: quantization)
        let noisy = try ModelWeights.random(config: primaryConfig, seed: seed)
        var generator = SeededGenerator(seed: seed + 100)
        for i in 0..<noisy.parameterCount { noisy.storage[i] += 0.3 * (generator.nextUnitFloat() - 0.5) }
        noisyCopy = Transformer(weights: noisy, backend: .packed, quantization: quantization)
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
                     capacity: Int = 200, settings: DecodingSettings? = nil) -> SpeculativeDecoding {
        let drafter: Drafter = useTandem
            ? TandemDrafter(tandem: tandem, contextCapacity: capacity, maxTokens: 64, settings: settings?.secondary)
            : PlainDrafter(model: plain ?? noisyCopy, contextCapacity: capacity, maxTokens: 64,
                           settings: settings?.secondary)
        return SpeculativeDecoding(primary: primary, drafter: drafter, policy: policy, rule: rule,
                                   parameters: parameters, seed: seed, primarySettings: settings?.primary)
    }

    func primaryGreedy(_ prompt: [Int], _ count: Int) -> [Int] {
        var baseline = AutoregressiveDecoding(name: "primary", model: primary, parameters: .greedy, seed: 0)
        return baseline.generate(prompt: prompt, maxTokens: count)
    }
}

/// Wraps a block policy and records, per round, every keep/stop decision (with `probe`'s value
/// of each candidate, e.g. its router prediction), the policy's `maxDrafts` when the round began
/// and the round's outcome, so tests can replay the rule step by step.
struct RecordingPolicy: BlockPolicy {
    struct Round {
        var maxDrafts: Int
        var decisions: [(keep: Bool, probe: Double)] = []
        var drafted = 0, accepted = 0
    }

    var inner: BlockPolicy
    let probe: (UnsafeBufferPointer<Float>, Transformer) -> Double
    private(set) var rounds: [Round] = []
    private var current: Round?

    init(_ inner: BlockPolicy, probe: @escaping (UnsafeBufferPointer<Float>, Transformer) -> Double = { _, _ in 0 }) {
        self.inner = inner
        self.probe = probe
    }

    var name: String { inner.name }
    var maxDrafts: Int { inner.maxDrafts }
    var gammaMax: Int { inner.gammaMax }

    mutating func keepsDraft(position: Int, logits: UnsafeBufferPointer<Float>, drafter: Transformer) -> Bool {
        if current == nil { current = Round(maxDrafts: inner.maxDrafts) }
        let keep = inner.keepsDraft(position: position, logits: logits, drafter: drafter)
        current!.decisions.append((keep, probe(logits, drafter)))
        return keep
    }

    mutating func update(drafted: Int, accepted: Int) {
        var round = current ?? Round(maxDrafts: inner.maxDrafts)
        round.drafted = drafted
        round.accepted = accepted
        rounds.append(round)
        current = nil
        inner.update(drafted: drafted, accepted: accepted)
    }
}

/// The largest softmax probability (T = 1) of `logits`, in Double.
func topProbability(_ logits: UnsafeBufferPointer<Float>) -> Double {
    let maximum = Double(logits.max()!)
    let exps = logits.map { exp(Double($0) - maximum) }
    return exps.max()! / exps.reduce(0, +)
}
