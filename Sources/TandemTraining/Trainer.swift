import Foundation
import TandemEngine

/// What a training run minimises.
public enum TrainingObjective: String, CaseIterable, Sendable, Codable {
    /// Cross-entropy on the next token (the primary; Gecko; Tandem-CE).
    case crossEntropy = "ce"
    /// Two stages: cross-entropy for `crossEntropySteps`, then 0.5 CE + 0.5 CE against the
    /// primary's soft targets (Gecko-Distil; Tandem-Distil).
    case distillation = "distil"
}

/// One training run's settings (everything that determines its result, and so its fingerprint).
public struct TrainingPlan: Sendable {
    public var steps: Int
    public var batchSize: Int
    public var sequenceLength: Int
    public var optimizer = OptimizerSettings()
    public var objective: TrainingObjective = .crossEntropy
    /// Distillation's stage 1 length.
    public var crossEntropySteps: Int = 0
    /// gamma_train: consecutive positions whose keys are the tandem secondary's own.
    public var ownBlock: Int = 2
    public var checkpointEvery: Int = 100
    public var seed: UInt64 = 1

    public init(steps: Int, batchSize: Int, sequenceLength: Int) {
        self.steps = steps
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
    }

    func weights(step: Int) -> LossWeights {
        objective == .distillation && step >= crossEntropySteps ? .distillation : .crossEntropy
    }

    /// FNV-1a over everything that determines the run, the corpus bytes and the teacher's weights.
    func fingerprint(_ blueprint: TrainingBlueprint, corpus: ByteCorpus, teacher: ModelWeights?) -> String {
        let o = optimizer
        let text = "\(blueprint.config.metadata.sorted { $0.key < $1.key })|\(String(describing: blueprint.tandem))|"
            + "\(steps)|\(batchSize)|\(sequenceLength)|\(o.learningRate)|\(o.finalRatio)|\(o.warmupSteps)|"
            + "\(o.weightDecay)|\(o.beta1)|\(o.beta2)|\(o.epsilon)|\(o.clipNorm)|\(objective)|\(crossEntropySteps)|"
            + "\(ownBlock)|\(seed)|\(corpus.tokens.count)"
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ value: UInt64) { hash = (hash ^ value) &* 0x0000_0100_0000_01B3 }
        for byte in text.utf8 { mix(UInt64(byte)) }
        for byte in corpus.tokens { mix(UInt64(byte)) }
        if let teacher { for i in 0..<teacher.parameterCount { mix(UInt64(teacher.storage[i].bitPattern)) } }
        return String(format: "%016llx", hash)
    }
}

/// A report after each logged step.
public struct TrainingProgress: Sendable {
    public var step: Int, steps: Int
    public var objective: Double, crossEntropy: Double
    public var learningRate: Double, gradientNorm: Double
    public var tokensPerSecond: Double, gigaflopsPerSecond: Double
    public var secondsLeft: Double
}

/// The outcome of a run.
public struct TrainingSummary: Sendable {
    public var steps: Int
    public var resumedFrom: Int
    public var finalCrossEntropy: Double
    public var seconds: Double
    public var tokensPerSecond: Double
    public var gigaflopsPerSecond: Double
    /// Stopped early at `steps` by `shouldStop`, with the state saved for `resume`.
    public var interrupted: Bool
}

public enum TrainingError: Error, CustomStringConvertible {
    case nonFinite(step: Int, what: String, checkpoint: String?)
    public var description: String {
        switch self {
        case let .nonFinite(step, what, checkpoint):
            let kept = checkpoint.map { "the last good checkpoint is kept at \($0)" } ?? "no checkpoint was written yet"
            return "training stopped at step \(step): \(what) is not finite (NaN or Inf); \(kept). "
                + "Lower the learning rate or raise the warm-up."
        }
    }
}

/// Trains one model: a primary from scratch, or a secondary (plain or tandem) beside a frozen
/// primary `teacher` that supplies the tandem features and the distillation targets.
public final class Trainer {
    public let blueprint: TrainingBlueprint
    public let plan: TrainingPlan
    let corpus: ByteCorpus
    let teacher: ModelWeights?
    /// The engine checkpoint written periodically and at the end; the resumable state goes
    /// beside it (`statePath`).
    public let outputPath: String
    public var statePath: String { Trainer.statePath(for: outputPath) }
    /// Whether the frozen primary runs beside the model (tandem features or soft targets).
    var needsTeacher: Bool { blueprint.tandem != nil || plan.objective == .distillation }

    public static func statePath(for output: String) -> String {
        (output.hasSuffix(".safetensors") ? String(output.dropLast(12)) : output) + ".state.safetensors"
    }

    public init(blueprint: TrainingBlueprint, plan: TrainingPlan, corpus: ByteCorpus, teacher: ModelWeights?,
                outputPath: String) throws {
        precondition(plan.steps >= 1 && plan.batchSize >= 1 && plan.sequenceLength >= 2 && plan.ownBlock >= 1)
        if blueprint.tandem != nil || plan.objective == .distillation { // needsTeacher
            guard let teacher else { throw CorpusError(path: outputPath, message: "this secondary needs its primary") }
            guard teacher.config.vocabularySize == blueprint.config.vocabularySize else {
                throw CheckpointError(path: outputPath, message: "the secondary's vocabulary "
                    + "(\(blueprint.config.vocabularySize)) differs from the primary's "
                    + "(\(teacher.config.vocabularySize))")
            }
        }
        guard corpus.tokens.count > plan.sequenceLength + 1 else {
            throw CorpusError(path: corpus.path, message: "\(corpus.tokens.count) bytes, shorter than one training "
                              + "window of \(plan.sequenceLength + 1)")
        }
        if let bad = corpus.tokens.first(where: { Int($0) >= blueprint.config.vocabularySize }) {
            throw CorpusError(path: corpus.path, message: "byte \(bad) outside the model's vocabulary of "
                              + "\(blueprint.config.vocabularySize)")
        }
        self.blueprint = blueprint
        self.plan = plan
        self.corpus = corpus
        self.teacher = teacher
        self.outputPath = outputPath
    }

    /// Runs (or, with `resume` and a state file from the same plan, continues) the training.
    /// `report` is called every `logEvery` steps and at the end. When `shouldStop` turns true
    /// (checked after every step, e.g. on SIGINT) the state is saved and the run returns early.
    public func run(resume: Bool, logEvery: Int = 10, shouldStop: () -> Bool = { false },
                    report: (TrainingProgress) -> Void) throws -> TrainingSummary {
        let c = blueprint.config, B = plan.batchSize, T = plan.sequenceLength
        let parameters = Buffer<Float>(blueprint.count), gradients = Buffer<Float>(blueprint.count)
        let optimizer = AdamW(blueprint: blueprint, settings: plan.optimizer)
        let fingerprint = plan.fingerprint(blueprint, corpus: corpus, teacher: needsTeacher ? teacher : nil)
        var start = 0
        if resume && FileManager.default.fileExists(atPath: statePath) {
            start = try TrainingState.load(path: statePath, parameters: parameters, optimizer: optimizer,
                                           fingerprint: fingerprint)
        } else {
            blueprint.initialize(parameters.pointer, seed: plan.seed)
        }
        let pass = TrainingPass<Float>(blueprint: blueprint, batch: B, length: T, ownBlock: plan.ownBlock)
        let teacherBlueprint = try teacher.map { try TrainingBlueprint(config: $0.config) }
        let teacherPass = needsTeacher
            ? teacherBlueprint.map { TrainingPass<Float>(blueprint: $0, batch: B, length: T) } : nil
        let features = blueprint.tandem.map { TandemFeatures<Float>(attachment: $0, rows: B * T) }
        let softTargets = plan.objective == .distillation ? Buffer<Float>(B * T * c.vocabularySize) : nil
        let flopsPerStep = 3 * pass.forwardFlops + (teacherPass?.forwardFlops ?? 0)
        var lastCheckpoint: String? = FileManager.default.fileExists(atPath: statePath) && start > 0 ? statePath : nil
        var lastCrossEntropy = Double.nan
        let began = Date()
        var windowStart = Date(), windowSteps = 0, end = plan.steps
        for step in start..<plan.steps {
            let (inputs, targets) = corpus.batch(step: step, seed: plan.seed, batch: B, length: T)
            if let teacher, let teacherPass {
                teacherPass.forward(teacher.storage, tokens: inputs)
                features?.gather(from: teacherPass)
                if let softTargets {
                    LossOps.softmax(teacherPass.logits.pointer, rows: B * T, vocabulary: c.vocabularySize,
                                    into: softTargets.pointer)
                }
            }
            pass.forward(parameters.pointer, tokens: inputs, features: features?.pointers ?? [])
            let totals = LossOps.forwardBackward(pass.logits.pointer, rows: B * T, vocabulary: c.vocabularySize,
                                                 targets: targets,
                                                 softTargets: softTargets.map { UnsafePointer($0.pointer) },
                                                 weights: plan.weights(step: step), dLogits: pass.dLogits.pointer)
            guard totals.objective.isFinite else {
                throw TrainingError.nonFinite(step: step, what: "the loss", checkpoint: lastCheckpoint)
            }
            gradients.zero()
            pass.backward(parameters.pointer, gradients: gradients.pointer)
            let gradientNorm = AdamW.norm(gradients)
            guard gradientNorm.isFinite else {
                throw TrainingError.nonFinite(step: step, what: "the gradient norm", checkpoint: lastCheckpoint)
            }
            let rate = plan.optimizer.learningRate(step: step, totalSteps: plan.steps)
            optimizer.update(parameters, gradients: gradients, gradientNorm: gradientNorm, step: step, rate: rate)
            lastCrossEntropy = totals.meanCrossEntropy
            windowSteps += 1
            let done = step + 1
            let stopping = done < plan.steps && shouldStop()
            if done % plan.checkpointEvery == 0 || done == plan.steps || stopping {
                try blueprint.checkpoint(parameters.pointer).save(to: outputPath)
                try TrainingState.save(path: statePath, parameters: parameters, optimizer: optimizer, step: done,
                                       fingerprint: fingerprint, config: c)
                lastCheckpoint = statePath
            }
            if done % logEvery == 0 || done == plan.steps {
                let elapsed = Date().timeIntervalSince(windowStart)
                let stepsPerSecond = Double(windowSteps) / max(elapsed, 1e-9)
                report(TrainingProgress(step: done, steps: plan.steps, objective: totals.objective,
                                        crossEntropy: totals.meanCrossEntropy, learningRate: rate,
                                        gradientNorm: gradientNorm, tokensPerSecond: stepsPerSecond * Double(B * T),
                                        gigaflopsPerSecond: stepsPerSecond * flopsPerStep / 1e9,
                                        secondsLeft: Double(plan.steps - done) / stepsPerSecond))
                windowStart = Date()
                windowSteps = 0
            }
            if stopping { end = done; break }
        }
        let seconds = Date().timeIntervalSince(began), ran = Double(max(end - start, 0))
        return TrainingSummary(steps: end, resumedFrom: start, finalCrossEntropy: lastCrossEntropy,
                               seconds: seconds, tokensPerSecond: ran * Double(B * T) / max(seconds, 1e-9),
                               gigaflopsPerSecond: ran * flopsPerStep / max(seconds, 1e-9) / 1e9,
                               interrupted: end < plan.steps)
    }
}
