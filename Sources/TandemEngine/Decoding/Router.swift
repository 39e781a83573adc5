/// The adaptive-block-length router: a 2-layer MLP that, after each draft token, predicts the
/// probability that the primary will accept it, from the secondary's entropy, its top-k
/// probabilities and its embeddings of those top-k tokens. Weights live in one allocation
/// described by a name -> shape table and are stored as safetensors.
public final class Router: @unchecked Sendable {
    public let topK: Int, hiddenWidth: Int, embeddingWidth: Int
    public var inputWidth: Int { 1 + topK + topK * embeddingWidth }
    public let specs: [ParameterSpec]
    public let storage: UnsafeMutablePointer<Float>
    public var count: Int { specs.last.map { $0.offset + $0.count } ?? 0 }
    private var features: [Float]

    public init(topK: Int, hiddenWidth: Int, embeddingWidth: Int) {
        self.topK = topK
        self.hiddenWidth = hiddenWidth
        self.embeddingWidth = embeddingWidth
        let input = 1 + topK + topK * embeddingWidth
        var offset = 0
        specs = [("router.fc1.weight", [hiddenWidth, input]), ("router.fc1.bias", [hiddenWidth]),
                 ("router.fc2.weight", [1, hiddenWidth]), ("router.fc2.bias", [1])].map { name, shape in
            defer { offset += shape.reduce(1, *) }
            return ParameterSpec(name: name, shape: shape, offset: offset)
        }
        storage = .allocate(capacity: offset)
        storage.initialize(repeating: 0, count: offset)
        features = Array(repeating: 0, count: input)
    }

    deinit { storage.deallocate() }

    public func tensor(_ name: String) -> UnsafeMutablePointer<Float> {
        storage + specs.first { $0.name == name }!.offset
    }

    /// Seeded weights (uniform, standard deviation 1/sqrt(fan_in)); the output bias starts at
    /// `outputBias` so an untrained router predicts sigmoid(outputBias) on average.
    public static func random(topK: Int, hiddenWidth: Int, embeddingWidth: Int, seed: UInt64,
                              outputBias: Float = 2) -> Router {
        let router = Router(topK: topK, hiddenWidth: hiddenWidth, embeddingWidth: embeddingWidth)
        var generator = SeededGenerator(seed: seed)
        for spec in router.specs where spec.shape.count == 2 {
            let halfWidth = (3.0 / Float(spec.shape[1])).squareRoot()
            for i in 0..<spec.count {
                router.storage[spec.offset + i] = (2 * generator.nextUnitFloat() - 1) * halfWidth
            }
        }
        router.tensor("router.fc2.bias")[0] = outputBias
        return router
    }

    /// The router's input for the draft drawn from `logits` (softmax at T = 1): [entropy, top-k
    /// probabilities, the top-k tokens' rows of `embeddings`], written to `features`
    /// [inputWidth]. Ties in probability go to the lower token id.
    public func features(logits: UnsafeBufferPointer<Float>, embeddings: UnsafePointer<Float>,
                         into features: UnsafeMutablePointer<Float>) {
        let summary = CandidateSummary(logits)
        let top = CandidateSummary.topTokens(logits, count: topK)
        features[0] = Float(summary.entropy)
        for k in 0..<topK {
            let token = top[min(k, top.count - 1)]
            features[1 + k] = Float(summary.probability(logit: logits[token]))
            for j in 0..<embeddingWidth {
                features[1 + topK + k * embeddingWidth + j] = embeddings[token * embeddingWidth + j]
            }
        }
    }

    /// Predicted acceptance probability of the draft drawn from `logits` (softmax at T = 1),
    /// with `embeddings` the secondary's embedding table [vocabulary][embeddingWidth].
    public func predict(logits: UnsafeBufferPointer<Float>, embeddings: UnsafePointer<Float>) -> Float {
        features.withUnsafeMutableBufferPointer {
            self.features(logits: logits, embeddings: embeddings, into: $0.baseAddress!)
        }
        return features.withUnsafeBufferPointer { predict(features: $0.baseAddress!) }
    }

    /// sigmoid(fc2(relu(fc1(x)))) for one feature vector x [inputWidth].
    public func predict(features x: UnsafePointer<Float>) -> Float {
        // fc1.weight, fc1.bias, fc2.weight, fc2.bias lie in that order (specs), so no name lookups.
        let w1 = storage + specs[0].offset, b1 = storage + specs[1].offset
        let w2 = storage + specs[2].offset, b2 = storage + specs[3].offset
        var output = b2[0]
        for h in 0..<hiddenWidth {
            let z = VectorMath.dot(w1 + h * inputWidth, x, inputWidth) + b1[h]
            output += w2[h] * max(0, z) // ReLU
        }
        return 1 / (1 + Float(_exp(Double(-output))))
    }

    public func save(to path: String) throws {
        try Safetensors.write(specs.views(in: storage),
                              metadata: ["router.top_k": String(topK), "router.hidden_width": String(hiddenWidth),
                                         "router.embedding_width": String(embeddingWidth)], to: path)
    }

    public static func load(path: String) throws -> Router {
        let (tensors, metadata) = try Safetensors.read(path: path)
        func integer(_ key: String) throws -> Int {
            guard let value = metadata[key].flatMap(Int.init), value > 0 else {
                throw CheckpointError(path: path, message: "\(key) missing from __metadata__ or not a positive integer")
            }
            return value
        }
        let router = Router(topK: try integer("router.top_k"), hiddenWidth: try integer("router.hidden_width"),
                            embeddingWidth: try integer("router.embedding_width"))
        try router.specs.fill(router.storage, from: tensors, path: path)
        return router
    }
}
