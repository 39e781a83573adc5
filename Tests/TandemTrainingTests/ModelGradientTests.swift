import Testing
import TandemEngine
import TandemTraining

let tinyPrimary = ModelConfig(vocabularySize: 11, width: 8, layerCount: 4, headCount: 2, keyValueHeadCount: 1,
                              feedForwardWidth: 12, maxContext: 16)
let tinySecondary = ModelConfig(vocabularySize: 11, width: 6, layerCount: 2, headCount: 3, keyValueHeadCount: 3,
                                feedForwardWidth: 10, maxContext: 16, tiedEmbeddings: true)

/// Seeded tokens [batch * (length + 1)]: inputs are the first `length` of each row, targets the
/// next ones.
func tinyBatch(batch: Int, length: Int, vocabulary: Int, seed: UInt64) -> (inputs: [Int32], targets: [Int32]) {
    var generator = SeededGenerator(seed: seed)
    var inputs: [Int32] = [], targets: [Int32] = []
    for _ in 0..<batch {
        let row = (0...length).map { _ in Int32(generator.next() % UInt64(vocabulary)) }
        inputs += row.dropLast()
        targets += row.dropFirst()
    }
    return (inputs, targets)
}

/// Whole tiny models, every parameter, against central finite differences (float64) of the
/// training objective: a plain decoder by CE, and a tandem secondary under every layer map by
/// 0.5 CE + 0.5 distillation from its primary (which stays frozen).
@Suite struct ModelGradientTests {
    @Test func plainDecoder() throws {
        let blueprint = try TrainingBlueprint(config: tinyPrimary)
        let parameters = Buffer<Double>(blueprint.count)
        blueprint.initialize(parameters.pointer, seed: 3)
        perturb(parameters, seed: 4) // norm gains != 1 and larger weights exercise every term
        let (inputs, targets) = tinyBatch(batch: 2, length: 5, vocabulary: tinyPrimary.vocabularySize, seed: 5)
        let pass = TrainingPass<Double>(blueprint: blueprint, batch: 2, length: 5)
        func loss(_ dLogits: UnsafeMutablePointer<Double>?) -> Double {
            pass.forward(parameters.pointer, tokens: inputs)
            return LossOps.forwardBackward(pass.logits.pointer, rows: pass.rows, vocabulary: tinyPrimary.vocabularySize,
                                           targets: targets, softTargets: nil, weights: .crossEntropy,
                                           dLogits: dLogits).objective
        }
        _ = loss(pass.dLogits.pointer)
        let gradients = Buffer<Double>(blueprint.count)
        pass.backward(parameters.pointer, gradients: gradients.pointer)
        let worst = worstRelativeDifference(analytic: gradients, numeric: numericGradient(parameters) { loss(nil) })
        #expect(worst.value <= gradientTolerance, "plain: worst \(worst.value) at \(name(blueprint, worst.index))")
    }

    @Test(arguments: TandemLayerMap.allCases)
    func tandemSecondary(layerMap: TandemLayerMap) throws {
        let primaryBlueprint = try TrainingBlueprint(config: tinyPrimary)
        let primaryParameters = Buffer<Double>(primaryBlueprint.count)
        primaryBlueprint.initialize(primaryParameters.pointer, seed: 6)
        perturb(primaryParameters, seed: 7)
        let attachment = TandemAttachment(layerMap: layerMap, secondary: tinySecondary, primary: tinyPrimary)
        let blueprint = try TrainingBlueprint(config: tinySecondary, tandem: attachment)
        let parameters = Buffer<Double>(blueprint.count)
        blueprint.initialize(parameters.pointer, seed: 8)
        perturb(parameters, seed: 9)
        let batch = 2, length = 6
        let (inputs, targets) = tinyBatch(batch: batch, length: length, vocabulary: 11, seed: 10)
        let primary = TrainingPass<Double>(blueprint: primaryBlueprint, batch: batch, length: length)
        primary.forward(primaryParameters.pointer, tokens: inputs)
        let soft = Buffer<Double>(primary.logits.count)
        LossOps.softmax(primary.logits.pointer, rows: primary.rows, vocabulary: 11, into: soft.pointer)
        let features = TandemFeatures<Double>(attachment: attachment, rows: primary.rows)
        features.gather(from: primary)
        let pass = TrainingPass<Double>(blueprint: blueprint, batch: batch, length: length, ownBlock: 2)
        func loss(_ dLogits: UnsafeMutablePointer<Double>?) -> Double {
            pass.forward(parameters.pointer, tokens: inputs, features: features.pointers)
            return LossOps.forwardBackward(pass.logits.pointer, rows: pass.rows, vocabulary: 11, targets: targets,
                                           softTargets: soft.pointer, weights: .distillation,
                                           dLogits: dLogits).objective
        }
        _ = loss(pass.dLogits.pointer)
        let gradients = Buffer<Double>(blueprint.count)
        pass.backward(parameters.pointer, gradients: gradients.pointer)
        let worst = worstRelativeDifference(analytic: gradients, numeric: numericGradient(parameters) { loss(nil) })
        #expect(worst.value <= gradientTolerance,
                "\(layerMap): worst \(worst.value) at \(name(blueprint, worst.index))")
        // The projections must receive gradient (the tandem path is live, not silently skipped).
        let projections = blueprint.modelCount..<blueprint.count
        #expect(projections.contains { abs(gradients[$0]) > 1e-4 }, "\(layerMap): projections got no gradient")
    }

    func perturb(_ values: Buffer<Double>, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for i in 0..<values.count { values[i] += 0.3 * (generator.nextUnitDouble() - 0.5) }
    }

    func name(_ blueprint: TrainingBlueprint, _ index: Int) -> String {
        guard let spec = blueprint.specs.first(where: { index >= $0.offset && index < $0.offset + $0.count }) else {
            return "\(index)"
        }
        return "\(spec.name)[\(index - spec.offset)]"
    }
}
