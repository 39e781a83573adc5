/// The blueprint of a Llama-family decoder: pre-norm RMSNorm, rotary position embeddings
/// (rotate-half convention, as Hugging Face Llama), SwiGLU feed-forward, grouped KV heads.
///
/// A config is pure data: weights, scratch state and caches are separate types built from it.
public struct ModelConfig: Codable, Equatable, Sendable {
    public var vocabularySize: Int
    public var width: Int
    public var layerCount: Int
    public var headCount: Int
    public var keyValueHeadCount: Int
    public var feedForwardWidth: Int
    public var maxContext: Int
    public var ropeTheta: Float
    public var normEpsilon: Float
    public var tiedEmbeddings: Bool

    public init(vocabularySize: Int, width: Int, layerCount: Int, headCount: Int,
                keyValueHeadCount: Int, feedForwardWidth: Int, maxContext: Int,
                ropeTheta: Float = 10_000, normEpsilon: Float = 1e-5, tiedEmbeddings: Bool = false) {
        self.vocabularySize = vocabularySize
        self.width = width
        self.layerCount = layerCount
        self.headCount = headCount
        self.keyValueHeadCount = keyValueHeadCount
        self.feedForwardWidth = feedForwardWidth
        self.maxContext = maxContext
        self.ropeTheta = ropeTheta
        self.normEpsilon = normEpsilon
        self.tiedEmbeddings = tiedEmbeddings
    }

    public var headDimension: Int { width / headCount }
    /// Width of the query projection output (headCount * headDimension).
    public var queryWidth: Int { headCount * headDimension }
    /// Width of each of the key and value projection outputs.
    public var keyValueWidth: Int { keyValueHeadCount * headDimension }

    /// P150, the reference primary of PLATFORM.md: 38,810,112 fp32 parameters (155 MB), larger
    /// than this machine's L3, so a decode step streams its weights from DRAM.
    public static let p150 = ModelConfig(
        vocabularySize: 256, width: 512, layerCount: 12, headCount: 8, keyValueHeadCount: 8,
        feedForwardWidth: 1408, maxContext: 2048)

    /// Checks the config is buildable; the message names the field and the expectation.
    public func validate() throws {
        func require(_ condition: Bool, _ field: String, _ expectation: String) throws {
            if !condition { throw ConfigError(field: field, expectation: expectation) }
        }
        try require(vocabularySize >= 2, "vocabulary_size", "at least 2, got \(vocabularySize)")
        try require(width >= 2, "width", "at least 2, got \(width)")
        try require(layerCount >= 1, "layer_count", "at least 1, got \(layerCount)")
        try require(headCount >= 1 && width % headCount == 0, "head_count",
                    "a divisor of width \(width), got \(headCount)")
        try require(headDimension % 2 == 0, "head_count",
                    "a head dimension (width / head_count) that is even for rotary embeddings, got \(headDimension)")
        try require(keyValueHeadCount >= 1 && headCount % keyValueHeadCount == 0, "key_value_head_count",
                    "a divisor of head_count \(headCount), got \(keyValueHeadCount)")
        try require(feedForwardWidth >= 1, "feed_forward_width", "at least 1, got \(feedForwardWidth)")
        try require(maxContext >= 1, "max_context", "at least 1, got \(maxContext)")
        try require(ropeTheta > 0, "rope_theta", "positive, got \(ropeTheta)")
        try require(normEpsilon > 0, "norm_epsilon", "positive, got \(normEpsilon)")
    }

    /// The config as string pairs (snake_case keys), as stored in a safetensors `__metadata__`.
    public var metadata: [String: String] {
        [
            "vocabulary_size": String(vocabularySize), "width": String(width),
            "layer_count": String(layerCount), "head_count": String(headCount),
            "key_value_head_count": String(keyValueHeadCount),
            "feed_forward_width": String(feedForwardWidth), "max_context": String(maxContext),
            "rope_theta": String(ropeTheta), "norm_epsilon": String(normEpsilon),
            "tied_embeddings": String(tiedEmbeddings),
        ]
    }

    /// Reads a config back from `metadata`; the error names the missing or malformed key.
    public init(metadata: [String: String]) throws {
        func value<T: LosslessStringConvertible>(_ key: String) throws -> T {
            guard let text = metadata[key] else {
                throw ConfigError(field: key, expectation: "present in the checkpoint's __metadata__")
            }
            guard let parsed = T(text) else {
                throw ConfigError(field: key, expectation: "a \(T.self), got \"\(text)\"")
            }
            return parsed
        }
        self.init(vocabularySize: try value("vocabulary_size"), width: try value("width"),
                  layerCount: try value("layer_count"), headCount: try value("head_count"),
                  keyValueHeadCount: try value("key_value_head_count"),
                  feedForwardWidth: try value("feed_forward_width"), maxContext: try value("max_context"),
                  ropeTheta: try value("rope_theta"), normEpsilon: try value("norm_epsilon"),
                  tiedEmbeddings: try value("tied_embeddings"))
        try validate()
    }
}

/// A config field out of range or missing.
public struct ConfigError: Error, CustomStringConvertible {
    public var field: String
    public var expectation: String
    public var description: String { "model config field '\(field)': expected \(expectation)" }
}
