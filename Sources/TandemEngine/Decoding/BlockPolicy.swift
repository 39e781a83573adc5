/// Decides how many tokens the secondary drafts in a round. Swappable: fixed, confidence,
/// heuristic, router.
public protocol BlockPolicy {
    var name: String { get }
    /// The most drafts the coming round may produce.
    var maxDrafts: Int { get }
    /// The most drafts any round may produce (sizes buffers and caches).
    var gammaMax: Int { get }
    /// Whether candidate draft `position` (1-based), drawn from the secondary's `logits`, is
    /// kept; false stops the round before it.
    mutating func keepsDraft(position: Int, logits: UnsafeBufferPointer<Float>, drafter: Transformer) -> Bool
    /// Learns from the finished round.
    mutating func update(drafted: Int, accepted: Int)
}

/// Always gamma drafts.
public struct FixedPolicy: BlockPolicy {
    public let gamma: Int
    public init(gamma: Int) { self.gamma = gamma }
    public var name: String { "fixed" }
    public var maxDrafts: Int { gamma }
    public var gammaMax: Int { gamma }
    public func keepsDraft(position: Int, logits: UnsafeBufferPointer<Float>, drafter: Transformer) -> Bool { true }
    public func update(drafted: Int, accepted: Int) {}
}

/// llama.cpp's `--draft-p-min`: stop when the candidate's top probability (softmax at T = 1)
/// falls below `minimumProbability`; at most `gammaMax` drafts.
public struct ConfidencePolicy: BlockPolicy {
    public let minimumProbability: Double, gammaMax: Int
    public init(minimumProbability: Double, gammaMax: Int) {
        self.minimumProbability = minimumProbability
        self.gammaMax = gammaMax
    }
    public var name: String { "confidence" }
    public var maxDrafts: Int { gammaMax }
    public func keepsDraft(position: Int, logits: UnsafeBufferPointer<Float>, drafter: Transformer) -> Bool {
        CandidateSummary(logits).topProbability >= minimumProbability
    }
    public func update(drafted: Int, accepted: Int) {}
}

/// Hugging Face's `num_assistant_tokens_schedule="heuristic"`: +2 drafts after a fully
/// accepted round, -1 otherwise, within 1...gammaMax.
public struct HeuristicPolicy: BlockPolicy {
    public private(set) var current: Int
    public let gammaMax: Int
    public init(initial: Int, gammaMax: Int) {
        current = max(1, min(initial, gammaMax))
        self.gammaMax = gammaMax
    }
    public var name: String { "heuristic" }
    public var maxDrafts: Int { current }
    public func keepsDraft(position: Int, logits: UnsafeBufferPointer<Float>, drafter: Transformer) -> Bool { true }
    public mutating func update(drafted: Int, accepted: Int) {
        current = drafted > 0 && accepted == drafted ? min(current + 2, gammaMax) : max(1, current - 1)
    }
}

/// The paper's router: keep drafting while the predicted acceptance of the candidate is at
/// least `threshold` (tau), at most `gammaMax` drafts.
public struct RouterPolicy: BlockPolicy {
    public let router: Router
    public let threshold: Float, gammaMax: Int
    public init(router: Router, threshold: Float, gammaMax: Int) {
        self.router = router
        self.threshold = threshold
        self.gammaMax = gammaMax
    }
    public var name: String { "router" }
    public var maxDrafts: Int { gammaMax }
    public func keepsDraft(position: Int, logits: UnsafeBufferPointer<Float>, drafter: Transformer) -> Bool {
        precondition(router.embeddingWidth == drafter.config.width,
                     "router built for width \(router.embeddingWidth), secondary has \(drafter.config.width)")
        let embeddings = drafter.weights.tensor(ParameterTable.embedding).baseAddress!
        return router.predict(logits: logits, embeddings: embeddings) >= threshold
    }
    public func update(drafted: Int, accepted: Int) {}
}
