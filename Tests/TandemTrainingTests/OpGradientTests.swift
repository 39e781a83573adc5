import Testing
import TandemEngine
import TandemTraining

/// Every op's backward against central finite differences of loss = sum(out * dOut), float64,
/// relative tolerance `gradientTolerance`, on odd shapes.
@Suite struct OpGradientTests {
    @Test func rmsNorm() {
        let rows = 3, d = 7
        let x = randomBuffer(rows * d, seed: 1), w = randomBuffer(d, seed: 2), dOut = randomBuffer(rows * d, seed: 3)
        let out = Buffer<Double>(rows * d), r = Buffer<Double>(rows)
        func loss() -> Double {
            NormOps.forward(x.pointer, w.pointer, rows: rows, width: d, epsilon: 1e-5, out.pointer,
                            inverseRMS: r.pointer)
            return weightedSum(out, dOut)
        }
        _ = loss()
        let dx = Buffer<Double>(rows * d), dw = Buffer<Double>(d)
        NormOps.backward(x.pointer, w.pointer, rows: rows, width: d, inverseRMS: r.pointer, dOut.pointer,
                         dx: dx.pointer, accumulate: false, dw: dw.pointer)
        for (name, analytic, values) in [("x", dx, x), ("w", dw, w)] {
            let worst = worstRelativeDifference(analytic: analytic, numeric: numericGradient(values, loss))
            #expect(worst.value <= gradientTolerance, "rmsnorm d\(name): worst \(worst.value) at \(worst.index)")
        }
    }

    @Test func swiGLU() {
        let rows = 2, f = 9
        let gu = randomBuffer(rows * 2 * f, seed: 4, scale: 3), dOut = randomBuffer(rows * f, seed: 5)
        let out = Buffer<Double>(rows * f)
        func loss() -> Double {
            FeedForwardOps.forward(gu.pointer, rows: rows, width: f, out.pointer)
            return weightedSum(out, dOut)
        }
        let dgu = Buffer<Double>(rows * 2 * f)
        FeedForwardOps.backward(gu.pointer, rows: rows, width: f, dOut.pointer, dGateUp: dgu.pointer)
        let worst = worstRelativeDifference(analytic: dgu, numeric: numericGradient(gu, loss))
        #expect(worst.value <= gradientTolerance, "swiglu: worst \(worst.value) at \(worst.index)")
    }

    @Test func rotary() {
        let rows = 5, stride = 14, heads = 2, hd = 4, offset = 3
        let rope = RotaryOps<Double>(headDimension: hd, positions: 3, theta: 10)
        let v = randomBuffer(rows * stride, seed: 6), dOut = randomBuffer(rows * stride, seed: 7)
        let work = Buffer<Double>(rows * stride)
        func loss() -> Double {
            work.pointer.update(from: v.pointer, count: v.count)
            rope.forward(work.pointer, rows: rows, stride: stride, offset: offset, heads: heads, period: 3)
            return weightedSum(work, dOut)
        }
        let dv = Buffer<Double>(rows * stride)
        dv.pointer.update(from: dOut.pointer, count: dOut.count)
        rope.backward(dv.pointer, rows: rows, stride: stride, offset: offset, heads: heads, period: 3)
        let worst = worstRelativeDifference(analytic: dv, numeric: numericGradient(v, loss))
        #expect(worst.value <= gradientTolerance, "rotary: worst \(worst.value) at \(worst.index)")
    }

    @Test func linear() {
        let rows = 4, inputs = 6, outputs = 5, xStride = 8, yStride = 7
        let x = randomBuffer(rows * xStride, seed: 8), w = randomBuffer(outputs * inputs, seed: 9)
        let dOut = randomBuffer(rows * yStride, seed: 10)
        for column in outputs..<yStride { for row in 0..<rows { dOut[row * yStride + column] = 0 } }
        let out = Buffer<Double>(rows * yStride)
        func loss() -> Double {
            LinearOps.forward(x.pointer, xStride: xStride, w.pointer, rows: rows, inputs: inputs, outputs: outputs,
                              out.pointer, yStride: yStride)
            return weightedSum(out, dOut)
        }
        let dx = Buffer<Double>(rows * xStride), dw = Buffer<Double>(outputs * inputs)
        LinearOps.backward(x.pointer, xStride: xStride, w.pointer, rows: rows, inputs: inputs, outputs: outputs,
                           dOut.pointer, dyStride: yStride, dx: dx.pointer, dxStride: xStride, accumulateInput: false,
                           dw: dw.pointer)
        let xIndices = (0..<rows).flatMap { r in (0..<inputs).map { r * xStride + $0 } }
        for (name, analytic, values, indices) in [("x", dx, x, xIndices), ("w", dw, w, nil)] {
            let worst = worstRelativeDifference(analytic: analytic,
                                                numeric: numericGradient(values, indices: indices, loss))
            #expect(worst.value <= gradientTolerance, "linear d\(name): worst \(worst.value) at \(worst.index)")
        }
    }

    /// Plain causal GQA attention, and tandem attention (own keys within blocks of 2 and 3,
    /// primary keys before), gradients of q, own k/v and primary k/v.
    @Test(arguments: [nil, 2, 3] as [Int?])
    func attention(ownBlock: Int?) {
        let shape = AttentionShape(batch: 2, length: 5, heads: 4, keyValueHeads: 2, headDimension: 3,
                                   ownBlock: ownBlock)
        let rows = shape.batch * shape.length, stride = shape.stride, kvW = shape.keyValueWidth
        let qkv = randomBuffer(rows * stride, seed: 11), dOut = randomBuffer(rows * shape.queryWidth, seed: 12)
        let primary = ownBlock == nil ? nil : randomBuffer(rows * 2 * kvW, seed: 13)
        let probabilities = Buffer<Double>(shape.probabilityCount), out = Buffer<Double>(rows * shape.queryWidth)
        let scratch = Buffer<Double>(2 * shape.length * shape.length)
        func loss() -> Double {
            AttentionOps.forward(qkv.pointer, primaryKV: primary.map { UnsafePointer($0.pointer) }, shape: shape,
                                 probabilities: probabilities.pointer, out.pointer, scratch: scratch.pointer)
            return weightedSum(out, dOut)
        }
        _ = loss()
        let dqkv = Buffer<Double>(rows * stride), dPrimary = primary.map { Buffer<Double>($0.count) }
        AttentionOps.backward(qkv.pointer, primaryKV: primary.map { UnsafePointer($0.pointer) }, shape: shape,
                              probabilities: probabilities.pointer, dOut.pointer, scratch: scratch.pointer,
                              dqkv: dqkv.pointer, dPrimaryKV: dPrimary?.pointer)
        let worst = worstRelativeDifference(analytic: dqkv, numeric: numericGradient(qkv, loss))
        #expect(worst.value <= gradientTolerance,
                "attention dqkv (block \(String(describing: ownBlock))): worst \(worst.value) at \(worst.index)")
        if let primary, let dPrimary {
            let worstPrimary = worstRelativeDifference(analytic: dPrimary, numeric: numericGradient(primary, loss))
            #expect(worstPrimary.value <= gradientTolerance,
                    "attention dprimary: worst \(worstPrimary.value) at \(worstPrimary.index)")
            // The primary source must matter: a zero gradient would pass trivially.
            #expect((0..<dPrimary.count).contains { abs(dPrimary[$0]) > 1e-3 }, "primary keys got no gradient")
        }
    }

    /// Cross-entropy plus distillation against soft targets, gradient of the objective.
    @Test func losses() {
        let rows = 3, vocabulary = 6
        let logits = randomBuffer(rows * vocabulary, seed: 14, scale: 2)
        let soft = randomBuffer(rows * vocabulary, seed: 15, scale: 2),
            probabilities = Buffer<Double>(rows * vocabulary)
        LossOps.softmax(soft.pointer, rows: rows, vocabulary: vocabulary, into: probabilities.pointer)
        let targets: [Int32] = [2, 0, 5]
        let weights = LossWeights(hard: 0.3, soft: 0.7)
        func loss() -> Double {
            LossOps.forwardBackward(logits.pointer, rows: rows, vocabulary: vocabulary, targets: targets,
                                    softTargets: probabilities.pointer, weights: weights, dLogits: nil).objective
        }
        let dLogits = Buffer<Double>(rows * vocabulary)
        _ = LossOps.forwardBackward(logits.pointer, rows: rows, vocabulary: vocabulary, targets: targets,
                                    softTargets: probabilities.pointer, weights: weights, dLogits: dLogits.pointer)
        let worst = worstRelativeDifference(analytic: dLogits, numeric: numericGradient(logits, loss))
        #expect(worst.value <= gradientTolerance, "loss: worst \(worst.value) at \(worst.index)")
    }
}
