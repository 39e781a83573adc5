import Foundation
import TandemAnalysis
import TandemEngine
import TandemReport

/// One point of the sweep grid.
public struct SweepPoint: Hashable, Sendable {
    public var strategy: StrategyKind
    public var policy: PolicyKind
    public var secondary: String
    public var gamma: Int
    /// nil: acceptance from the models themselves (model mode).
    public var alphas: [Double]?
    public var context: Int
    public var threads: Int

    public var alphaLabel: String { alphas.map { $0.map { String($0) }.joined(separator: ";") } ?? "model" }
    public var key: String { [strategy.rawValue, policy.rawValue, secondary, String(gamma), alphaLabel, String(context), String(threads)].joined(separator: "|") }

    /// A stable per-point seed offset (FNV-1a of the key).
    var seedOffset: UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }
}

/// Sweep: for every point, the strategy `repeats` times on the same prompt and token count as
/// the primary-alone baseline runs measured beside it (baseline_ns: their rolling mean). Each finished point is written durably (the
/// whole file atomically replaced), so an interrupted run resumes where it stopped.
public enum SweepStage {
    public static let runsFile = "sweep_runs.csv"
    public static let header = ["strategy", "policy", "secondary", "gamma", "alpha", "context", "threads", "repeat", "tokens",
                                "baseline_ns", "strategy_ns", "rounds", "drafted", "accepted", "drafted_by_position",
                                "judged_by_position", "accepted_by_position", "full_round_histogram",
                                "local_primary_one_ns", "local_block_ratio", "local_secondary_cold_ns", "local_secondary_warm_ns"]

    public static func points(_ scenario: Scenario) -> [SweepPoint] {
        let sweep = scenario.sweep
        var result: [SweepPoint] = []
        let listed = sweep.secondaries.compactMap { scenario.secondary(named: $0) }
        for strategy in sweep.strategies {
            for policy in (strategy == .tandem ? [.fixed] : sweep.policies) {
                for secondary in SweepSettings.drafters(for: strategy, among: listed).map(\.name) {
                    for gamma in sweep.gammas {
                        let alphaAxis: [[Double]?] = strategy == .tandem || sweep.alphas.isEmpty ? [nil] : sweep.alphas.map(Optional.some)
                        for alphas in alphaAxis {
                            for context in sweep.contexts {
                                for threads in sweep.threads {
                                    result.append(SweepPoint(strategy: strategy, policy: policy, secondary: secondary, gamma: gamma,
                                                             alphas: alphas, context: context, threads: threads))
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// Runs every point not yet in runs file (all of them unless `resume`).
    public static func run(_ context: RunContext, resume: Bool) throws {
        let scenario = context.scenario
        var table = CSVTable(header: header)
        var finished = Set<String>()
        if resume, let rows = context.readTable(runsFile) {
            for row in rows where row.count == header.count {
                table.appendRaw(row)
                finished.insert(row[0..<7].joined(separator: "|"))
            }
            if !finished.isEmpty { context.log("sweep: resuming, \(finished.count) finished point(s) kept") }
        }
        let all = points(scenario)
        let pending = all.filter { !finished.contains($0.key) }
        if !pending.isEmpty { context.progress(all.count - pending.count, all.count, "sweep") }
        // Primary-alone runs: one every `baseline_every` points per (context, threads), each
        // point compared with the mean of the latest `baselineWindow` of them (three filled
        // at the start), so drift over the sweep cancels and no run is wasted.
        var windows: [String: [Int]] = [:]
        for (index, point) in pending.enumerated() {
            let windowKey = "\(point.context)|\(point.threads)"
            var window = windows[windowKey] ?? []
            let due = window.isEmpty ? baselineWindow : (index % scenario.sweep.baselineEvery == 0 ? 1 : 0)
            for _ in 0..<due { window.append(runBaseline(point, context)) }
            window = Array(window.suffix(baselineWindow))
            windows[windowKey] = window
            let rows = try measure(point, context, baseline: window.reduce(0, +) / window.count)
            for row in rows { table.append(row) }
            try context.write(table, to: runsFile)
            context.progress(all.count - pending.count + index + 1, all.count, "sweep")
        }
    }

    static let baselineWindow = 3

    /// One primary-alone run at the point's context and threads: decode nanoseconds.
    static func runBaseline(_ point: SweepPoint, _ context: RunContext) -> Int {
        let sweep = context.scenario.sweep
        context.primary.threads = point.threads
        setBLASThreads(point.threads)
        let prompt = ModelFactory.prompt(sweep.prompt, length: point.context, tokenizer: context.tokenizer)
        var baseline = AutoregressiveDecoding(name: "primary", model: context.primary, parameters: sweep.sampling, seed: context.scenario.seed)
        _ = baseline.generate(prompt: prompt, maxTokens: sweep.tokens)
        return Int(baseline.telemetry.decodeNanoseconds)
    }

    static func measure(_ point: SweepPoint, _ context: RunContext, baseline: Int) throws -> [[CSVValue]] {
        let scenario = context.scenario, sweep = scenario.sweep
        let secondary = context.secondary(point.secondary)
        for model in [context.primary, secondary.model] { model.threads = point.threads }
        setBLASThreads(point.threads)
        let prompt = ModelFactory.prompt(sweep.prompt, length: point.context, tokenizer: context.tokenizer)
        let capacity = point.context + sweep.tokens + max(point.gamma, sweep.gammaMax) + 2
        let probe = CostProbe(point, secondary: secondary, context: context, prompt: prompt)
        probe.sample()
        var runs: [DecodingTelemetry] = []
        for round in 0..<(sweep.warmup + sweep.repeats) {
            let seed = scenario.seed &+ point.seedOffset &+ UInt64(round)
            var strategy = try makeStrategy(point, secondary: secondary, context: context, seed: seed, capacity: capacity)
            _ = strategy.generate(prompt: prompt, maxTokens: sweep.tokens)
            probe.sample() // between runs, so the probe sees the machine as the runs do
            if round >= sweep.warmup { runs.append(strategy.telemetry) }
        }
        let local = probe.medians
        var rows: [[CSVValue]] = []
        for (measured, t) in runs.enumerated() {
            func joined(_ values: [Int]) -> CSVValue { .string(values.map(String.init).joined(separator: ";")) }
            rows.append([.string(point.strategy.rawValue), .string(point.policy.rawValue), .string(point.secondary), .integer(point.gamma),
                         .string(point.alphaLabel), .integer(point.context), .integer(point.threads), .integer(measured),
                         .integer(t.generatedTokens), .integer(baseline),
                         .integer(Int(t.decodeNanoseconds)), .integer(t.rounds), .integer(t.drafted), .integer(t.accepted),
                         joined(t.draftedByPosition), joined(t.judgedByPosition), joined(t.acceptedByPosition), joined(t.fullRoundHistogram)]
                        + [.integer(Int(local.decodeStep)), .real(local.blockRatio), .integer(Int(local.secondaryColdStep)),
                           .integer(Int(local.secondaryWarmStep))])
        }
        return rows
    }

    static func makeStrategy(_ point: SweepPoint, secondary: BuiltSecondary, context: RunContext, seed: UInt64,
                             capacity: Int) throws -> DecodingStrategy {
        let sweep = context.scenario.sweep
        if point.strategy == .tandem {
            return StandaloneTandemDecoding(primary: context.primary, tandem: secondary.tandem!, gamma: point.gamma,
                                            parameters: sweep.sampling, seed: seed, contextCapacity: capacity)
        }
        let lookahead = max(point.gamma, sweep.gammaMax) + 1
        let drafter: Drafter = point.strategy == .tandemSpeed
            ? TandemDrafter(tandem: secondary.tandem!, contextCapacity: capacity, maxTokens: lookahead)
            : PlainDrafter(model: secondary.model, contextCapacity: capacity, maxTokens: lookahead)
        let policy: BlockPolicy
        switch point.policy {
        case .fixed: policy = FixedPolicy(gamma: point.gamma)
        case .confidence: policy = ConfidencePolicy(minimumProbability: sweep.pMin, gammaMax: point.gamma)
        case .heuristic: policy = HeuristicPolicy(initial: point.gamma, gammaMax: sweep.gammaMax)
        case .router:
            // The router trained with this secondary, else seeded random weights.
            let router = try RouterStage.trained(context.scenario, secondary: secondary.name)
                ?? Router.random(topK: 4, hiddenWidth: 32, embeddingWidth: secondary.model.config.width,
                                 seed: context.scenario.seed &+ 3)
            policy = RouterPolicy(router: router, threshold: sweep.tau, gammaMax: point.gamma)
        }
        let rule: AcceptanceRule
        if let alphas = point.alphas { rule = OracleAcceptance(alphas: alphas, parameters: sweep.sampling, seed: seed &+ 17) }
        else if sweep.sampling.isGreedy { rule = GreedyAcceptance() }
        else { rule = SpeculativeSampling(parameters: sweep.sampling, seed: seed &+ 17) }
        return SpeculativeDecoding(primary: context.primary, drafter: drafter, policy: policy, rule: rule,
                                   parameters: sweep.sampling, seed: seed)
    }
}
