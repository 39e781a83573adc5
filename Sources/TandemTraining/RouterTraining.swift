import TandemEngine

/// The router MLP's forward/backward for training: logit = fc2(relu(fc1(x))), parameters laid
/// out as the engine's `Router.specs` (fc1.weight [H x I], fc1.bias [H], fc2.weight [1 x H],
/// fc2.bias [1]).
public enum RouterOps {
    public struct Shape: Sendable {
        public var inputs: Int, hidden: Int
        public init(inputs: Int, hidden: Int) { self.inputs = inputs; self.hidden = hidden }
        var w1: Int { 0 }
        var b1: Int { hidden * inputs }
        var w2: Int { hidden * inputs + hidden }
        var b2: Int { hidden * inputs + 2 * hidden }
        public var count: Int { hidden * inputs + 2 * hidden + 1 }
    }

    // out[n] = logits; preActivation [n x H] saved for backward
    public static func forward<S: TrainingScalar>(_ x: UnsafePointer<S>, rows n: Int, _ p: UnsafePointer<S>,
                                                  shape: Shape, preActivation: UnsafeMutablePointer<S>,
                                                  _ out: UnsafeMutablePointer<S>) {
        let H = shape.hidden, I = shape.inputs
        LinearOps.forward(x, xStride: I, p + shape.w1, rows: n, inputs: I, outputs: H, preActivation, yStride: H)
        for row in 0..<n {
            let z = preActivation + row * H
            var logit = p[shape.b2]
            for h in 0..<H {
                z[h] += p[shape.b1 + h]
                logit += p[shape.w2 + h] * max(0, z[h])
            }
            out[row] = logit
        }
    }

    // gradients [count] += d/dp of sum(out * dOut)   (same argument order as forward)
    public static func backward<S: TrainingScalar>(_ x: UnsafePointer<S>, rows n: Int, _ p: UnsafePointer<S>,
                                                   shape: Shape, preActivation: UnsafePointer<S>,
                                                   _ dOut: UnsafePointer<S>, gradients g: UnsafeMutablePointer<S>,
                                                   scratch dz: UnsafeMutablePointer<S>) {
        let H = shape.hidden, I = shape.inputs
        for row in 0..<n {
            let z = preActivation + row * H, d = dOut[row]
            g[shape.b2] += d
            for h in 0..<H {
                g[shape.w2 + h] += d * max(0, z[h])
                let dzh = z[h] > 0 ? d * p[shape.w2 + h] : 0
                dz[row * H + h] = dzh
                g[shape.b1 + h] += dzh
            }
        }
        S.gemm(true, false, H, I, n, 1, dz, H, x, I, 1, g + shape.w1, I)
    }
}

/// Router training data: per position, the router's features from the secondary's logits and
/// the soft label 1 - TV(p, q), the probability that speculative sampling accepts a draft from
/// the secondary's q under the primary's p (the paper's per-token rejection probability TV,
/// complemented because this router predicts acceptance). Also the greedy outcome (argmax q =
/// argmax p), for judging thresholds.
public struct RouterDataset {
    public var features: [Float] = []
    public var labels: [Float] = []
    public var greedyAccepted: [Bool] = []
    public let inputWidth: Int
    public var count: Int { labels.count }

    public init(inputWidth: Int) { self.inputWidth = inputWidth }

    /// Collects `batches` batches of `batch` x `length` positions of `corpus` (step seeds
    /// offset by `seedOffset`, so training and held-out sets differ).
    public static func collect(secondary: TrainedModel, primary: TrainedModel, router: Router, corpus: ByteCorpus,
                               batches: Int, batch: Int, length: Int, ownBlock: Int, seed: UInt64) -> RouterDataset {
        var dataset = RouterDataset(inputWidth: router.inputWidth)
        dataset.features.reserveCapacity(batches * batch * length * router.inputWidth)
        let V = secondary.blueprint.config.vocabularySize
        let pass = TrainingPass<Float>(blueprint: secondary.blueprint, batch: batch, length: length, ownBlock: ownBlock)
        let primaryPass = TrainingPass<Float>(blueprint: primary.blueprint, batch: batch, length: length)
        let features = secondary.blueprint.tandem.map { TandemFeatures<Float>(attachment: $0, rows: pass.rows) }
        let embeddings = UnsafePointer(secondary.parameters.pointer + secondary.blueprint.embedding)
        let scratch = Buffer<Float>(2 * V)
        var row = [Float](repeating: 0, count: router.inputWidth)
        for step in 0..<batches {
            let (inputs, _) = corpus.batch(step: step, seed: seed, batch: batch, length: length)
            primaryPass.forward(primary.parameters.pointer, tokens: inputs)
            features?.gather(from: primaryPass)
            pass.forward(secondary.parameters.pointer, tokens: inputs, features: features?.pointers ?? [])
            for r in 0..<pass.rows {
                let logits = UnsafeBufferPointer(start: pass.logits.pointer + r * V, count: V)
                row.withUnsafeMutableBufferPointer {
                    router.features(logits: logits, embeddings: embeddings, into: $0.baseAddress!)
                }
                dataset.features += row
                let comparison = LossOps.compare(primary: primaryPass.logits.pointer + r * V,
                                                 secondary: pass.logits.pointer + r * V, vocabulary: V,
                                                 scratch: scratch.pointer)
                dataset.labels.append(1 - comparison.tvDistance)
                dataset.greedyAccepted.append(comparison.argmaxAgrees)
            }
        }
        return dataset
    }
}

/// Trains a router on a dataset by binary cross-entropy against the soft labels (AdamW,
/// minibatches in a seeded order).
public enum RouterTrainer {
    public static func train(_ router: Router, on data: RouterDataset, steps: Int, batch: Int = 256,
                             learningRate: Double = 1e-3, seed: UInt64) -> Double {
        let shape = RouterOps.Shape(inputs: router.inputWidth, hidden: router.hiddenWidth)
        precondition(shape.count == router.count && data.inputWidth == router.inputWidth, "router shape mismatch")
        let parameters = Buffer<Float>(shape.count), gradients = Buffer<Float>(shape.count)
        parameters.pointer.update(from: router.storage, count: shape.count)
        var settings = OptimizerSettings()
        settings.learningRate = learningRate
        settings.warmupSteps = min(20, steps / 10)
        settings.weightDecay = 0.01
        var mask = [Bool](repeating: false, count: shape.count)
        for i in 0..<shape.b1 { mask[i] = true }
        for i in shape.w2..<shape.b2 { mask[i] = true }
        let optimizer = AdamW(count: shape.count, decayMask: mask, settings: settings)
        let x = Buffer<Float>(batch * shape.inputs), z = Buffer<Float>(batch * shape.hidden)
        let out = Buffer<Float>(batch), dOut = Buffer<Float>(batch), scratch = Buffer<Float>(batch * shape.hidden)
        var generator = SeededGenerator(seed: seed)
        var lastLoss = 0.0
        for step in 0..<steps {
            var labels = [Float](repeating: 0, count: batch)
            for b in 0..<batch {
                let i = Int(generator.next() % UInt64(data.count))
                data.features.withUnsafeBufferPointer {
                    (x.pointer + b * shape.inputs).update(from: $0.baseAddress! + i * shape.inputs, count: shape.inputs)
                }
                labels[b] = data.labels[i]
            }
            RouterOps.forward(x.pointer, rows: batch, parameters.pointer, shape: shape, preActivation: z.pointer,
                              out.pointer)
            var loss = 0.0
            for b in 0..<batch {
                let s = 1 / (1 + Float.exponential(-out[b])), y = labels[b]
                loss -= Double(y * Float.logarithm(max(s, 1e-7)) + (1 - y) * Float.logarithm(max(1 - s, 1e-7)))
                dOut[b] = (s - y) / Float(batch)
            }
            lastLoss = loss / Double(batch)
            gradients.zero()
            RouterOps.backward(x.pointer, rows: batch, parameters.pointer, shape: shape, preActivation: z.pointer,
                               dOut.pointer, gradients: gradients.pointer, scratch: scratch.pointer)
            optimizer.update(parameters, gradients: gradients, gradientNorm: AdamW.norm(gradients), step: step,
                             rate: settings.learningRate(step: step, totalSteps: steps))
        }
        router.storage.update(from: parameters.pointer, count: shape.count)
        return lastLoss
    }
}
