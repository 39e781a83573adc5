import Testing
import TandemEngine
import TandemTraining

/// The training pass computes what the inference engine computes: a plain decoder's logits
/// equal the engine's block forward, and a tandem secondary's logits at position t (own keys
/// from the start of t's block, projected primary keys before it) equal the engine's tandem
/// secondary after the primary processed the positions before the block. Float32 both sides,
/// tolerance 2e-4 absolute on logits of order 1 (seeded unit-scale weights).
@Suite struct EngineAgreementTests {
    let primaryConfig = ModelConfig(vocabularySize: 23, width: 32, layerCount: 4, headCount: 4, keyValueHeadCount: 2,
                                    feedForwardWidth: 40, maxContext: 64)
    let secondaryConfig = ModelConfig(vocabularySize: 23, width: 16, layerCount: 2, headCount: 2, keyValueHeadCount: 1,
                                      feedForwardWidth: 24, maxContext: 64)

    @Test func plainLogitsEqualTheEngine() throws {
        let blueprint = try TrainingBlueprint(config: primaryConfig)
        let weights = try ModelWeights.random(config: primaryConfig, seed: 1) // unit-scale activations and logits
        let tokens: [Int32] = (0..<12).map { Int32(($0 * 7 + 3) % 23) }
        let pass = TrainingPass<Float>(blueprint: blueprint, batch: 1, length: tokens.count)
        pass.forward(weights.storage, tokens: tokens)
        let engine = Transformer(weights: weights, backend: .packed)
        let cache = engine.makeCache(capacity: 64), state = engine.makeState(maxTokens: 16, contextCapacity: 64)
        engine.forward(tokens.map(Int.init), cache: cache, state: state)
        var worst: Float = 0
        for row in 0..<tokens.count {
            let logits = state.logits(row)
            for v in 0..<primaryConfig.vocabularySize { worst = max(worst, abs(logits[v] - pass.logits[row * 23 + v])) }
        }
        #expect(worst <= 2e-4, "worst |training - engine| logit difference \(worst)")
    }

    /// `tandem eval` through the engine (the path of quantized weights) scores the same chunks
    /// and positions as through the training pass: equal token counts and accuracy, cross-entropy
    /// within 1e-5 relative (float32 both sides).
    @Test func engineEvaluationEqualsTrainingEvaluation() throws {
        let weights = try ModelWeights.random(config: primaryConfig, seed: 4)
        var generator = SeededGenerator(seed: 5)
        let tokens = (0..<200).map { _ in Int32(generator.next() % 23) }
        let trained = Evaluator.evaluate(try TrainedModel(weights: weights), primary: nil, tokens: tokens, context: 32)
        let engine = Evaluator.evaluate(engine: Transformer(weights: weights, backend: .packed), tokens: tokens,
                                        context: 32)
        #expect(engine.tokens == trained.tokens && engine.tokens == 6 * 16)
        #expect(engine.correct == trained.correct)
        let difference = abs(engine.crossEntropy - trained.crossEntropy) / trained.crossEntropy
        #expect(difference <= 1e-5, "cross-entropy \(engine.crossEntropy) (engine) vs \(trained.crossEntropy)")
    }

    @Test(arguments: TandemLayerMap.allCases)
    func tandemLogitsEqualTheEngine(layerMap: TandemLayerMap) throws {
        let attachment = TandemAttachment(layerMap: layerMap, secondary: secondaryConfig, primary: primaryConfig)
        let primaryBlueprint = try TrainingBlueprint(config: primaryConfig)
        let blueprint = try TrainingBlueprint(config: secondaryConfig, tandem: attachment)
        let primaryWeights = try ModelWeights.random(config: primaryConfig, seed: 2)
        let weights = try ModelWeights.random(config: secondaryConfig, seed: 3)
        let projections = ProjectionWeights(secondary: secondaryConfig, primary: primaryConfig, layerMap: layerMap)
        projections.randomize(seed: 4)
        // One allocation as the blueprint lays it out: the model's table, then the projections.
        let parameters = Buffer<Float>(blueprint.count)
        parameters.pointer.update(from: weights.storage, count: blueprint.modelCount)
        (parameters.pointer + blueprint.modelCount).update(from: projections.storage, count: projections.count)
        let length = 11, ownBlock = 3
        let tokens: [Int32] = (0..<length).map { Int32(($0 * 5 + 1) % 23) }
        let primaryPass = TrainingPass<Float>(blueprint: primaryBlueprint, batch: 1, length: length)
        primaryPass.forward(primaryWeights.storage, tokens: tokens)
        let features = TandemFeatures<Float>(attachment: attachment, rows: length)
        features.gather(from: primaryPass)
        let pass = TrainingPass<Float>(blueprint: blueprint, batch: 1, length: length, ownBlock: ownBlock)
        pass.forward(parameters.pointer, tokens: tokens, features: features.pointers)

        let primary = Transformer(weights: primaryWeights, backend: .packed)
        let tandem = TandemSecondary(model: Transformer(weights: weights, backend: .packed), projections: projections,
                                     layerMap: layerMap, primaryConfig: primaryConfig)
        var worst: Float = 0, largest: Float = 0
        for blockStart in stride(from: 0, to: length, by: ownBlock) {
            let primaryState = primary.makeState(maxTokens: 16, contextCapacity: 64)
            tandem.requestCaptures(primaryState)
            let cache = tandem.model.makeCache(capacity: 64)
            if blockStart > 0 {
                primary.forward(tokens[0..<blockStart].map(Int.init), cache: primary.makeCache(capacity: 64),
                                state: primaryState)
                tandem.writeProjectedEntries(from: primaryState, rows: 0..<blockStart, at: 0, cache: cache)
            }
            let end = min(blockStart + ownBlock, length)
            let state = tandem.model.makeState(maxTokens: 16, contextCapacity: 64)
            tandem.model.forward(tokens[blockStart..<end].map(Int.init), cache: cache, state: state)
            for row in 0..<(end - blockStart) {
                let logits = state.logits(row)
                for v in 0..<23 {
                    worst = max(worst, abs(logits[v] - pass.logits[(blockStart + row) * 23 + v]))
                    largest = max(largest, abs(logits[v]))
                }
            }
        }
        #expect(largest > 0.5, "logits too small (\(largest)) for the comparison to mean anything")
        #expect(worst <= 2e-4, "\(layerMap): worst |training - engine| logit difference \(worst)")
    }
}
