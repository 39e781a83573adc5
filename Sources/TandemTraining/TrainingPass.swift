/// Saved activations of one decoder layer for a batch (rows = batch * length).
import TandemEngine

final class LayerActivations<S: TrainingScalar> {
    let input, normed, queryKeyValue, attention, middle, feedForwardNormed, gateUp, activation: Buffer<S>
    let inverseRMS, feedForwardInverseRMS: Buffer<S>
    let probabilities: Buffer<S>
    // tandem only: projected primary states, their norm, keys/values
    let projected, projectedNormed, projectedInverseRMS, primaryKeyValue: Buffer<S>?

    init(config c: ModelConfig, rows: Int, shape: AttentionShape, tandem: Bool) {
        let d = c.width, stride = c.queryWidth + 2 * c.keyValueWidth
        input = Buffer(rows * d); normed = Buffer(rows * d); queryKeyValue = Buffer(rows * stride)
        attention = Buffer(rows * c.queryWidth); middle = Buffer(rows * d); feedForwardNormed = Buffer(rows * d)
        gateUp = Buffer(rows * 2 * c.feedForwardWidth); activation = Buffer(rows * c.feedForwardWidth)
        inverseRMS = Buffer(rows); feedForwardInverseRMS = Buffer(rows)
        probabilities = Buffer(shape.probabilityCount)
        projected = tandem ? Buffer(rows * d) : nil
        projectedNormed = tandem ? Buffer(rows * d) : nil
        projectedInverseRMS = tandem ? Buffer(rows) : nil
        primaryKeyValue = tandem ? Buffer(rows * 2 * c.keyValueWidth) : nil
    }
}

/// One training (or evaluation) pass over a batch of `batch` sequences of `length` tokens:
/// the forward pass saves what backward needs, backward accumulates parameter gradients.
/// Sized once per batch shape and reused, so steps allocate nothing.
public final class TrainingPass<S: TrainingScalar> {
    public let blueprint: TrainingBlueprint
    public let batch: Int, length: Int
    public var rows: Int { batch * length }
    let shape: AttentionShape
    let layers: [LayerActivations<S>]
    let finalResidual, finalNormed, finalInverseRMS: Buffer<S>
    public let logits: Buffer<S>
    let rotary: RotaryOps<S>
    let scratch: Buffer<S>
    // gradient scratch
    let dResidual, dMiddle, dNormed, dQueryKeyValue, dAttention, dActivation, dGateUp: Buffer<S>
    let dPrimaryKeyValue, dProjected: Buffer<S>?
    public let dLogits: Buffer<S>
    private(set) var tokens: [Int32] = []
    private(set) var features: [UnsafePointer<S>] = []

    /// `ownBlock`: for a tandem secondary, how many consecutive positions use its own keys
    /// (gamma_train); ignored for plain models.
    public init(blueprint: TrainingBlueprint, batch: Int, length: Int, ownBlock: Int = 1) {
        let c = blueprint.config
        precondition(length <= c.maxContext, "sequence length \(length) exceeds max context \(c.maxContext)")
        self.blueprint = blueprint
        self.batch = batch
        self.length = length
        let rows = batch * length, d = c.width, tandem = blueprint.tandem != nil
        let shape = AttentionShape(batch: batch, length: length, heads: c.headCount, keyValueHeads: c.keyValueHeadCount,
                                   headDimension: c.headDimension, ownBlock: tandem ? ownBlock : nil)
        self.shape = shape
        layers = (0..<c.layerCount).map { _ in LayerActivations(config: c, rows: rows, shape: shape, tandem: tandem) }
        finalResidual = Buffer(rows * d); finalNormed = Buffer(rows * d); finalInverseRMS = Buffer(rows)
        logits = Buffer(rows * c.vocabularySize)
        rotary = RotaryOps(headDimension: c.headDimension, positions: length, theta: c.ropeTheta)
        scratch = Buffer(2 * length * length)
        dResidual = Buffer(rows * d); dMiddle = Buffer(rows * d); dNormed = Buffer(rows * d)
        dQueryKeyValue = Buffer(rows * (c.queryWidth + 2 * c.keyValueWidth)); dAttention = Buffer(rows * c.queryWidth)
        dActivation = Buffer(rows * c.feedForwardWidth); dGateUp = Buffer(rows * 2 * c.feedForwardWidth)
        dPrimaryKeyValue = tandem ? Buffer(rows * 2 * c.keyValueWidth) : nil
        dProjected = tandem ? Buffer(rows * d) : nil
        dLogits = Buffer(rows * c.vocabularySize)
    }

    /// The residual stream at `point` (0 = embeddings, l = after l layers) of the last forward
    /// pass, [rows x width].
    public func residual(point: Int) -> UnsafePointer<S> {
        UnsafePointer(point < blueprint.config.layerCount ? layers[point].input.pointer : finalResidual.pointer)
    }

    /// Runs `tokens` ([batch][length], row-major) forward, leaving logits [rows x vocabulary].
    /// `features`: for a tandem secondary, per layer the concatenated primary states
    /// [rows x k_j d_L] of the same tokens (from the primary's pass); kept for backward.
    public func forward(_ parameters: UnsafePointer<S>, tokens: [Int32], features: [UnsafePointer<S>] = []) {
        let c = blueprint.config, d = c.width, n = rows, f = c.feedForwardWidth, eps = S(c.normEpsilon)
        let qW = c.queryWidth, kvW = c.keyValueWidth, stride = qW + 2 * kvW
        precondition(tokens.count == n, "\(tokens.count) tokens for a batch of \(batch) x \(length)")
        precondition((blueprint.tandem == nil) == features.isEmpty,
                     "tandem features must be given exactly for tandem models")
        self.tokens = tokens
        self.features = features
        let embedding = parameters + blueprint.embedding
        for (row, token) in tokens.enumerated() {
            precondition(token >= 0 && Int(token) < c.vocabularySize, "token \(token) outside the vocabulary")
            (layers[0].input.pointer + row * d).update(from: embedding + Int(token) * d, count: d)
        }
        for (index, a) in layers.enumerated() {
            let o = blueprint.layers[index]
            let x = a.input.pointer
            NormOps.forward(x, parameters + o.attentionNorm, rows: n, width: d, epsilon: eps, a.normed.pointer,
                            inverseRMS: a.inverseRMS.pointer)
            LinearOps.forward(a.normed.pointer, xStride: d, parameters + o.queryKeyValue, rows: n, inputs: d,
                              outputs: stride, a.queryKeyValue.pointer, yStride: stride)
            rotary.forward(a.queryKeyValue.pointer, rows: n, stride: stride, offset: 0, heads: c.headCount,
                           period: length)
            rotary.forward(a.queryKeyValue.pointer, rows: n, stride: stride, offset: qW, heads: c.keyValueHeadCount,
                           period: length)
            if let tandem = blueprint.tandem, let projection = o.projection {
                let inputWidth = tandem.inputWidth(index)
                LinearOps.forward(features[index], xStride: inputWidth, parameters + projection, rows: n,
                                  inputs: inputWidth, outputs: d, a.projected!.pointer, yStride: d)
                NormOps.forward(a.projected!.pointer, parameters + o.attentionNorm, rows: n, width: d, epsilon: eps,
                                a.projectedNormed!.pointer, inverseRMS: a.projectedInverseRMS!.pointer)
                LinearOps.forward(a.projectedNormed!.pointer, xStride: d, parameters + o.keyValue, rows: n, inputs: d,
                                  outputs: 2 * kvW, a.primaryKeyValue!.pointer, yStride: 2 * kvW)
                rotary.forward(a.primaryKeyValue!.pointer, rows: n, stride: 2 * kvW, offset: 0,
                               heads: c.keyValueHeadCount, period: length)
            }
            AttentionOps.forward(a.queryKeyValue.pointer,
                                 primaryKV: a.primaryKeyValue.map { UnsafePointer($0.pointer) },
                                 shape: shape, probabilities: a.probabilities.pointer, a.attention.pointer,
                                 scratch: scratch.pointer)
            a.middle.pointer.update(from: x, count: n * d)
            LinearOps.forward(a.attention.pointer, xStride: qW, parameters + o.output, rows: n, inputs: qW, outputs: d,
                              a.middle.pointer, yStride: d, accumulate: true)
            NormOps.forward(a.middle.pointer, parameters + o.feedForwardNorm, rows: n, width: d, epsilon: eps,
                            a.feedForwardNormed.pointer, inverseRMS: a.feedForwardInverseRMS.pointer)
            LinearOps.forward(a.feedForwardNormed.pointer, xStride: d, parameters + o.gateUp, rows: n, inputs: d,
                              outputs: 2 * f, a.gateUp.pointer, yStride: 2 * f)
            FeedForwardOps.forward(a.gateUp.pointer, rows: n, width: f, a.activation.pointer)
            let next = index + 1 < layers.count ? layers[index + 1].input.pointer : finalResidual.pointer
            next.update(from: a.middle.pointer, count: n * d)
            LinearOps.forward(a.activation.pointer, xStride: f, parameters + o.down, rows: n, inputs: f, outputs: d,
                              next, yStride: d, accumulate: true)
        }
        NormOps.forward(finalResidual.pointer, parameters + blueprint.finalNorm, rows: n, width: d, epsilon: eps,
                        finalNormed.pointer, inverseRMS: finalInverseRMS.pointer)
        LinearOps.forward(finalNormed.pointer, xStride: d, parameters + blueprint.head, rows: n, inputs: d,
                          outputs: c.vocabularySize, logits.pointer, yStride: c.vocabularySize)
    }

    /// Accumulates into `gradients` (laid out like the parameters) the gradient of the loss
    /// whose derivative with respect to the logits is in `dLogits`, for the last forward pass.
    public func backward(_ parameters: UnsafePointer<S>, gradients: UnsafeMutablePointer<S>) {
        let c = blueprint.config, d = c.width, n = rows, f = c.feedForwardWidth
        let qW = c.queryWidth, kvW = c.keyValueWidth, stride = qW + 2 * kvW
        LinearOps.backward(finalNormed.pointer, xStride: d, parameters + blueprint.head, rows: n, inputs: d,
                           outputs: c.vocabularySize, dLogits.pointer, dyStride: c.vocabularySize,
                           dx: dNormed.pointer, dxStride: d, accumulateInput: false, dw: gradients + blueprint.head)
        NormOps.backward(finalResidual.pointer, parameters + blueprint.finalNorm, rows: n, width: d,
                         inverseRMS: finalInverseRMS.pointer, dNormed.pointer, dx: dResidual.pointer, accumulate: false,
                         dw: gradients + blueprint.finalNorm)
        for index in layers.indices.reversed() {
            let a = layers[index], o = blueprint.layers[index]
            // feed-forward: out = middle + down(swiglu(gateUp(norm(middle))))
            dMiddle.pointer.update(from: dResidual.pointer, count: n * d)
            LinearOps.backward(a.activation.pointer, xStride: f, parameters + o.down, rows: n, inputs: f, outputs: d,
                               dResidual.pointer, dyStride: d, dx: dActivation.pointer, dxStride: f,
                               accumulateInput: false, dw: gradients + o.down)
            FeedForwardOps.backward(a.gateUp.pointer, rows: n, width: f, dActivation.pointer, dGateUp: dGateUp.pointer)
            LinearOps.backward(a.feedForwardNormed.pointer, xStride: d, parameters + o.gateUp, rows: n, inputs: d,
                               outputs: 2 * f, dGateUp.pointer, dyStride: 2 * f, dx: dNormed.pointer, dxStride: d,
                               accumulateInput: false, dw: gradients + o.gateUp)
            NormOps.backward(a.middle.pointer, parameters + o.feedForwardNorm, rows: n, width: d,
                             inverseRMS: a.feedForwardInverseRMS.pointer, dNormed.pointer, dx: dMiddle.pointer,
                             accumulate: true, dw: gradients + o.feedForwardNorm)
            // attention: middle = input + o_proj(attention(rope(qkv(norm(input)))))
            dResidual.pointer.update(from: dMiddle.pointer, count: n * d)
            LinearOps.backward(a.attention.pointer, xStride: qW, parameters + o.output, rows: n, inputs: qW, outputs: d,
                               dMiddle.pointer, dyStride: d, dx: dAttention.pointer, dxStride: qW,
                               accumulateInput: false, dw: gradients + o.output)
            AttentionOps.backward(a.queryKeyValue.pointer,
                                  primaryKV: a.primaryKeyValue.map { UnsafePointer($0.pointer) },
                                  shape: shape, probabilities: a.probabilities.pointer, dAttention.pointer,
                                  scratch: scratch.pointer, dqkv: dQueryKeyValue.pointer,
                                  dPrimaryKV: dPrimaryKeyValue?.pointer)
            rotary.backward(dQueryKeyValue.pointer, rows: n, stride: stride, offset: 0, heads: c.headCount,
                            period: length)
            rotary.backward(dQueryKeyValue.pointer, rows: n, stride: stride, offset: qW, heads: c.keyValueHeadCount,
                            period: length)
            LinearOps.backward(a.normed.pointer, xStride: d, parameters + o.queryKeyValue, rows: n, inputs: d,
                               outputs: stride, dQueryKeyValue.pointer, dyStride: stride, dx: dNormed.pointer,
                               dxStride: d, accumulateInput: false, dw: gradients + o.queryKeyValue)
            NormOps.backward(a.input.pointer, parameters + o.attentionNorm, rows: n, width: d,
                             inverseRMS: a.inverseRMS.pointer, dNormed.pointer, dx: dResidual.pointer, accumulate: true,
                             dw: gradients + o.attentionNorm)
            if let tandem = blueprint.tandem, let projection = o.projection, let dPrimary = dPrimaryKeyValue {
                // primary keys/values = kv(norm(P x_p)): the gradient reaches kv, the norm gain and P
                rotary.backward(dPrimary.pointer, rows: n, stride: 2 * kvW, offset: 0, heads: c.keyValueHeadCount,
                                period: length)
                LinearOps.backward(a.projectedNormed!.pointer, xStride: d, parameters + o.keyValue, rows: n, inputs: d,
                                   outputs: 2 * kvW, dPrimary.pointer, dyStride: 2 * kvW, dx: dNormed.pointer,
                                   dxStride: d, accumulateInput: false, dw: gradients + o.keyValue)
                NormOps.backward(a.projected!.pointer, parameters + o.attentionNorm, rows: n, width: d,
                                 inverseRMS: a.projectedInverseRMS!.pointer, dNormed.pointer, dx: dProjected!.pointer,
                                 accumulate: false, dw: gradients + o.attentionNorm)
                let inputWidth = tandem.inputWidth(index)
                LinearOps.backward(features[index], xStride: inputWidth, parameters + projection, rows: n,
                                   inputs: inputWidth, outputs: d, dProjected!.pointer, dyStride: d, dx: nil,
                                   dxStride: inputWidth, accumulateInput: false, dw: gradients + projection)
            }
        }
        let dEmbedding = gradients + blueprint.embedding
        for (row, token) in tokens.enumerated() {
            let target = dEmbedding + Int(token) * d, source = dResidual.pointer + row * d
            for i in 0..<d { target[i] += source[i] }
        }
    }
}

extension TrainingPass {
    /// Multiply-add FLOPs of one forward pass (matrix products and attention; a training step
    /// costs about 3x this: forward, input gradients, weight gradients).
    public var forwardFlops: Double {
        let c = blueprint.config, d = Double(c.width), f = Double(c.feedForwardWidth), n = Double(rows)
        let qW = Double(c.queryWidth), kvW = Double(c.keyValueWidth), T = Double(length)
        var perRow = 0.0
        for layer in 0..<c.layerCount {
            perRow += 2 * d * (qW + 2 * kvW) + 2 * qW * d + 2 * d * 2 * f + 2 * f * d
            let sources = blueprint.tandem == nil ? 1.0 : 2.0
            perRow += sources * 2 * 2 * T * qW // scores and weighted values over all T keys, per source
            if let tandem = blueprint.tandem {
                perRow += 2 * Double(tandem.inputWidth(layer)) * d + 2 * d * 2 * kvW
            }
        }
        perRow += 2 * d * Double(c.vocabularySize)
        return perRow * n
    }
}
