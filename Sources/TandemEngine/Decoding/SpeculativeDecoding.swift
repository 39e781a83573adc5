import Dispatch

/// Speculative decoding (SPEED): the drafter proposes up to gamma tokens, the primary verifies
/// the pending token plus the drafts in one block, the accepted prefix plus one primary token
/// is committed and both caches roll back past the first rejection. With a `TandemDrafter`
/// this is `tandem-speed` (committed positions' secondary K/V rewritten from the projected
/// primary states of the same verification pass), with a `PlainDrafter` it is `speed`.
public struct SpeculativeDecoding: DecodingStrategy {
    public var name: String { drafter is TandemDrafter ? "tandem-speed" : "speed" }
    public let primary: Transformer
    public let drafter: Drafter
    public var policy: BlockPolicy
    public var rule: AcceptanceRule
    public let parameters: SamplingParameters
    var draftGenerator: SeededGenerator
    public private(set) var telemetry = DecodingTelemetry(strategy: "speed")
    /// The primary's cache after the last `generate` (for inspection and tests).
    public private(set) var primaryCache: KeyValueCache?
    /// The primary's threads and timers in this run (the drafter's are in its state).
    public let primarySettings: ForwardSettings

    /// `parameters` shape the drafter's distribution q exactly as the rule shapes p.
    /// `primarySettings`: default the primary's planned threads, no timers.
    public init(primary: Transformer, drafter: Drafter, policy: BlockPolicy, rule: AcceptanceRule,
                parameters: SamplingParameters, seed: UInt64, primarySettings: ForwardSettings? = nil) {
        self.primary = primary
        self.primarySettings = primarySettings ?? primary.defaultSettings
        self.drafter = drafter
        self.policy = policy
        self.rule = rule
        self.parameters = parameters
        draftGenerator = SeededGenerator(seed: seed ^ 0xD4AF_7000)
    }

    public mutating func generate(prompt: [Int], maxTokens: Int, stopToken: Int?) -> [Int] {
        precondition(!prompt.isEmpty && maxTokens >= 1)
        telemetry = DecodingTelemetry(strategy: name)
        telemetry.promptTokens = prompt.count
        let capacity = drafter.cache.capacity
        let lookahead = policy.gammaMax
        if prompt.count + maxTokens + lookahead + 1 > capacity { // fatalError: the message survives -O
            fatalError("generation exceeds the context capacity \(capacity)")
        }
        let cache = primary.makeCache(capacity: capacity)
        primaryCache = cache
        let state = primary.makeState(maxTokens: max(prompt.count, lookahead + 1), contextCapacity: capacity,
                                      settings: primarySettings)
        (drafter as? TandemDrafter)?.tandem.requestCaptures(state)
        let profiler = primarySettings.profiler
        var clock = PhaseClock(profiler: profiler)
        let start = DispatchTime.now().uptimeNanoseconds
        clock.enter(.prefill, telemetry: &telemetry)
        primary.forward(prompt, cache: cache, state: state)
        drafter.prefill(prompt: prompt, primaryState: state)
        var committed = prompt + [rule.primaryToken(primaryLogits: state.logits(prompt.count - 1))]
        let decodeStart = DispatchTime.now().uptimeNanoseconds
        telemetry.prefillNanoseconds = decodeStart - start

        var drafts: [Int] = [], distributions: [[Double]] = []
        var stopped = stopLength(committed, from: prompt.count, stopToken: stopToken) != nil
        while !stopped && committed.count - prompt.count < maxTokens {
            // Draft: never more than the tokens still wanted, minus the primary's own token.
            clock.enter(.draft, telemetry: &telemetry)
            drafts.removeAll(keepingCapacity: true)
            distributions.removeAll(keepingCapacity: true)
            let roundMax = policy.maxDrafts
            let budget = min(roundMax, maxTokens - (committed.count - prompt.count) - 1)
            if budget > 0 {
                var stepStart = DispatchTime.now().uptimeNanoseconds
                var logits = drafter.advance(committed)
                telemetry.recordDraftStep(position: 1, nanoseconds: DispatchTime.now().uptimeNanoseconds - stepStart)
                for position in 1...budget {
                    profiler?.mark()
                    let q = parameters.distribution(logits)
                    let token = parameters.isGreedy ? SamplingParameters.argmax(logits)
                        : SeededSampler.draw(from: q, using: &draftGenerator)
                    let keep = policy.keepsDraft(position: position, logits: logits, drafter: drafter.model)
                    profiler?.lap(model: drafter.state.settings.profilerModel, layer: -1, .sampling, tokens: 1)
                    if !keep { break }
                    drafts.append(token)
                    distributions.append(q)
                    if position < budget {
                        stepStart = DispatchTime.now().uptimeNanoseconds
                        logits = drafter.step(token)
                        telemetry.recordDraftStep(position: position + 1,
                                                  nanoseconds: DispatchTime.now().uptimeNanoseconds - stepStart)
                    }
                }
            }
            // Verify the pending token and the drafts in one primary pass.
            clock.enter(.verify, telemetry: &telemetry)
            let verifyStart = cache.length
            primary.forward([committed.last!] + drafts, cache: cache, state: state)
            profiler?.mark()
            var accepted = 0
            var next: Int?
            for (position, token) in drafts.enumerated() {
                switch rule.verify(token: token, draftDistribution: distributions[position],
                                   primaryLogits: state.logits(position), position: position) {
                case .accept: accepted += 1
                case .reject(let correction): next = correction
                }
                if next != nil { break }
            }
            let final = next ?? rule.primaryToken(primaryLogits: state.logits(drafts.count))
            profiler?.lap(model: primarySettings.profilerModel, layer: -1, .sampling, tokens: drafts.count + 1)
            // Commit: keep the pending token and the accepted drafts in both caches.
            clock.enter(.commit, telemetry: &telemetry)
            profiler?.mark()
            cache.truncate(to: verifyStart + 1 + accepted)
            profiler?.lap(model: primarySettings.profilerModel, layer: -1, .cache, tokens: 0)
            drafter.commit(kept: 1 + accepted, verifiedAt: verifyStart, primaryState: state)
            let roundStart = committed.count
            committed += drafts.prefix(accepted)
            committed.append(final)
            if let end = stopLength(committed, from: roundStart, stopToken: stopToken) {
                committed.removeSubrange(end...)
                stopped = true
            }
            // Accepted drafts after a stop token are dropped, so they do not count as accepted.
            let kept = min(accepted, committed.count - roundStart)
            telemetry.recordRound(drafted: drafts.count, accepted: kept, fullBlock: roundMax)
            policy.update(drafted: drafts.count, accepted: accepted)
        }
        clock.enter(nil, telemetry: &telemetry)
        telemetry.decodeNanoseconds = DispatchTime.now().uptimeNanoseconds - decodeStart
        let output = Array(committed[prompt.count...].prefix(maxTokens))
        telemetry.generatedTokens = output.count
        return output
    }
}
