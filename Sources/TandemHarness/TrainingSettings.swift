import Foundation
import TandemEngine
import TandemTraining

/// A scenario's `[train]` table: the corpus and the settings every trained model shares.
public struct TrainingCorpusSettings: Sendable {
    /// UTF-8 text, one byte per token (paths resolved against the scenario's directory).
    public var text: String
    /// Held-out in-domain text (Table 1's `valid` split) and out-of-domain text (`ood`).
    public var valid: String?
    public var ood: String?
    public var batchSize: Int
    public var sequenceLength: Int
    /// gamma_train: consecutive own positions of a tandem secondary per block.
    public var gammaTrain: Int
    public var checkpointEvery: Int
    /// Evaluation: chunk length (second half scored) and the most chunks per split.
    public var evalContext: Int
    public var evalChunks: Int
    /// Where trained checkpoints go (git-ignored): checkpoints/<scenario> by default.
    public var checkpointsDirectory: String
    /// Router training per secondary: optimizer steps (0: no router), and how many training
    /// batches supply its labelled positions.
    public var routerSteps: Int
    public var routerBatches: Int
    /// Thresholds at which the trained router is judged on held-out text (router.csv).
    public var routerTaus: [Double]
    /// OpenBLAS threads while training and evaluating.
    public var threads: Int
}

/// A model's `train` table: how this model is trained.
public struct ModelTrainingSettings: Sendable {
    public var steps: Int
    public var learningRate: Double
    public var warmupSteps: Int
    public var weightDecay: Double
    public var objective: TrainingObjective
    /// Distillation's stage 1 (CE only) length; default half the steps.
    public var crossEntropySteps: Int
    public var seed: UInt64
}

extension Scenario {
    static func readTrainingCorpus(_ reader: TOMLReader, name: String,
                                   directory: String) throws -> TrainingCorpusSettings {
        func resolve(_ path: String) -> String { path.hasPrefix("/") ? path : directory + "/" + path }
        guard let text = try reader.string("text") else { throw reader.fail("text", "missing: the training text file") }
        let settings = TrainingCorpusSettings(
            text: resolve(text), valid: try reader.string("valid").map(resolve),
            ood: try reader.string("ood").map(resolve),
            batchSize: try reader.integer("batch_size", range: 1...4096) ?? 16,
            sequenceLength: try reader.integer("sequence_length", range: 2...65_536) ?? 128,
            gammaTrain: try reader.integer("gamma_train", range: 1...64) ?? 2,
            checkpointEvery: try reader.integer("checkpoint_every", range: 1...1_000_000) ?? 100,
            evalContext: try reader.integer("eval_context", range: 2...65_536) ?? 128,
            evalChunks: try reader.integer("eval_chunks", range: 1...1_000_000) ?? 200,
            checkpointsDirectory: try reader.string("checkpoints").map(resolve) ?? "checkpoints/\(name)",
            routerSteps: try reader.integer("router_steps", range: 0...1_000_000) ?? 0,
            routerBatches: try reader.integer("router_batches", range: 1...100_000) ?? 8,
            routerTaus: try reader.numbers("router_taus", range: 0...1) ?? [0.5, 0.6, 0.7, 0.8, 0.9],
            threads: try reader.integer("threads", range: 1...256) ?? 2)
        try reader.finish()
        return settings
    }

    static func readModelTraining(_ reader: TOMLReader, isPrimary: Bool) throws -> ModelTrainingSettings {
        guard let steps = try reader.integer("steps", range: 1...10_000_000) else {
            throw reader.fail("steps", "missing (a positive integer)")
        }
        let objective = try reader.choice("objective", TrainingObjective.self) ?? .crossEntropy
        if isPrimary && objective != .crossEntropy {
            throw reader.fail("objective", "the primary is trained from scratch by cross-entropy (\"ce\")")
        }
        let settings = ModelTrainingSettings(
            steps: steps, learningRate: try reader.number("learning_rate", range: 1e-8...10) ?? 3e-3,
            warmupSteps: try reader.integer("warmup_steps", range: 0...10_000_000) ?? min(100, steps / 10),
            weightDecay: try reader.number("weight_decay", range: 0...10) ?? 0.1, objective: objective,
            crossEntropySteps: try reader.integer("ce_steps", range: 0...steps) ?? steps / 2,
            seed: UInt64(try reader.integer("seed", range: 0...Int.max) ?? 1))
        try reader.finish()
        return settings
    }
}
