import TandemAnalysis
import TandemEngine

/// A sweep point's own cost probe, sampled before and between the point's runs so the
/// prediction sees the machine as the runs do (this machine's speed drifts by tens of percent
/// over minutes). Each sample: the primary's decode step, the ratio of its verify block
/// (gamma + 1 tokens) to the decode step measured back to back (a ratio survives drift that
/// absolute times do not), and the secondary's cold (after a primary pass) and warm (third
/// consecutive) step.
final class CostProbe {
    let primary: Transformer, draft: Transformer
    let gamma: Int, context: Int
    let primaryCache: KeyValueCache, draftCache: KeyValueCache
    let primaryState: ForwardState, draftState: ForwardState
    private var samples: [[Double]] = Array(repeating: [], count: 4)

    init(_ point: SweepPoint, secondary: BuiltSecondary, context runContext: RunContext, prompt: [Int]) {
        primary = runContext.primary
        draft = secondary.model
        gamma = point.gamma
        context = prompt.count
        let capacity = prompt.count + point.gamma + 2, settings = ForwardSettings(threads: point.threads)
        primaryCache = primary.makeCache(capacity: capacity)
        primaryState = primary.makeState(maxTokens: max(prompt.count, point.gamma + 1), contextCapacity: capacity,
                                         settings: settings)
        draftCache = draft.makeCache(capacity: capacity)
        draftState = draft.makeState(maxTokens: prompt.count, contextCapacity: capacity, settings: settings)
        primary.forward(prompt, cache: primaryCache, state: primaryState)
        draft.forward(prompt, cache: draftCache, state: draftState)
    }

    func sample() {
        // The first primary pass after a strategy run finds its weights partly evicted: on a
        // primary that lives in L3 it reads 5-50% slow and would deflate block / one. One
        // untimed pass first, so the ratio compares two warm passes (as the warm draft step).
        // An untimed draft step before it: in a round the drafter's cache and scratch were used
        // one round earlier, and only the primary's passes lie between; the probe's own were
        // last used a whole strategy run ago (paper-tiny: its cold step 24-30 us without this
        // step, 20-23 us with it, 11-14 us in the profile: still high there, see README).
        draft.forward([6], cache: draftCache, state: draftState)
        draftCache.truncate(to: context)
        primary.forward([1], cache: primaryCache, state: primaryState)
        primaryCache.truncate(to: context)
        let one = elapsedSeconds { primary.forward([1], cache: primaryCache, state: primaryState) } * 1e9
        primaryCache.truncate(to: context)
        let block = elapsedSeconds {
            primary.forward(Array(repeating: 2, count: gamma + 1), cache: primaryCache, state: primaryState)
        } * 1e9
        primaryCache.truncate(to: context)
        let cold = elapsedSeconds { draft.forward([3], cache: draftCache, state: draftState) } * 1e9
        draftCache.truncate(to: context)
        // The second step still finds part of the weights outside L3 (Zen 3's L3 fills with what
        // L2 evicts); from the third on a step is as fast as it gets.
        draft.forward([5], cache: draftCache, state: draftState)
        draftCache.truncate(to: context)
        let warm = elapsedSeconds { draft.forward([4], cache: draftCache, state: draftState) } * 1e9
        draftCache.truncate(to: context)
        for (index, value) in [one, block / one, cold, warm].enumerated() { samples[index].append(value) }
    }

    /// Medians of the samples so far.
    var medians: ProbeCosts {
        let m = samples.map { Statistics.summarize($0).median }
        return ProbeCosts(decodeStep: m[0], blockRatio: m[1], secondaryColdStep: m[2], secondaryWarmStep: m[3])
    }
}
