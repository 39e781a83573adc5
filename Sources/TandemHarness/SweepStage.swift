import Foundation
import TandemAnalysis
import TandemEngine
import TandemReport

/// Sweep: every point's strategy `repeats` times, each run paired with a primary-alone run
/// of the same prompt, token count, context and threads right beside it, in ABBA order
/// (baseline first in even pairs, second in odd ones), so slow drift of the machine cancels
/// within pairs. Each finished point is written durably (the whole file atomically replaced),
/// so an interrupted run resumes where it stopped.
public enum SweepStage {
    public static let runsFile = "sweep_runs.csv"

    public static func points(_ scenario: Scenario) -> [SweepPoint] {
        let sweep = scenario.sweep
        var result: [SweepPoint] = []
        let listed = sweep.secondaries.compactMap { scenario.secondary(named: $0) }
        for strategy in sweep.strategies {
            for policy in (strategy == .tandem ? [.fixed] : sweep.policies) {
                for secondary in SweepSettings.drafters(for: strategy, among: listed).map(\.name) {
                    for gamma in sweep.gammas {
                        let alphaAxis: [[Double]?] = strategy == .tandem || sweep.alphas.isEmpty
                            ? [nil] : sweep.alphas.map(Optional.some)
                        for alphas in alphaAxis {
                            for context in sweep.contexts {
                                for threads in sweep.threads {
                                    result.append(SweepPoint(strategy: strategy, policy: policy, secondary: secondary,
                                                             gamma: gamma, alphas: alphas, context: context,
                                                             threads: threads))
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// The decoding plan of a point: the one mapping of sweep settings onto `DecodingFactory`.
    public static func plan(_ point: SweepPoint, _ sweep: SweepSettings) -> DecodingPlan {
        DecodingPlan(strategy: point.strategy, policy: point.policy, gamma: point.gamma, gammaMax: sweep.gammaMax,
                     minimumProbability: sweep.pMin, tau: sweep.tau, sampling: sweep.sampling,
                     oracleAlphas: point.alphas, oracleSampling: sweep.oracleSampling)
    }

    /// Runs every point not yet in the runs file (all of them unless `resume`).
    public static func run(_ context: RunContext, resume: Bool) throws {
        var runs: [SweepRun] = []
        if resume, let kept = try context.readRecords(SweepRun.self, runsFile) {
            runs = kept
            if !kept.isEmpty {
                context.log("sweep: resuming, \(Set(kept.map(\.point.key)).count) finished point(s) kept")
            }
        }
        let finished = Set(runs.map(\.point.key))
        let all = points(context.scenario)
        let pending = all.filter { !finished.contains($0.key) }
        if !pending.isEmpty { context.progress(all.count - pending.count, all.count, "sweep") }
        for (index, point) in pending.enumerated() {
            try context.checkStop(stage: "sweep", saved: "\(all.count - pending.count + index) of \(all.count) "
                                  + "points are saved in \(context.path(runsFile))")
            runs += try measure(point, context) {
                try context.checkStop(stage: "sweep", saved: "\(all.count - pending.count + index) of "
                                      + "\(all.count) points are saved in \(context.path(runsFile)) (the "
                                      + "point under way is measured again)")
            }
            try context.write(runs, to: runsFile)
            context.progress(all.count - pending.count + index + 1, all.count, "sweep")
        }
    }

    /// One primary-alone run from `prompt` with `threads` threads, as every sweep point's
    /// baseline (and the profile's, which prices them a priori) runs it.
    static func runBaseline(threads: Int, _ context: RunContext, prompt: [Int]) -> DecodingTelemetry {
        let sweep = context.scenario.sweep
        var baseline = AutoregressiveDecoding(name: "primary", model: context.primary, parameters: sweep.sampling,
                                              seed: context.scenario.seed, settings: ForwardSettings(threads: threads))
        _ = baseline.generate(prompt: prompt, maxTokens: sweep.tokens)
        return baseline.telemetry
    }

    /// The models a point's strategy runs with: the primary, its secondary, and for the router
    /// policy the router trained with that secondary, else the scenario's seeded random one (the
    /// same for every run of the point, not one per run seed). The profile's policy runs use it too.
    static func models(_ point: SweepPoint, _ context: RunContext) throws -> DecodingModelSet {
        let scenario = context.scenario, secondary = context.secondary(point.secondary)
        let router = point.policy == .router ? try router(for: secondary, scenario) : nil
        return DecodingModelSet(primary: context.primary, secondary: secondary.model, tandem: secondary.tandem,
                                router: router)
    }

    /// The router a secondary drafts with under the router policy: the one trained with it,
    /// else the scenario's seeded random one.
    static func router(for secondary: BuiltSecondary, _ scenario: Scenario) throws -> Router {
        try RouterStage.trained(scenario, secondary: secondary.name)
            ?? DecodingFactory.defaultRouter(secondaryWidth: secondary.model.config.width, seed: scenario.seed)
    }

    /// Measures one point; `checkStop` runs between its runs (it throws to abandon the point).
    static func measure(_ point: SweepPoint, _ context: RunContext,
                        checkStop: () throws -> Void = {}) throws -> [SweepRun] {
        let scenario = context.scenario, sweep = scenario.sweep
        let secondary = context.secondary(point.secondary)
        // The point's threads are this run's settings (the models are shared by every point).
        let settings = DecodingSettings(threads: point.threads)
        setBLASThreads(point.threads)
        let prompt = ModelFactory.prompt(sweep.prompt, length: point.context, tokenizer: context.tokenizer)
        let plan = plan(point, sweep)
        let capacity = point.context + sweep.tokens + plan.lookahead + 1
        let models = try models(point, context)
        let probe = CostProbe(point, secondary: secondary, context: context, prompt: prompt)
        probe.sample()
        var measured: [(baseline: Double, strategy: Double, baselineFirst: Bool, telemetry: DecodingTelemetry)] = []
        func baselineNanoseconds() -> Double {
            Double(runBaseline(threads: point.threads, context, prompt: prompt).decodeNanoseconds)
        }
        for round in 0..<(sweep.warmup + sweep.repeats) {
            try checkStop()
            let seed = scenario.seed &+ point.seedOffset &+ UInt64(round)
            var strategy = try DecodingFactory.strategy(plan, models: models, seed: seed, capacity: capacity,
                                                        settings: settings)
            let baselineFirst = round % 2 == 0 // B A, A B, B A, ...: ABBA
            var baseline = 0.0
            if baselineFirst { baseline = baselineNanoseconds() }
            _ = strategy.generate(prompt: prompt, maxTokens: sweep.tokens)
            if !baselineFirst { baseline = baselineNanoseconds() }
            probe.sample() // between runs, so the probe sees the machine as the runs do
            guard round >= sweep.warmup else { continue }
            measured.append((baseline, Double(strategy.telemetry.decodeNanoseconds), baselineFirst, strategy.telemetry))
        }
        let local = probe.medians
        return measured.enumerated().map { index, run in
            SweepRun(point: point, repeatIndex: index, tokens: run.telemetry.generatedTokens,
                     baselineNanoseconds: run.baseline, strategyNanoseconds: run.strategy,
                     baselineFirst: run.baselineFirst, telemetry: run.telemetry, probe: local)
        }
    }
}
