import Foundation
import TandemAnalysis
import TandemEngine

/// The measured and predicted outcome of one sweep point.
public struct PointResult {
    public var point: SweepPoint
    public var tokens: Int
    public var rounds: Int
    /// The geometric mean of the pairs' speedups (each strategy run against the primary-alone
    /// run beside it).
    public var measuredSpeedup: Double
    /// 95% t-interval of the pairs' log speedups, exponentiated (n - 1 degrees of freedom).
    public var measuredInterval: (low: Double, high: Double)
    /// The pairs' speedups (arithmetic summary, for the plain t-interval columns).
    public var measured: SampleSummary
    public var meanAccepted: Double           // tokens per round incl. the primary's
    public var judged: [Int], accepted: [Int], drafted: [Int]
    public var fullRoundHistogram: [Int]
    public var acceptance: [Double]           // conditional a_k, pooled over repeats
    public var predicted: Double?
    public var predictedInterval: (low: Double, high: Double)?
    public var predictedFromAlpha: Double?
    /// Predicted before measuring: the profile's calibration alone (no per-point probe) and the
    /// acceptance the user gave (oracle alphas) or the profile stage measured (model mode).
    public var prior: Double?
    public var priorInterval: (low: Double, high: Double)?
    public var leviathan: Double?
    public var relativeError: Double? { predicted.map { ($0 - measuredSpeedup) / measuredSpeedup } }
    public var priorRelativeError: Double? { prior.map { ($0 - measuredSpeedup) / measuredSpeedup } }
    /// Whether a prediction lies inside the measured 95% interval.
    public func covers(_ value: Double?) -> Bool? {
        value.map { $0 >= measuredInterval.low && $0 <= measuredInterval.high }
    }
}

/// Turns raw sweep runs and calibrated costs into measured and predicted speedups.
public enum SweepAnalysis {
    static func add(_ a: inout [Int], _ b: [Int]) {
        if a.count < b.count { a += Array(repeating: 0, count: b.count - a.count) }
        for (i, v) in b.enumerated() { a[i] += v }
    }

    public static func results(_ context: RunContext, costs: CalibratedCosts,
                               monteCarloDraws: Int = 400) throws -> [PointResult] {
        let runs = try context.readRecords(SweepRun.self, SweepStage.runsFile) ?? []
        let profiled = try context.readRecords(ProfileAcceptance.self, ProfileStage.acceptanceFile) ?? []
        let policyRecords = try context.readRecords(ProfilePolicyRun.self, ProfileStage.policiesFile) ?? []
        let policyRuns = Dictionary(policyRecords.map { ($0.point.key, $0) }, uniquingKeysWith: { first, _ in first })
        let scenario = context.scenario
        let byKey = Dictionary(grouping: runs, by: \.point.key)
        var results: [PointResult] = []
        for point in SweepStage.points(scenario) {
            guard let runs = byKey[point.key], !runs.isEmpty else { continue }
            var judged: [Int] = [], accepted: [Int] = [], drafted: [Int] = [], histogram: [Int] = []
            var rounds = 0, committed = 0
            for run in runs {
                rounds += run.rounds
                committed += run.tokens - 1
                add(&drafted, run.draftedByPosition); add(&judged, run.judgedByPosition)
                add(&accepted, run.acceptedByPosition); add(&histogram, run.fullRoundHistogram)
            }
            let tokens = runs[0].tokens
            let decodeTokens = Double(tokens - 1)
            let pairs = runs.map { $0.baselineNanoseconds / $0.strategyNanoseconds }
            let logSummary = Statistics.summarize(pairs.map { log($0) })
            let interval = runs.count > 1 ? (exp(logSummary.confidenceLow), exp(logSummary.confidenceHigh))
                : (exp(logSummary.mean), exp(logSummary.mean))
            let acceptance = AcceptanceEstimate.measured(judged: judged, accepted: accepted).rates
            var result = PointResult(point: point, tokens: tokens, rounds: rounds,
                                     measuredSpeedup: exp(logSummary.mean),
                                     measuredInterval: interval, measured: Statistics.summarize(pairs),
                                     meanAccepted: rounds > 0 ? Double(committed) / Double(rounds) : 0, judged: judged,
                                     accepted: accepted, drafted: drafted, fullRoundHistogram: histogram,
                                     acceptance: acceptance)
            guard costs.secondaries[point.secondary] != nil else {
                results.append(result)
                continue
            }
            let meanContext = point.context + tokens / 2
            let random = RandomSource(seed: scenario.seed &+ point.seedOffset)
            // A priori: the calibrated curves at the runs' mean context, nothing from this point.
            let priorAcceptance = point.alphas.map(AcceptanceEstimate.given)
                ?? profiledAcceptance(profiled, point: point)
            if point.policy == .fixed, let priorAcceptance,
               let prior = costs.prior(strategy: point.strategy, secondary: point.secondary, gamma: point.gamma,
                                       acceptance: priorAcceptance, context: point.context, tokens: tokens,
                                       draws: monteCarloDraws, seed: scenario.seed &+ point.seedOffset &+ 1) {
                result.prior = prior.speedup
                result.priorInterval = prior.interval
            }
            // Probed: the point's own probe rescales the calibrated curves to the machine state
            // during the point; the decode step comes from its primary-alone runs (hundreds of
            // steps) less the loop's per-token overhead, the verify block from the probe's ratio.
            let median = { (value: (SweepRun) -> Double) in Statistics.summarize(runs.map(value)).median }
            let probe = ProbeCosts(decodeStep: median(\.probe.decodeStep), blockRatio: median(\.probe.blockRatio),
                                   secondaryColdStep: median(\.probe.secondaryColdStep),
                                   secondaryWarmStep: median(\.probe.secondaryWarmStep))
            let baselineMean = runs.map(\.baselineNanoseconds).reduce(0, +) / Double(runs.count) / decodeTokens
            // The baseline's step is a mean over the run's contexts; at the probe's context it is
            // shorter by the fitted attention term.
            let decodeStep = baselineMean - costs.tokenOverhead.mean
            let fittedStep = { (c: Int) in
                costs.roundCostsFromFits(secondary: point.secondary, context: c, random: nil).primary(1)
            }
            let local = LocalCosts(probe: probe, baselineStep: decodeStep,
                                   stepAtProbe: decodeStep * fittedStep(point.context) / fittedStep(meanContext))
            let base = costs.roundCosts(secondary: point.secondary, context: meanContext, local: local,
                                        localContext: point.context, gamma: point.gamma, policy: point.policy)
            if point.policy != .fixed {
                // Adaptive policies: the costs of the rounds the policy actually chose (its
                // measured draft lengths and accepted counts), no DP.
                var lengths: [Int] = []
                for run in runs { add(&lengths, run.draftLengthHistogram) }
                let cap = PolicyRounds.judgedCap(point.policy, gamma: point.gamma)
                let chosen = PolicyRounds(rounds: rounds, accepted: runs.reduce(0) { $0 + $1.accepted },
                                          committed: runs.reduce(0) { $0 + $1.tokens - 1 }, lengths: lengths,
                                          judgedCap: cap)
                func speedup(_ c: RoundCosts) -> Double { chosen.speedup(c.paid(by: point.strategy)) }
                result.predicted = speedup(base)
                // A priori: the rounds the policy chose in the profile stage, at the calibrated
                // costs alone.
                if let profiledRun = policyRuns[point.key] {
                    let profiledRounds = PolicyRounds(rounds: profiledRun.rounds, accepted: profiledRun.accepted,
                                                      committed: profiledRun.committed,
                                                      lengths: profiledRun.draftLengthHistogram, judgedCap: cap)
                    result.prior = profiledRounds.speedup(
                        costs.priorRoundCosts(secondary: point.secondary, context: meanContext, policy: point.policy)
                            .paid(by: point.strategy))
                    let priorRandom = RandomSource(seed: scenario.seed &+ point.seedOffset &+ 1)
                    result.priorInterval = Statistics.quantiles((0..<monteCarloDraws).map { _ in
                        profiledRounds.speedup(costs.priorRoundCosts(secondary: point.secondary,
                                                                     context: meanContext, policy: point.policy,
                                                                     random: priorRandom)
                                                   .paid(by: point.strategy))
                    }, 0.025, 0.975)
                }
                result.predictedInterval = Statistics.quantiles((0..<monteCarloDraws).map { _ in
                    speedup(costs.roundCosts(secondary: point.secondary, context: meanContext, random: random,
                                             local: local, localContext: point.context, gamma: point.gamma,
                                             policy: point.policy))
                }, 0.025, 0.975)
                results.append(result)
                continue
            }
            result.predicted = predict(point, costs: base, acceptance: acceptance, tokens: tokens)
            if let alphas = point.alphas {
                result.predictedFromAlpha = predict(point, costs: base, acceptance: alphas, tokens: tokens)
            }
            var draws: [Double] = []
            for _ in 0..<monteCarloDraws {
                let drawnCosts = costs.roundCosts(secondary: point.secondary, context: meanContext, random: random,
                                                  local: local, localContext: point.context, gamma: point.gamma)
                let drawnAcceptance = zip(accepted, judged).map { random.beta(Double($0) + 1, Double($1 - $0) + 1) }
                draws.append(predict(point, costs: drawnCosts,
                                     acceptance: drawnAcceptance.isEmpty ? acceptance : drawnAcceptance,
                                     tokens: tokens))
            }
            result.predictedInterval = Statistics.quantiles(draws, 0.025, 0.975)
            if point.strategy.isSpeculative {
                let e = SpeedupModel.expectedTokens(acceptance: acceptance, gamma: point.gamma)
                result.leviathan = SpeedupModel.leviathanSpeedup(expectedTokens: e,
                                                                 costRatio: base.secondaryStep / base.primary(1),
                                                                 gamma: point.gamma)
            }
            results.append(result)
        }
        return results
    }

    /// The acceptance the profile stage measured for the point's drafter (model mode).
    static func profiledAcceptance(_ rows: [ProfileAcceptance], point: SweepPoint) -> AcceptanceEstimate? {
        if point.strategy == .tandem { return .given([1]) } // standalone tandem keeps every draft
        let own = rows.filter { $0.strategy == point.strategy && $0.secondary == point.secondary }
            .sorted { $0.position < $1.position }
        guard !own.isEmpty else { return nil }
        return .measured(judged: own.map(\.judged), accepted: own.map(\.accepted))
    }

    static func predict(_ point: SweepPoint, costs: RoundCosts, acceptance: [Double], tokens: Int) -> Double {
        predict(point.strategy, gamma: point.gamma, costs: costs, acceptance: acceptance, tokens: tokens)
    }

    /// Speedup over the primary alone for runs of `tokens` tokens (the first from the prefill).
    static func predict(_ strategy: StrategyKind, gamma: Int, costs: RoundCosts, acceptance: [Double],
                        tokens: Int) -> Double {
        let costs = costs.paid(by: strategy)
        let perToken = strategy == .tandem
            ? SpeedupModel.standaloneTimePerToken(costs: costs, gamma: gamma, decodeTokens: tokens - 1)
            : SpeedupModel.speculativeTimePerToken(costs: costs, acceptance: acceptance, gamma: gamma,
                                                   decodeTokens: tokens - 1)
        return costs.baselinePerToken / perToken
    }

    /// Chi-square test of the i.i.d.-acceptance model on a point's full-round accepted-length
    /// histogram, alpha estimated from the same rounds (one parameter).
    public static func iidTest(_ result: PointResult)
        -> (alpha: Double, statistic: Double, degreesOfFreedom: Int, pValue: Double)? {
        let g = result.point.gamma
        guard result.point.strategy.isSpeculative, result.fullRoundHistogram.count == g + 1 else { return nil }
        let h = result.fullRoundHistogram, rounds = h.reduce(0, +)
        guard rounds >= 10 else { return nil }
        // MLE of alpha for a geometric truncated at g: accepted / judged within these rounds.
        let acceptedDrafts = h.enumerated().reduce(0) { $0 + $1.0 * $1.1 }
        let judgedDrafts = h.enumerated().reduce(0) { $0 + min($1.0 + 1, g) * $1.1 }
        let alpha = Double(acceptedDrafts) / Double(max(judgedDrafts, 1))
        let probabilities = SpeedupModel.acceptedLengthDistribution(acceptance: [alpha], drafts: g)
        let fit = Inference.chiSquare(observed: h, probabilities: probabilities, estimatedParameters: 1)
        return (alpha, fit.statistic, fit.degreesOfFreedom, fit.pValue)
    }
}

/// The rounds an adaptive policy chose over some runs: their number, the accepted drafts, the
/// committed tokens (after the first) and the rounds per draft length. Priced at given round
/// costs, their speedup needs no DP: each round costs its secondary steps and a verify block of
/// its own length, plus the round overhead and the projection of what it kept.
public struct PolicyRounds: Sendable {
    public var rounds: Int, accepted: Int, committed: Int
    /// Rounds per draft length 0, 1, 2, ...
    public var lengths: [Int]
    /// For a policy that judges each candidate (confidence, router): its cap. A round it stopped
    /// below the cap drafted one candidate more than it kept (the secondary step that produced
    /// the candidate it refused; for a round of 0 drafts, the round's first, cold step). nil for
    /// policies that fix the length before drafting (fixed, heuristic).
    public var judgedCap: Int?

    public init(rounds: Int, accepted: Int, committed: Int, lengths: [Int], judgedCap: Int?) {
        self.rounds = rounds
        self.accepted = accepted
        self.committed = committed
        self.lengths = lengths
        self.judgedCap = judgedCap
    }

    /// The cap a policy judges candidates against, or nil (see `judgedCap`).
    public static func judgedCap(_ policy: PolicyKind, gamma: Int) -> Int? {
        policy == .confidence || policy == .router ? gamma : nil
    }

    /// Secondary forward steps of a round that kept `g` drafts.
    public func secondarySteps(keeping g: Int) -> Int { g + ((judgedCap.map { g < $0 } ?? false) ? 1 : 0) }

    public func speedup(_ c: RoundCosts) -> Double {
        var time = Double(rounds) * (c.roundOverhead + c.projection(1))
            + Double(accepted) * (c.projection(2) - c.projection(1))
        for (g, count) in lengths.enumerated() {
            let steps = secondarySteps(keeping: g)
            // Every drafted candidate is judged.
            time += Double(count) * (c.primary(g + 1) + c.drafting(steps) + Double(steps) * c.judgeStep)
        }
        return c.baselinePerToken / (time / Double(max(committed, 1)))
    }
}

extension RoundCosts {
    /// These costs as `strategy` pays them: only the strategies whose secondary reads the
    /// primary's states (`needsTandem`) project them; `speed` drafting with a tandem secondary's
    /// model does not.
    func paid(by strategy: StrategyKind) -> RoundCosts { strategy.needsTandem ? self : withoutProjection }
}
