import Foundation
import Testing
import TandemEngine
import TandemTraining

/// Training runs on a small synthetic text: the loss falls, an interrupted run resumed from its
/// checkpoint ends bit-identical to an uninterrupted one, and NaN stops the run cleanly.
@Suite struct TrainerTests {
    let config = ModelConfig(vocabularySize: 256, width: 16, layerCount: 2, headCount: 2, keyValueHeadCount: 1,
                             feedForwardWidth: 24, maxContext: 32)
    let secondary = ModelConfig(vocabularySize: 256, width: 8, layerCount: 1, headCount: 2, keyValueHeadCount: 2,
                                feedForwardWidth: 16, maxContext: 32)

    func corpus(in directory: String) throws -> ByteCorpus {
        let line = "the quick brown fox jumps over the lazy dog; a tandem of two models decodes text.\n"
        let path = directory + "/text.txt"
        try String(repeating: line, count: 40).write(toFile: path, atomically: true, encoding: .utf8)
        return try ByteCorpus(path: path)
    }

    func plan(steps: Int) -> TrainingPlan {
        var plan = TrainingPlan(steps: steps, batchSize: 4, sequenceLength: 16)
        plan.optimizer.learningRate = 1e-2
        plan.optimizer.warmupSteps = 5
        plan.checkpointEvery = 10
        plan.seed = 7
        return plan
    }

    @Test func lossFalls() throws {
        try withTemporaryDirectory { directory in
            let trainer = try Trainer(blueprint: try TrainingBlueprint(config: config), plan: plan(steps: 60),
                                      corpus: try corpus(in: directory), teacher: nil,
                                      outputPath: directory + "/model.safetensors")
            var losses: [Double] = []
            _ = try trainer.run(resume: false, logEvery: 1) { losses.append($0.crossEntropy) }
            let first = losses.prefix(5).reduce(0, +) / 5, last = losses.suffix(5).reduce(0, +) / 5
            // ln 256 = 5.55 at the start; the repeated line is easy to learn.
            #expect(first > 4.5 && last < first - 2, "cross-entropy from \(first) to \(last)")
            let loaded = try ModelWeights.load(path: directory + "/model.safetensors")
            #expect(loaded.config == config)
        }
    }

    /// Stopped after step 23 (state saved there), resumed to 40: the final checkpoint's bytes
    /// equal an uninterrupted run's, for a plain decoder and a distilled tandem secondary.
    @Test(arguments: [false, true])
    func resumeIsBitIdentical(tandem: Bool) throws {
        try withTemporaryDirectory { directory in
            let text = try corpus(in: directory)
            var teacher: ModelWeights? = nil
            var blueprint = try TrainingBlueprint(config: config)
            var plan = plan(steps: 40)
            if tandem {
                let primary = try ModelWeights(config: config)
                blueprint.initialize(primary.storage, seed: 3)
                teacher = primary
                blueprint = try TrainingBlueprint(config: secondary, tandem: TandemAttachment(
                    layerMap: .output, secondary: secondary, primary: config))
                plan.objective = .distillation
                plan.crossEntropySteps = 15
            }
            let whole = directory + "/whole.safetensors", split = directory + "/split.safetensors"
            _ = try Trainer(blueprint: blueprint, plan: plan, corpus: text, teacher: teacher, outputPath: whole)
                .run(resume: false) { _ in }
            var steps = 0
            let first = try Trainer(blueprint: blueprint, plan: plan, corpus: text, teacher: teacher, outputPath: split)
                .run(resume: false, shouldStop: { steps += 1; return steps == 23 }) { _ in }
            #expect(first.interrupted && first.steps == 23)
            let second = try Trainer(blueprint: blueprint, plan: plan, corpus: text, teacher: teacher,
                                     outputPath: split)
                .run(resume: true) { _ in }
            #expect(second.resumedFrom == 23 && !second.interrupted)
            let a = try Data(contentsOf: URL(fileURLWithPath: whole)),
                b = try Data(contentsOf: URL(fileURLWithPath: split))
            #expect(a == b, "resumed checkpoint differs from the uninterrupted one (\(a.count) vs \(b.count) bytes)")
        }
    }

    @Test func nonFiniteLossStopsWithAClearMessage() throws {
        try withTemporaryDirectory { directory in
            var plan = plan(steps: 30)
            plan.optimizer.learningRate = 1e30 // diverges within a few steps
            plan.optimizer.warmupSteps = 1
            plan.optimizer.clipNorm = 0
            plan.checkpointEvery = 1
            let trainer = try Trainer(blueprint: try TrainingBlueprint(config: config), plan: plan,
                                      corpus: try corpus(in: directory), teacher: nil,
                                      outputPath: directory + "/model.safetensors")
            do {
                _ = try trainer.run(resume: false) { _ in }
                Issue.record("expected the run to stop on a non-finite loss")
            } catch let error as TrainingError {
                #expect("\(error)".contains("not finite") && "\(error)".contains("last good checkpoint"), "\(error)")
                _ = try ModelWeights.load(path: directory + "/model.safetensors") // still readable
            }
        }
    }
}

/// The seeded initial parameters a trainer starts from.
func initialParameters(_ blueprint: TrainingBlueprint) throws -> Buffer<Float> {
    let parameters = Buffer<Float>(blueprint.count)
    blueprint.initialize(parameters.pointer, seed: 1)
    return parameters
}

func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-training-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// With trained (not random) models, greedy SPEED still reproduces the primary's own greedy
/// output token for token, with both drafters, and the trained tandem drafter is accepted far
/// more often than the same secondary untrained (its acceptance comes from what it learned).
@Suite struct TrainedDecodingTests {
    @Test func greedySpeculativeOutputEqualsThePrimary() throws {
        try withTemporaryDirectory { directory in
            let primaryConfig = ModelConfig(vocabularySize: 256, width: 32, layerCount: 2, headCount: 2,
                                            keyValueHeadCount: 2, feedForwardWidth: 48, maxContext: 256)
            let secondaryConfig = ModelConfig(vocabularySize: 256, width: 16, layerCount: 1, headCount: 2,
                                              keyValueHeadCount: 2, feedForwardWidth: 24, maxContext: 256)
            let line = "to be or not to be, that is the question; whether tis nobler in the mind to suffer.\n"
            let path = directory + "/text.txt"
            try String(repeating: line, count: 40).write(toFile: path, atomically: true, encoding: .utf8)
            let corpus = try ByteCorpus(path: path)
            var plan = TrainingPlan(steps: 150, batchSize: 8, sequenceLength: 32)
            plan.optimizer.learningRate = 1e-2
            plan.optimizer.warmupSteps = 10
            plan.checkpointEvery = 150
            let primaryPath = directory + "/primary.safetensors"
            _ = try Trainer(blueprint: try TrainingBlueprint(config: primaryConfig), plan: plan, corpus: corpus,
                            teacher: nil, outputPath: primaryPath).run(resume: false) { _ in }
            let primaryWeights = try ModelWeights.load(path: primaryPath)
            let tandemBlueprint = try TrainingBlueprint(config: secondaryConfig, tandem: TandemAttachment(
                layerMap: .output, secondary: secondaryConfig, primary: primaryConfig))
            let secondaryPath = directory + "/secondary.safetensors"
            _ = try Trainer(blueprint: tandemBlueprint, plan: plan, corpus: corpus, teacher: primaryWeights,
                            outputPath: secondaryPath).run(resume: false) { _ in }
            let checkpoint = try SecondaryCheckpoint.load(path: secondaryPath, primary: primaryConfig)
            let primary = Transformer(weights: primaryWeights, backend: .packed)
            let secondary = Transformer(weights: checkpoint.weights, backend: .packed)
            let tandem = TandemSecondary(model: secondary, projections: checkpoint.projections!, layerMap: .output,
                                         primaryConfig: primaryConfig)
            let initial = try initialParameters(tandemBlueprint)
            let untrained = try withExtendedLifetime(initial) { try tandemBlueprint.checkpoint(initial.pointer) }
            let untrainedTandem = TandemSecondary(model: Transformer(weights: untrained.weights, backend: .packed),
                                                  projections: untrained.projections!, layerMap: .output,
                                                  primaryConfig: primaryConfig)
            let prompt = Array("whether tis nobler".utf8).map(Int.init)
            var baseline = AutoregressiveDecoding(name: "primary", model: primary, parameters: .greedy, seed: 0)
            let expected = baseline.generate(prompt: prompt, maxTokens: 80)
            var rates: [String: Double] = [:]
            for (name, useTandem) in [("plain", false), ("tandem", true), ("untrained", true)] {
                let drafter: Drafter = !useTandem
                    ? PlainDrafter(model: secondary, contextCapacity: 256, maxTokens: 8)
                    : TandemDrafter(tandem: name == "untrained" ? untrainedTandem : tandem, contextCapacity: 256,
                                    maxTokens: 8)
                var speculative = SpeculativeDecoding(primary: primary, drafter: drafter, policy: FixedPolicy(gamma: 4),
                                                      rule: GreedyAcceptance(), parameters: .greedy, seed: 1)
                let output = speculative.generate(prompt: prompt, maxTokens: 80)
                let firstDifference = zip(output, expected).enumerated().first { $1.0 != $1.1 }?.offset ?? -1
                #expect(output == expected, "\(name) drafter: first difference at \(firstDifference)")
                rates[name] = Double(speculative.telemetry.accepted) / Double(max(speculative.telemetry.drafted, 1))
            }
            #expect(rates["tandem"]! > rates["untrained"]! + 0.2, "acceptance trained vs untrained: \(rates)")
        }
    }
}
