import Dispatch

/// Standalone Tandem (not lossless): per round the primary processes the pending block
/// (its own token plus the secondary's gamma tokens) and predicts the next token; the
/// secondary, attending to the refreshed primary states, then generates gamma tokens.
/// gamma + 1 tokens per round.
public struct StandaloneTandemDecoding: DecodingStrategy {
    public var name: String { "tandem" }
    public let primary: Transformer
    public let drafter: TandemDrafter
    public let gamma: Int
    var primarySampler: SeededSampler
    var secondarySampler: SeededSampler
    public private(set) var telemetry = DecodingTelemetry(strategy: "tandem")
    /// The primary's threads and timers in this run (the secondary's are in the drafter's state).
    public let primarySettings: ForwardSettings

    /// `settings`: default each model's planned threads, no timers.
    public init(primary: Transformer, tandem: TandemSecondary, gamma: Int, parameters: SamplingParameters,
                seed: UInt64, contextCapacity: Int, settings: DecodingSettings? = nil) {
        precondition(gamma >= 1)
        self.primary = primary
        self.gamma = gamma
        primarySettings = settings?.primary ?? primary.defaultSettings
        drafter = TandemDrafter(tandem: tandem, contextCapacity: contextCapacity, maxTokens: gamma + 1,
                                settings: settings?.secondary)
        primarySampler = SeededSampler(parameters: parameters, seed: seed)
        secondarySampler = SeededSampler(parameters: parameters, seed: seed ^ 0x5EC0_4DA7)
    }

    public mutating func generate(prompt: [Int], maxTokens: Int, stopToken: Int?) -> [Int] {
        precondition(!prompt.isEmpty && maxTokens >= 1)
        telemetry = DecodingTelemetry(strategy: name)
        telemetry.promptTokens = prompt.count
        let capacity = drafter.cache.capacity
        if prompt.count + maxTokens + gamma + 1 > capacity { // fatalError: the message survives -O
            fatalError("generation exceeds the context capacity \(capacity)")
        }
        let cache = primary.makeCache(capacity: capacity)
        let state = primary.makeState(maxTokens: max(prompt.count, gamma + 1), contextCapacity: capacity,
                                      settings: primarySettings)
        drafter.tandem.requestCaptures(state)
        var clock = PhaseClock(profiler: primarySettings.profiler)
        let start = DispatchTime.now().uptimeNanoseconds
        clock.enter(.prefill, telemetry: &telemetry)
        primary.forward(prompt, cache: cache, state: state)
        drafter.prefill(prompt: prompt, primaryState: state)
        var committed = prompt + [sample(&primarySampler, state.logits(prompt.count - 1), primarySettings)]
        let decodeStart = DispatchTime.now().uptimeNanoseconds
        telemetry.prefillNanoseconds = decodeStart - start
        var stopped = stopLength(committed, from: prompt.count, stopToken: stopToken) != nil
        while !stopped && committed.count - prompt.count < maxTokens {
            clock.enter(.draft, telemetry: &telemetry)
            let count = min(gamma, maxTokens - (committed.count - prompt.count))
            var logits = drafter.advance(committed)
            let roundStart = committed.count
            for k in 0..<count {
                committed.append(sample(&secondarySampler, logits, drafter.state.settings))
                if committed.last == stopToken { break }
                if k + 1 < count { logits = drafter.step(committed.last!) }
            }
            telemetry.recordRound(drafted: committed.count - roundStart, accepted: committed.count - roundStart)
            if committed.last == stopToken || committed.count - prompt.count >= maxTokens { break }
            clock.enter(.verify, telemetry: &telemetry)
            let blockStart = cache.length
            let block = Array(committed[blockStart...])
            primary.forward(block, cache: cache, state: state)
            let next = sample(&primarySampler, state.logits(block.count - 1), primarySettings)
            clock.enter(.commit, telemetry: &telemetry)
            drafter.commit(kept: block.count, verifiedAt: blockStart, primaryState: state)
            committed.append(next)
            stopped = next == stopToken
        }
        clock.enter(nil, telemetry: &telemetry)
        telemetry.decodeNanoseconds = DispatchTime.now().uptimeNanoseconds - decodeStart
        let output = Array(committed[prompt.count...].prefix(maxTokens))
        telemetry.generatedTokens = output.count
        return output
    }

    private func sample(_ sampler: inout SeededSampler, _ logits: UnsafeBufferPointer<Float>,
                        _ settings: ForwardSettings) -> Int {
        settings.profiler?.mark()
        let token = sampler.sample(logits)
        settings.profiler?.lap(model: settings.profilerModel, layer: -1, .sampling, tokens: 1)
        return token
    }
}
