/// Counters of one generation run, with the rates derived from them.
public struct DecodingTelemetry: Sendable {
    public var strategy: String
    public var promptTokens = 0
    public var generatedTokens = 0
    /// Rounds of draft + verify (speculative), of draft + primary block (standalone tandem),
    /// or single steps (autoregressive).
    public var rounds = 0
    public var drafted = 0
    public var accepted = 0
    /// acceptedLengthHistogram[a]: rounds in which exactly a drafts were accepted.
    public var acceptedLengthHistogram: [Int] = []
    /// draftLengthHistogram[g]: rounds that drafted exactly g tokens (the policy's choices,
    /// clipped by the token budget).
    public var draftLengthHistogram: [Int] = []
    /// fullRoundHistogram[a]: like acceptedLengthHistogram, over the rounds that drafted the
    /// policy's full block (not clipped by the token budget or stopped early): the sample for
    /// testing the i.i.d.-acceptance model.
    public var fullRoundHistogram: [Int] = []
    /// Per draft position k + 1: rounds that drafted it, rounds that judged it (every earlier
    /// draft was accepted, so the primary's verdict on it counted), and rounds that accepted it.
    public var draftedByPosition: [Int] = []
    public var judgedByPosition: [Int] = []
    public var acceptedByPosition: [Int] = []
    public var prefillNanoseconds: UInt64 = 0
    /// Wall time after the prefill.
    public var decodeNanoseconds: UInt64 = 0
    /// Wall time per phase (draft, verify, commit, decode), from the strategy's own clock.
    public var phaseNanoseconds: [Phase: UInt64] = [:]
    /// Per draft step k + 1 of a round (the secondary's forward pass that yields draft k + 1's
    /// logits; step 1 runs right after the previous round's verification): how many ran and
    /// their wall time. What a draft step costs inside real rounds, for the a-priori prediction.
    public var draftStepsByPosition: [Int] = []
    public var draftStepNanosecondsByPosition: [UInt64] = []

    public init(strategy: String) { self.strategy = strategy }

    /// Records one speculative round.
    public mutating func recordRound(drafted roundDrafted: Int, accepted roundAccepted: Int, fullBlock: Int? = nil) {
        rounds += 1
        drafted += roundDrafted
        accepted += roundAccepted
        func grow(_ array: inout [Int], to count: Int) {
            if array.count < count { array += Array(repeating: 0, count: count - array.count) }
        }
        grow(&acceptedLengthHistogram, to: roundAccepted + 1)
        acceptedLengthHistogram[roundAccepted] += 1
        grow(&draftLengthHistogram, to: roundDrafted + 1)
        draftLengthHistogram[roundDrafted] += 1
        if let fullBlock, roundDrafted == fullBlock {
            grow(&fullRoundHistogram, to: fullBlock + 1)
            fullRoundHistogram[roundAccepted] += 1
        }
        grow(&draftedByPosition, to: roundDrafted)
        grow(&acceptedByPosition, to: roundDrafted)
        grow(&judgedByPosition, to: roundDrafted)
        for k in 0..<roundDrafted { draftedByPosition[k] += 1 }
        for k in 0..<min(roundDrafted, roundAccepted + 1) { judgedByPosition[k] += 1 }
        for k in 0..<roundAccepted { acceptedByPosition[k] += 1 }
    }

    /// Records one draft step at `position` (1-based) of a round.
    public mutating func recordDraftStep(position: Int, nanoseconds: UInt64) {
        if draftStepsByPosition.count < position {
            draftStepsByPosition += Array(repeating: 0, count: position - draftStepsByPosition.count)
            draftStepNanosecondsByPosition += Array(repeating: 0,
                                                    count: position - draftStepNanosecondsByPosition.count)
        }
        draftStepsByPosition[position - 1] += 1
        draftStepNanosecondsByPosition[position - 1] += nanoseconds
    }

    /// accepted / drafted (nil before any draft).
    public var acceptanceRate: Double? { drafted > 0 ? Double(accepted) / Double(drafted) : nil }
    /// Tokens committed per round including the primary's correction or bonus token (vLLM's
    /// "mean acceptance length").
    public var meanAcceptedLength: Double? { rounds > 0 ? Double(accepted + rounds) / Double(rounds) : nil }
    /// Conditional acceptance a_k = accepted_k / judged_k: the probability draft k is accepted
    /// given every earlier draft was (the a_k of the cost model; alpha_k in oracle mode).
    public var acceptanceByPosition: [Double] {
        zip(acceptedByPosition, judgedByPosition).map { $1 > 0 ? Double($0) / Double($1) : 0 }
    }
    /// Tokens produced by the decode loop: all but the first, which the prefill yields.
    public var decodeTokens: Int { max(generatedTokens - 1, 0) }
    /// Decode tokens per second of decode wall time (prefill excluded).
    public var tokensPerSecond: Double {
        decodeNanoseconds > 0 ? Double(decodeTokens) * 1e9 / Double(decodeNanoseconds) : 0
    }
    public var prefillTokensPerSecond: Double {
        prefillNanoseconds > 0 ? Double(promptTokens) * 1e9 / Double(prefillNanoseconds) : 0
    }
}
