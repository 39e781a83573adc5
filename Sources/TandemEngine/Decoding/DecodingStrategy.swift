import Dispatch

/// A way of generating tokens with the primary (and possibly a secondary). Every strategy is
/// one implementation of this protocol.
public protocol DecodingStrategy {
    /// The strategy's CLI name: primary, secondary, tandem, speed or tandem-speed.
    var name: String { get }
    /// Generates up to `maxTokens` tokens after `prompt` (non-empty) and returns them. With a
    /// `stopToken` (e.g. the tokenizer's end of sequence) generation ends at its first
    /// occurrence, which is returned last; tokens a round committed after it are dropped.
    mutating func generate(prompt: [Int], maxTokens: Int, stopToken: Int?) -> [Int]
    /// Counters of the last `generate`.
    var telemetry: DecodingTelemetry { get }
}

extension DecodingStrategy {
    /// Generates exactly `maxTokens` tokens (no stop token: what sweeps and benchmarks time).
    public mutating func generate(prompt: [Int], maxTokens: Int) -> [Int] {
        generate(prompt: prompt, maxTokens: maxTokens, stopToken: nil)
    }
}

/// The length `tokens` keeps when `stopToken` occurs in tokens[from...]: up to and including its
/// first occurrence there; nil when it does not occur (or there is no stop token).
func stopLength(_ tokens: [Int], from: Int, stopToken: Int?) -> Int? {
    guard let stopToken, from < tokens.count, let index = tokens[from...].firstIndex(of: stopToken) else { return nil }
    return index + 1
}

/// Wall time per phase: `enter` charges the time since the previous `enter` to the phase being
/// left, and points the profiler's per-layer timers at the new phase.
struct PhaseClock {
    private var current: Phase?
    private var since: UInt64 = 0
    let profiler: LayerProfiler?

    init(profiler: LayerProfiler?) { self.profiler = profiler }

    mutating func enter(_ phase: Phase?, telemetry: inout DecodingTelemetry) {
        let now = DispatchTime.now().uptimeNanoseconds
        if let current { telemetry.phaseNanoseconds[current, default: 0] += now - since }
        current = phase
        since = now
        if let phase { profiler?.phase = phase }
    }
}

/// Cache and scratch sizes for a generation, checked against the models' context limits.
public func contextCapacity(prompt: Int, maxTokens: Int, lookahead: Int, models: [ModelConfig]) -> Int {
    let needed = prompt + maxTokens + lookahead + 1
    let limit = models.map(\.maxContext).min() ?? needed
    if needed > limit { // fatalError: its message survives -O builds, a precondition's does not
        fatalError("prompt \(prompt) + \(maxTokens) tokens + lookahead \(lookahead) exceeds max_context \(limit)")
    }
    return needed
}
