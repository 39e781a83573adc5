import TandemAnalysis
import TandemEngine
import TandemReport

/// Profile: the forward-pass cost of every model over the grid of block sizes and contexts,
/// per layer and component; the tandem projection cost; and the per-round and per-token
/// overheads of the decoding loops. Writes raw samples (profile_*.csv) for calibration.
public enum ProfileStage {
    public static let samplesFile = "profile_samples.csv"
    public static let layersFile = "profile_layers.csv"
    public static let overheadsFile = "profile_overheads.csv"
    public static let limitsFile = "machine_limits.csv"
    public static let acceptanceFile = "profile_acceptance.csv"
    public static let policiesFile = "profile_policies.csv"
    /// The primary-alone loop's cost per token in the profile's own autoregressive runs (the
    /// a-priori prediction prices the sweep's baselines by it). Optional: older profiles lack it.
    public static let baselineFile = "profile_baseline.csv"
    /// Each secondary's draft steps timed inside real rounds (the a-priori prediction prices
    /// drafting by them). Optional: older profiles lack it.
    public static let draftStepsFile = "profile_draft_steps.csv"

    public static func isComplete(_ context: RunContext) -> Bool {
        [samplesFile, layersFile, overheadsFile, limitsFile, acceptanceFile, policiesFile]
            .allSatisfy { context.exists($0) }
    }

    /// What an interrupted profile leaves: nothing of its own (its files are written together at
    /// the end, so a half profile is never mistaken for a whole one).
    static let unsaved = "the profile is written only when complete, so --resume profiles again"

    public static func run(_ context: RunContext) throws {
        let scenario = context.scenario, settings = scenario.profile
        context.log("profile: machine limits...")
        let limits = MachineLimits.measure(threads: context.primary.plannedThreads, repeats: 3)
        let limitsRecord = MachineLimitsRecord(threads: limits.threads, peakGigaflops: limits.peakFlops / 1e9,
                                               dramReadGigabytesPerSecond: limits.bandwidth / 1e9)
        var samples: [ProfileSample] = []
        var layers: [ProfileLayerSample] = []
        // (name, model, block sizes, phase label of its blocks)
        var targets: [(String, Transformer, [Int])] = [("primary", context.primary, settings.tokens)]
        for secondary in context.secondaries { targets.append((secondary.name, secondary.model, [1, 2])) }
        let totalRounds = targets.count * settings.contexts.count * (settings.warmup + settings.repeats)
        var done = 0
        context.progress(0, totalRounds, "profile")
        // A secondary's first step of a round follows the primary's verification, which streams
        // the primary's weights and its KV cache through the caches: that step runs cold and the
        // rest warm. Both are timed: "forward_cold" right after an untimed primary pass as in a
        // round (a verify block of the largest profiled size at the first profiled context),
        // "forward" two steps later.
        let flusher = context.primary
        let flushContext = settings.contexts.first ?? 0, flushTokens = settings.tokens.max() ?? 1
        let flushCache = flusher.makeCache(capacity: flushContext + flushTokens)
        let flushState = flusher.makeState(maxTokens: max(flushContext, flushTokens, 1),
                                           contextCapacity: flushContext + flushTokens)
        if flushContext > 0 {
            flusher.forward(Array(repeating: 1, count: flushContext), cache: flushCache, state: flushState)
        }
        func flush() {
            flusher.forward(Array(repeating: 2, count: flushTokens), cache: flushCache, state: flushState)
            flushCache.truncate(to: flushContext)
        }
        for (name, model, tokenGrid) in targets {
            let isPrimary = model === context.primary
            let profiler = LayerProfiler(models: [(name, model.config.layerCount)])
            let maxTokens = tokenGrid.max()!
            // Every context keeps its own prefilled cache, and each round visits every context
            // and every block size (alternating the order of block sizes), so slow drift of the
            // machine spreads over all cells instead of biasing the context slope or the levels.
            let vocabulary = UInt64(model.config.vocabularySize)
            var cells: [(c: Int, cache: ContiguousKeyValueCache, state: ForwardState, generator: SeededGenerator)] = []
            for c in settings.contexts {
                let cache = model.makeCache(capacity: c + maxTokens + 1)
                let state = model.makeState(maxTokens: max(maxTokens, c, 1), contextCapacity: c + maxTokens + 1)
                var generator = SeededGenerator(seed: scenario.seed &+ UInt64(c))
                if c > 0 {
                    model.forward((0..<c).map { _ in Int(generator.next() % vocabulary) }, cache: cache, state: state)
                }
                cells.append((c, cache, state, generator))
            }
            for round in 0..<(settings.warmup + settings.repeats) {
                for cellIndex in cells.indices {
                    try context.checkStop(stage: "profile", saved: unsaved)
                    let (c, cache, state) = (cells[cellIndex].c, cells[cellIndex].cache, cells[cellIndex].state)
                    for n in round % 2 == 0 ? tokenGrid : tokenGrid.reversed() {
                        for quantity in isPrimary ? ["forward"] : ["forward_cold", "forward"] {
                            if quantity == "forward_cold" { flush() }
                            if quantity == "forward" && !isPrimary {
                                // Untimed second step: the warm cost is that of the third on.
                                model.forward([0], cache: cache, state: state)
                                cache.truncate(to: c)
                            }
                            let block = (0..<n).map { _ in Int(cells[cellIndex].generator.next() % vocabulary) }
                            profiler.reset()
                            profiler.phase = isPrimary ? (n == 1 ? .decode : .verify) : .draft
                            let seconds: Double
                            if isPrimary {
                                // `passes` back to back, timed together (see ProfileSettings.passes),
                                // then (recorded rounds) one pass with the layer timers, not in the sample.
                                seconds = elapsedSeconds {
                                    for _ in 0..<settings.passes {
                                        model.forward(block, cache: cache, state: state)
                                        cache.truncate(to: c)
                                    }
                                } / Double(settings.passes)
                                if round >= settings.warmup {
                                    state.settings.profiler = profiler
                                    model.forward(block, cache: cache, state: state)
                                }
                            } else {
                                state.settings.profiler = quantity == "forward" ? profiler : nil
                                seconds = elapsedSeconds { model.forward(block, cache: cache, state: state) }
                            }
                            state.settings.profiler = nil
                            cache.truncate(to: c)
                            guard round >= settings.warmup else { continue }
                            let repeatIndex = round - settings.warmup
                            samples.append(ProfileSample(model: name, quantity: quantity, tokens: n, context: c,
                                                         repeatIndex: repeatIndex,
                                                         nanoseconds: (seconds * 1e9).rounded()))
                            guard quantity == "forward" else { continue }
                            for record in profiler.records {
                                layers.append(ProfileLayerSample(
                                    model: name, layer: record.layer, component: record.component.name,
                                    phase: record.phase.name, tokens: n, context: c, repeatIndex: repeatIndex,
                                    nanoseconds: Double(record.slot.nanoseconds)))
                            }
                        }
                    }
                    done += 1
                    context.progress(done, totalRounds, "profile")
                }
            }
        }
        try context.checkStop(stage: "profile", saved: unsaved)
        try profileProjections(context, into: &samples)
        try context.checkStop(stage: "profile", saved: unsaved)
        var (overheads, baselineRuns) = try profileOverheads(context)
        try context.checkStop(stage: "profile", saved: unsaved)
        overheads += try profileJudges(context)
        try context.checkStop(stage: "profile", saved: unsaved)
        let acceptance = try profileAcceptance(context)
        try context.checkStop(stage: "profile", saved: unsaved)
        let policies = try profilePolicies(context)
        try context.checkStop(stage: "profile", saved: unsaved)
        let draftSteps = try profileDraftSteps(context)
        try context.write([limitsRecord], to: limitsFile)
        try context.write(samples, to: samplesFile)
        try context.write(layers, to: layersFile)
        try context.write(overheads, to: overheadsFile)
        try context.write(baselineRuns, to: baselineFile)
        try context.write(acceptance, to: acceptanceFile)
        try context.write(policies, to: policiesFile)
        try context.write(draftSteps, to: draftStepsFile)
    }

    /// Each adaptive-policy sweep point run once, as the sweep will run it (plan, models,
    /// router, tokens, context, threads) but with a seed of its own: the draft lengths and
    /// acceptance the policy produces, for the a-priori prediction. Timings are not kept.
    static func profilePolicies(_ context: RunContext) throws -> [ProfilePolicyRun] {
        let scenario = context.scenario, sweep = scenario.sweep
        var records: [ProfilePolicyRun] = []
        for point in SweepStage.points(scenario) where point.policy != .fixed {
            try context.checkStop(stage: "profile", saved: unsaved)
            let plan = SweepStage.plan(point, sweep)
            let models = try SweepStage.models(point, context)
            let prompt = ModelFactory.prompt(sweep.prompt, length: point.context, tokenizer: context.tokenizer)
            // The sweep's runs use seed + offset + round (round < warmup + repeats); this one
            // lies past them, so the profile never replays a measured run.
            let seed = scenario.seed &+ point.seedOffset &+ UInt64(sweep.warmup + sweep.repeats + 1000)
            var decoding = try DecodingFactory.strategy(plan, models: models, seed: seed,
                                                        capacity: point.context + sweep.tokens + plan.lookahead + 1,
                                                        settings: DecodingSettings(threads: point.threads))
            _ = decoding.generate(prompt: prompt, maxTokens: sweep.tokens)
            let t = decoding.telemetry
            records.append(ProfilePolicyRun(point: point, rounds: t.rounds, accepted: t.accepted,
                                            committed: t.generatedTokens - 1,
                                            draftLengthHistogram: t.draftLengthHistogram))
        }
        if !records.isEmpty { context.log("profile: \(records.count) adaptive-policy point(s) run once") }
        return records
    }

    /// Each secondary's draft steps timed inside real rounds: `repeats` fixed-policy runs of the
    /// first speculative strategy that drafts with it, at the sweep's largest gamma, at each of
    /// its contexts (a step's cost grows with the context faster than the isolated steps' fit
    /// says: context-length's s2 drafted 38% slower at 512 than at 32, its fit said 16%), its
    /// tokens, threads and first acceptance (oracle alphas or the models'). An isolated step
    /// is not what a round pays: after a verification pass the secondary needs several steps to
    /// warm up again, and the profile's isolated third step (280 us for quickstart's s10) sat
    /// at 0.6x the sweep probes' (450-500 us), while steps 5 on ran at 240-280 us.
    static func profileDraftSteps(_ context: RunContext) throws -> [ProfileDraftSteps] {
        let scenario = context.scenario, sweep = scenario.sweep
        guard let gamma = sweep.gammas.max() else { return [] }
        let threads = sweep.threads.first ?? 1
        let listed = sweep.secondaries.compactMap { scenario.secondary(named: $0) }
        let contexts = sweep.contexts.isEmpty ? [64] : sweep.contexts
        var records: [ProfileDraftSteps] = []
        for secondary in context.secondaries {
            guard let strategy = sweep.strategies.first(where: { strategy in
                strategy.isSpeculative && SweepSettings.drafters(for: strategy, among: listed)
                    .contains { $0.name == secondary.name }
            }) else { continue }
            let plan = DecodingPlan(strategy: strategy, policy: .fixed, gamma: gamma, gammaMax: gamma,
                                    minimumProbability: sweep.pMin, tau: sweep.tau, sampling: sweep.sampling,
                                    oracleAlphas: sweep.alphas.first, oracleSampling: sweep.oracleSampling)
            let models = DecodingModelSet(primary: context.primary, secondary: secondary.model,
                                          tandem: secondary.tandem, router: nil)
            // One run at context c: its steps by position.
            func run(context c: Int, repeatIndex: Int) throws {
                let tokens = min(sweep.tokens, context.primary.config.maxContext - c - gamma - 2)
                let prompt = ModelFactory.prompt(sweep.prompt, length: c, tokenizer: context.tokenizer)
                var decoding = try DecodingFactory.strategy(plan, models: models,
                                                            seed: scenario.seed &+ 7 &+ UInt64(repeatIndex),
                                                            capacity: c + tokens + plan.lookahead + 1,
                                                            settings: DecodingSettings(threads: threads))
                _ = decoding.generate(prompt: prompt, maxTokens: tokens)
                let t = decoding.telemetry
                for (index, steps) in t.draftStepsByPosition.enumerated() where steps > 0 {
                    records.append(ProfileDraftSteps(
                        secondary: secondary.name, strategy: strategy, gamma: gamma, context: c, tokens: tokens,
                        repeatIndex: repeatIndex, position: index + 1, steps: steps,
                        nanoseconds: Double(t.draftStepNanosecondsByPosition[index])))
                }
            }
            for c in contexts {
                for repeatIndex in 0..<max(sweep.repeats, 1) {
                    try context.checkStop(stage: "profile", saved: unsaved)
                    try run(context: c, repeatIndex: repeatIndex)
                }
            }
        }
        if !records.isEmpty { context.log("profile: draft steps timed inside rounds (gamma \(gamma))") }
        return records
    }

    /// Model mode: each drafter's acceptance per position, measured once here (fixed policy at
    /// the largest gamma, the sweep's sampling, prompt and tokens at its first context)
    /// so the a-priori prediction needs nothing from the sweep. Empty in oracle mode.
    static func profileAcceptance(_ context: RunContext) throws -> [ProfileAcceptance] {
        let scenario = context.scenario, sweep = scenario.sweep
        guard sweep.alphas.isEmpty, let gamma = sweep.gammas.max() else { return [] }
        let c = sweep.contexts.first ?? 64
        let prompt = ModelFactory.prompt(sweep.prompt, length: c, tokenizer: context.tokenizer)
        // The sweep's own run length: acceptance drifts along a generation (a greedy byte model
        // settles into loops), so twice the tokens measured 0.32 at position 1 where the sweep's
        // 192-token runs accept 0.46 (paper-tiny), and the prior under-predicted every point.
        let tokens = min(sweep.tokens, context.primary.config.maxContext - c - gamma - 2)
        var records: [ProfileAcceptance] = []
        for strategy in sweep.strategies where strategy.isSpeculative {
            let listed = sweep.secondaries.compactMap { scenario.secondary(named: $0) }
            for definition in SweepSettings.drafters(for: strategy, among: listed) {
                let secondary = context.secondary(definition.name)
                let plan = DecodingPlan(strategy: strategy, policy: .fixed, gamma: gamma, gammaMax: gamma,
                                        minimumProbability: sweep.pMin, tau: sweep.tau, sampling: sweep.sampling,
                                        oracleAlphas: nil)
                let models = DecodingModelSet(primary: context.primary, secondary: secondary.model,
                                              tandem: secondary.tandem, router: nil)
                var decoding = try DecodingFactory.strategy(plan, models: models, seed: scenario.seed &+ 5,
                                                            capacity: c + tokens + plan.lookahead + 1)
                _ = decoding.generate(prompt: prompt, maxTokens: tokens)
                let t = decoding.telemetry
                for position in t.judgedByPosition.indices {
                    records.append(ProfileAcceptance(strategy: strategy, secondary: definition.name,
                                                     position: position + 1, judged: t.judgedByPosition[position],
                                                     accepted: t.acceptedByPosition[position]))
                }
                context.log("profile: \(strategy.rawValue) with \(definition.name): acceptance "
                            + String(format: "%.3f", t.acceptanceRate ?? 0) + " over \(t.drafted) drafts")
            }
        }
        return records
    }

    /// The quantity under which a policy's cost of judging one candidate is recorded, or nil for
    /// policies that do not judge candidates (fixed, heuristic).
    static func judgeQuantity(_ policy: PolicyKind) -> String? {
        PolicyRounds.judgedCap(policy, gamma: 1) == nil ? nil : "judge_" + policy.rawValue
    }

    /// Each judging policy of the sweep (confidence, router) deciding on a candidate of each
    /// secondary: the mean time of one `keepsDraft` over 64 calls on the secondary's own logits,
    /// per repeat. Every candidate a round drafts is judged, so the prediction charges it per
    /// secondary step (in the draft phase, beside the step itself).
    static func profileJudges(_ context: RunContext) throws -> [ProfileOverhead] {
        let scenario = context.scenario, sweep = scenario.sweep, settings = scenario.profile
        var records: [ProfileOverhead] = []
        let prompt = ModelFactory.prompt(sweep.prompt, length: 16, tokenizer: context.tokenizer)
        let gamma = sweep.gammas.max() ?? 1
        for secondary in context.secondaries {
            let model = secondary.model
            let state = model.makeState(maxTokens: prompt.count, contextCapacity: prompt.count + 1)
            model.forward(prompt, cache: model.makeCache(capacity: prompt.count + 1), state: state)
            let logits = state.logits(prompt.count - 1)
            for policyKind in sweep.policies {
                guard let quantity = judgeQuantity(policyKind) else { continue }
                let router = policyKind == .router ? try SweepStage.router(for: secondary, scenario) : nil
                let plan = DecodingPlan(strategy: .speed, policy: policyKind, gamma: gamma, gammaMax: gamma,
                                        minimumProbability: sweep.pMin, tau: sweep.tau, sampling: sweep.sampling,
                                        oracleAlphas: nil)
                var policy = DecodingFactory.policy(plan, router: router)
                var kept = 0
                for round in 0..<(settings.warmup + settings.repeats) {
                    let calls = 64
                    let seconds = elapsedSeconds {
                        for position in 1...calls {
                            if policy.keepsDraft(position: (position - 1) % gamma + 1, logits: logits,
                                                 drafter: model) { kept += 1 }
                        }
                    }
                    guard round >= settings.warmup else { continue }
                    records.append(ProfileOverhead(model: secondary.name, quantity: quantity,
                                                   repeatIndex: round - settings.warmup,
                                                   nanoseconds: (seconds * 1e9 / Double(calls)).rounded()))
                }
                withExtendedLifetime(kept) {}
            }
        }
        return records
    }

    /// T_P(n): writing n projected primary states into a tandem secondary's cache at each context.
    static func profileProjections(_ context: RunContext, into samples: inout [ProfileSample]) throws {
        let settings = context.scenario.profile
        let primary = context.primary
        let maxTokens = settings.tokens.max()!
        for secondary in context.secondaries {
            guard let tandem = secondary.tandem else { continue }
            let state = primary.makeState(maxTokens: maxTokens, contextCapacity: maxTokens + 1)
            let flushCache = primary.makeCache(capacity: 4)
            let flushState = primary.makeState(maxTokens: 1, contextCapacity: 4)
            tandem.requestCaptures(state)
            primary.forward((0..<maxTokens).map { $0 % primary.config.vocabularySize },
                            cache: primary.makeCache(capacity: maxTokens + 1), state: state)
            for c in settings.contexts {
                let cache = secondary.model.makeCache(capacity: c + maxTokens + 1)
                cache.extend(by: c) // contents do not affect the cost
                for round in 0..<(settings.warmup + settings.repeats) {
                    for n in settings.tokens {
                        // The commit follows a verification pass: time it after one (cold).
                        primary.forward((0..<1).map { $0 }, cache: flushCache, state: flushState)
                        flushCache.truncate(to: 0)
                        let seconds = elapsedSeconds {
                            tandem.writeProjectedEntries(from: state, rows: 0..<n, at: c, cache: cache)
                        }
                        if round >= settings.warmup {
                            samples.append(ProfileSample(model: secondary.name, quantity: "projection", tokens: n,
                                                         context: c, repeatIndex: round - settings.warmup,
                                                         nanoseconds: (seconds * 1e9).rounded()))
                        }
                    }
                }
            }
        }
    }

    /// Loop overheads: wall time not spent in model compute, per token of the primary-alone
    /// loop and per round of SPEED (oracle alpha 0.6, gamma 3), at the first sweep context.
    static func profileOverheads(_ context: RunContext) throws -> ([ProfileOverhead], [ProfileBaselineRun]) {
        let scenario = context.scenario, settings = scenario.profile
        let c = max(scenario.sweep.contexts.first ?? 16, 1)
        let prompt = ModelFactory.prompt(scenario.sweep.prompt, length: c, tokenizer: context.tokenizer)
        let tokens = 24, capacity = c + tokens + 8
        var table: [ProfileOverhead] = []
        var baselineRuns: [ProfileBaselineRun] = []
        let compute: Set<Component> = [.embedding, .norm, .attentionProjection, .attentionScores, .feedForward,
                                       .tandemProjection, .lmHead]
        for target in [nil] + context.secondaries.map(Optional.some) {
            let profiler = LayerProfiler(models: [("primary", context.primary.config.layerCount),
                                                  ("secondary", target?.model.config.layerCount ?? 1)])
            let runSettings = DecodingSettings(threads: context.primary.plannedThreads, profiler: profiler)
            for round in 0..<(settings.warmup + settings.repeats) {
                profiler.reset()
                var strategy: DecodingStrategy
                if let target {
                    let drafter: Drafter = target.tandem.map {
                        TandemDrafter(tandem: $0, contextCapacity: capacity, maxTokens: 8,
                                      settings: runSettings.secondary)
                    } ?? PlainDrafter(model: target.model, contextCapacity: capacity, maxTokens: 8,
                                      settings: runSettings.secondary)
                    strategy = SpeculativeDecoding(primary: context.primary, drafter: drafter,
                                                   policy: FixedPolicy(gamma: 3),
                                                   rule: OracleAcceptance(alphas: [0.6], parameters: .greedy,
                                                                          seed: UInt64(round),
                                                                          sampling: .independent),
                                                   parameters: .greedy, seed: UInt64(round),
                                                   primarySettings: runSettings.primary)
                } else {
                    strategy = AutoregressiveDecoding(name: "primary", model: context.primary, parameters: .greedy,
                                                      seed: 0, settings: runSettings.primary)
                }
                _ = strategy.generate(prompt: prompt, maxTokens: tokens)
                guard round >= settings.warmup else { continue }
                let telemetry = strategy.telemetry
                let computeNanoseconds = profiler.records
                    .filter { $0.phase != .prefill && compute.contains($0.component) }
                    .reduce(0.0) { $0 + Double($1.slot.nanoseconds) }
                let loops = target == nil ? telemetry.generatedTokens - 1 : telemetry.rounds
                let overhead = (Double(telemetry.decodeNanoseconds) - computeNanoseconds) / Double(max(loops, 1))
                table.append(ProfileOverhead(model: target?.name ?? "primary",
                                             quantity: target == nil ? "token_overhead" : "round_overhead",
                                             repeatIndex: round - settings.warmup, nanoseconds: overhead.rounded()))
            }
        }
        // The sweep's baseline as the sweep runs it (no timers, decode steps back to back) and, right
        // beside it (alternating which goes first), isolated decode steps at the middle of its
        // contexts: their difference is the loop's own excess, paired, so drift of the machine
        // between the grid above and these runs cancels instead of passing for loop overhead.
        let threads = context.primary.plannedThreads
        let loops = max(scenario.sweep.tokens - 1, 1)
        let middle = prompt.count + (1 + loops) / 2 // decode steps run at contexts prompt + 1 ... prompt + loops
        let steps = IsolatedDecodeSteps(context.primary, context: middle, threads: threads,
                                        prefix: ModelFactory.prompt(scenario.sweep.prompt, length: middle,
                                                                    tokenizer: context.tokenizer))
        for round in 0..<(settings.warmup + settings.repeats) {
            var telemetry = DecodingTelemetry(strategy: "primary"), isolated = 0.0
            for first in round % 2 == 0 ? [true, false] : [false, true] {
                if first {
                    isolated = steps.meanNanoseconds(count: 16)
                } else {
                    telemetry = SweepStage.runBaseline(threads: threads, context, prompt: prompt)
                }
            }
            guard round >= settings.warmup else { continue }
            let ran = max(telemetry.generatedTokens - 1, 1)
            baselineRuns.append(ProfileBaselineRun(
                repeatIndex: round - settings.warmup, firstContext: prompt.count + 1, lastContext: prompt.count + ran,
                nanosecondsPerToken: (Double(telemetry.decodeNanoseconds) / Double(ran)).rounded(),
                isolatedNanosecondsPerToken: isolated.rounded()))
        }
        return (table, baselineRuns)
    }
}

/// Single decode steps of a model at one context, each undone after it is timed (as the profile's
/// grid times its blocks), for pairing with a run of the decoding loop.
struct IsolatedDecodeSteps {
    let model: Transformer
    let context: Int
    let cache: ContiguousKeyValueCache
    let state: ForwardState

    init(_ model: Transformer, context: Int, threads: Int, prefix: [Int]) {
        self.model = model
        self.context = context
        cache = model.makeCache(capacity: context + 1)
        state = model.makeState(maxTokens: max(context, 1), contextCapacity: context + 1,
                                settings: ForwardSettings(threads: threads))
        if context > 0 { model.forward(prefix, cache: cache, state: state) }
    }

    /// The mean of `count` timed decode steps at `context`, nanoseconds (a mean, like the grid's
    /// fitted cells and the loop's time per token).
    func meanNanoseconds(count: Int) -> Double {
        let samples = (0..<count).map { index -> Double in
            let seconds = elapsedSeconds { model.forward([index % model.config.vocabularySize], cache: cache,
                                                         state: state) }
            cache.truncate(to: context)
            return seconds * 1e9
        }
        return Statistics.summarize(samples).mean
    }
}
