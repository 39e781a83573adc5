import Dispatch

/// One model alone, one token per forward pass: the `primary` baseline, or the `secondary`
/// alone (attending only to itself).
public struct AutoregressiveDecoding: DecodingStrategy {
    public let name: String
    public let model: Transformer
    public var sampler: SeededSampler
    public private(set) var telemetry: DecodingTelemetry
    /// This run's threads and timers (default: the model's planned threads, no timers).
    public let settings: ForwardSettings

    public init(name: String, model: Transformer, parameters: SamplingParameters, seed: UInt64,
                settings: ForwardSettings? = nil) {
        self.name = name
        self.model = model
        self.settings = settings ?? model.defaultSettings
        sampler = SeededSampler(parameters: parameters, seed: seed)
        telemetry = DecodingTelemetry(strategy: name)
    }

    public mutating func generate(prompt: [Int], maxTokens: Int, stopToken: Int?) -> [Int] {
        precondition(!prompt.isEmpty && maxTokens >= 1)
        telemetry = DecodingTelemetry(strategy: name)
        telemetry.promptTokens = prompt.count
        let capacity = contextCapacity(prompt: prompt.count, maxTokens: maxTokens, lookahead: 0, models: [model.config])
        let cache = model.makeCache(capacity: capacity)
        let state = model.makeState(maxTokens: prompt.count, contextCapacity: capacity, settings: settings)
        let profiler = settings.profiler
        var clock = PhaseClock(profiler: profiler)
        let start = DispatchTime.now().uptimeNanoseconds
        clock.enter(.prefill, telemetry: &telemetry)
        model.forward(prompt, cache: cache, state: state)
        var output = [sample(state.logits(prompt.count - 1))]
        let decodeStart = DispatchTime.now().uptimeNanoseconds
        telemetry.prefillNanoseconds = decodeStart - start
        clock.enter(.decode, telemetry: &telemetry)
        while output.count < maxTokens && stopLength(output, from: output.count - 1, stopToken: stopToken) == nil {
            model.forward([output.last!], cache: cache, state: state)
            output.append(sample(state.logits(0)))
            telemetry.rounds += 1
        }
        clock.enter(nil, telemetry: &telemetry)
        telemetry.decodeNanoseconds = DispatchTime.now().uptimeNanoseconds - decodeStart
        telemetry.generatedTokens = output.count
        return output
    }

    private mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int {
        settings.profiler?.mark()
        let token = sampler.sample(logits)
        settings.profiler?.lap(model: settings.profilerModel, layer: -1, .sampling, tokens: 1)
        return token
    }
}
