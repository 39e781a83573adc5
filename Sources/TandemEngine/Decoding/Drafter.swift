/// The model that proposes draft tokens, with its own cache, kept in step with the primary.
public protocol Drafter: AnyObject {
    var model: Transformer { get }
    var cache: KeyValueCache { get }
    var state: ForwardState { get }
    var kind: String { get }
    /// Called once the primary has prefilled `prompt` (its rows in `primaryState`).
    func prefill(prompt: [Int], primaryState: ForwardState)
    /// The primary verified a block at position `start` (rows of `primaryState`) and keeps the
    /// first `kept` of its positions: roll back past them, and (tandem) rewrite them.
    func commit(kept: Int, verifiedAt start: Int, primaryState: ForwardState)
}

extension Drafter {
    /// Runs every committed token the drafter's cache lacks and returns the logits after the
    /// last one (the distribution of the next draft).
    public func advance(_ committed: [Int]) -> UnsafeBufferPointer<Float> {
        var position = cache.length
        precondition(position < committed.count, "the drafter is already past the committed tokens")
        while position < committed.count {
            let end = min(committed.count, position + state.maxTokens)
            model.forward(committed[position..<end], cache: cache, state: state)
            position = end
        }
        return state.logits(state.tokenCount - 1)
    }

    /// Runs one more draft token (the drafter's cache already holds everything before it) and
    /// returns the logits after it.
    public func step(_ token: Int) -> UnsafeBufferPointer<Float> {
        model.forward(CollectionOfOne(token), cache: cache, state: state)
        return state.logits(0)
    }
}

/// A plain secondary: attends only to itself; prefill is its own forward pass over the prompt.
public final class PlainDrafter: Drafter {
    public let model: Transformer
    public let cache: KeyValueCache
    public let state: ForwardState
    public var kind: String { "plain" }

    /// `settings`: the run's threads and timers (default: the model's planned threads, none).
    public init(model: Transformer, contextCapacity: Int, maxTokens: Int, settings: ForwardSettings? = nil) {
        self.model = model
        cache = model.makeCache(capacity: contextCapacity)
        state = model.makeState(maxTokens: maxTokens, contextCapacity: contextCapacity, settings: settings)
    }

    public func prefill(prompt: [Int], primaryState: ForwardState) {
        cache.truncate(to: 0)
        var start = 0
        while start < prompt.count {
            let end = min(prompt.count, start + state.maxTokens)
            model.forward(prompt[start..<end], cache: cache, state: state)
            start = end
        }
    }

    public func commit(kept: Int, verifiedAt start: Int, primaryState: ForwardState) {
        state.settings.profiler?.mark()
        cache.truncate(to: min(cache.length, start + kept))
        state.settings.profiler?.lap(model: state.settings.profilerModel, layer: -1, .cache, tokens: 0)
    }
}

/// A tandem secondary: positions the primary has processed hold K/V computed from the
/// primary's projected states, rewritten from each verification pass.
public final class TandemDrafter: Drafter {
    public let tandem: TandemSecondary
    public let cache: KeyValueCache
    public let state: ForwardState
    public var model: Transformer { tandem.model }
    public var kind: String { "tandem" }

    /// `settings`: the run's threads and timers (default: the model's planned threads, none).
    public init(tandem: TandemSecondary, contextCapacity: Int, maxTokens: Int, settings: ForwardSettings? = nil) {
        self.tandem = tandem
        cache = tandem.model.makeCache(capacity: contextCapacity)
        state = tandem.model.makeState(maxTokens: maxTokens, contextCapacity: contextCapacity, settings: settings)
    }

    public func prefill(prompt: [Int], primaryState: ForwardState) {
        cache.truncate(to: 0)
        tandem.writeProjectedEntries(from: primaryState, rows: 0..<prompt.count, at: 0, cache: cache,
                                     settings: state.settings)
    }

    public func commit(kept: Int, verifiedAt start: Int, primaryState: ForwardState) {
        tandem.writeProjectedEntries(from: primaryState, rows: 0..<kept, at: start, cache: cache,
                                     settings: state.settings)
    }
}
