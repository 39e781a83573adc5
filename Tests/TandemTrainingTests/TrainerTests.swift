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
            let second = try Trainer(blueprint: blueprint, plan: plan, corpus: text, teacher: teacher, outputPath: split)
                .run(resume: true) { _ in }
            #expect(second.resumedFrom == 23 && !second.interrupted)
            let a = try Data(contentsOf: URL(fileURLWithPath: whole)), b = try Data(contentsOf: URL(fileURLWithPath: split))
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

func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-training-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}
