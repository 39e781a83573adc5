import TandemEngine

/// Quality of a model on a text: llama-perplexity's protocol (chunks of `context` tokens, the
/// second half of each chunk scored) plus, for a secondary, how closely it follows its primary.
public struct EvaluationResult: Sendable {
    public var tokens = 0
    public var crossEntropySum = 0.0
    public var correct = 0
    /// Secondary only: positions whose argmax equals the primary's, and the summed total
    /// variation distance 0.5 sum |p - q|.
    public var agreeing = 0
    public var tvDistanceSum = 0.0
    public var hasPrimary = false

    public var crossEntropy: Double { crossEntropySum / Double(max(tokens, 1)) }
    public var perplexity: Double { _exponential(crossEntropy) }
    public var accuracy: Double { Double(correct) / Double(max(tokens, 1)) }
    public var agreement: Double? { hasPrimary ? Double(agreeing) / Double(max(tokens, 1)) : nil }
    public var tvDistance: Double? { hasPrimary ? tvDistanceSum / Double(max(tokens, 1)) : nil }

    /// `perplexity=<v> cross_entropy=<nats/token> tokens=<n> accuracy=<a>[ agreement=<g> tv_distance=<t>]`
    public var line: String {
        var text = "perplexity=\(format(perplexity)) cross_entropy=\(format(crossEntropy)) tokens=\(tokens) "
            + "accuracy=\(format(accuracy))"
        if let agreement, let tvDistance { text += " agreement=\(format(agreement)) tv_distance=\(format(tvDistance))" }
        return text
    }

    private func format(_ x: Double) -> String { String(format: "%.4f", x) }
}

/// A model and its parameters, as evaluation and training see it.
public struct TrainedModel {
    public let blueprint: TrainingBlueprint
    public let parameters: Buffer<Float>

    public init(blueprint: TrainingBlueprint, parameters: Buffer<Float>) {
        self.blueprint = blueprint
        self.parameters = parameters
    }

    /// A plain model from engine weights.
    public init(weights: ModelWeights) throws {
        blueprint = try TrainingBlueprint(config: weights.config)
        parameters = Buffer(blueprint.count)
        parameters.pointer.update(from: weights.storage, count: blueprint.count)
    }

    /// A secondary checkpoint (plain, or tandem for `primary`).
    public init(checkpoint: SecondaryCheckpoint, primary: ModelConfig?, path: String) throws {
        let config = checkpoint.weights.config
        let attachment = try checkpoint.projections.map { _ -> TandemAttachment in
            guard let primary else {
                throw CheckpointError(path: path, message: "a tandem secondary needs its primary")
            }
            return TandemAttachment(layerMap: checkpoint.layerMap, secondary: config, primary: primary)
        }
        blueprint = try TrainingBlueprint(config: config, tandem: attachment)
        parameters = Buffer(blueprint.count)
        try blueprint.load(checkpoint, into: parameters.pointer, path: path)
    }
}

public enum Evaluator {
    /// Evaluates `model` on `tokens` in chunks of `context` (batched `batch` chunks at a time,
    /// at most `maxChunks`). With `primary`, also agreement and TV distance to it; a tandem
    /// secondary reads the primary's states with own blocks of `ownBlock` positions.
    public static func evaluate(_ model: TrainedModel, primary: TrainedModel?, tokens: [UInt8], context: Int,
                                ownBlock: Int = 2, batch: Int = 8, maxChunks: Int = .max,
                                progress: (Int, Int) -> Void = { _, _ in }) -> EvaluationResult {
        evaluate(model, primary: primary, tokens: tokens.map(Int32.init), context: context, ownBlock: ownBlock,
                 batch: batch, maxChunks: maxChunks, progress: progress)
    }

    /// The same for tokens of any vocabulary. Chunks are batched so that one batch's logits
    /// stay under about 64 MB (a single chunk for a 49k vocabulary at context 512).
    public static func evaluate(_ model: TrainedModel, primary: TrainedModel?, tokens: [Int32], context: Int,
                                ownBlock: Int = 2, batch requestedBatch: Int = 8, maxChunks: Int = .max,
                                progress: (Int, Int) -> Void = { _, _ in }) -> EvaluationResult {
        let V = model.blueprint.config.vocabularySize
        let batch = max(1, min(requestedBatch, (16 << 20) / max(context * V, 1)))
        let chunks = min((tokens.count - 1) / context, maxChunks)
        var result = EvaluationResult()
        result.hasPrimary = primary != nil
        guard chunks > 0 else { return result }
        let rowsPerBatch = min(batch, chunks)
        let pass = TrainingPass<Float>(blueprint: model.blueprint, batch: rowsPerBatch, length: context,
                                       ownBlock: ownBlock)
        let primaryPass = primary.map {
            TrainingPass<Float>(blueprint: $0.blueprint, batch: rowsPerBatch, length: context)
        }
        let features = model.blueprint.tandem.map { TandemFeatures<Float>(attachment: $0, rows: pass.rows) }
        let scratch = Buffer<Float>(2 * V)
        var done = 0
        while done < chunks {
            let n = min(rowsPerBatch, chunks - done)
            var inputs = [Int32](repeating: 0, count: rowsPerBatch * context)
            var targets = inputs
            for b in 0..<n {
                let start = (done + b) * context
                for t in 0..<context {
                    inputs[b * context + t] = tokens[start + t]
                    targets[b * context + t] = tokens[start + t + 1]
                }
            }
            if let primary, let primaryPass {
                primaryPass.forward(primary.parameters.pointer, tokens: inputs)
                features?.gather(from: primaryPass)
            }
            pass.forward(model.parameters.pointer, tokens: inputs, features: features?.pointers ?? [])
            for b in 0..<n {
                for t in (context / 2)..<context {
                    let row = b * context + t
                    let logits = pass.logits.pointer + row * V
                    let target = [targets[row]] // the pointer must not escape its closure
                    let totals = LossOps.forwardBackward(logits, rows: 1, vocabulary: V, targets: target,
                                                         softTargets: nil, weights: .crossEntropy, dLogits: nil)
                    result.tokens += 1
                    result.crossEntropySum += totals.crossEntropy
                    result.correct += totals.correct
                    guard let primaryPass else { continue }
                    let comparison = LossOps.compare(primary: primaryPass.logits.pointer + row * V, secondary: logits,
                                                     vocabulary: V, scratch: scratch.pointer)
                    result.tvDistanceSum += Double(comparison.tvDistance)
                    if comparison.argmaxAgrees { result.agreeing += 1 }
                }
            }
            done += n
            progress(done, chunks)
        }
        return result
    }
}

extension Evaluator {
    /// The same protocol through the inference engine (e.g. on quantized weights, which the
    /// training pass cannot hold): each chunk is one forward block of `context` tokens from an
    /// empty cache, and the second half of its positions is scored.
    public static func evaluate(engine model: Transformer, tokens: [Int32], context: Int, maxChunks: Int = .max,
                                progress: (Int, Int) -> Void = { _, _ in }) -> EvaluationResult {
        let V = model.config.vocabularySize
        let chunks = min((tokens.count - 1) / context, maxChunks)
        var result = EvaluationResult()
        guard chunks > 0 else { return result }
        let state = model.makeState(maxTokens: context, contextCapacity: context)
        for chunk in 0..<chunks {
            let start = chunk * context
            let cache = model.makeCache(capacity: context)
            model.forward(tokens[start..<(start + context)].map(Int.init), cache: cache, state: state)
            for t in (context / 2)..<context {
                let target = [tokens[start + t + 1]] // the pointer must not escape its closure
                let totals = LossOps.forwardBackward(state.logits(t).baseAddress!, rows: 1, vocabulary: V,
                                                     targets: target, softTargets: nil, weights: .crossEntropy,
                                                     dLogits: nil)
                result.tokens += 1
                result.crossEntropySum += totals.crossEntropy
                result.correct += totals.correct
            }
            progress(chunk + 1, chunks)
        }
        return result
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
@inline(__always) func _exponential(_ x: Double) -> Double { exp(x) }
