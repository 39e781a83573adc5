import TandemAnalysis
import TandemEngine

/// The measured and predicted outcome of one sweep point.
public struct PointResult {
    public var point: SweepPoint
    public var tokens: Int
    public var rounds: Int
    /// Mean baseline time per token over mean strategy time per token (pooled over runs).
    public var measuredSpeedup: Double
    /// Percentile bootstrap interval of that ratio, resampling runs (GSL rng).
    public var measuredInterval: (low: Double, high: Double)
    /// Per-run speedups (mean baseline / each run), for the t-interval.
    public var measured: SampleSummary
    public var meanAccepted: Double           // tokens per round incl. the primary's
    public var judged: [Int], accepted: [Int], drafted: [Int]
    public var fullRoundHistogram: [Int]
    public var acceptance: [Double]           // conditional a_k, pooled over repeats
    public var predicted: Double?
    public var predictedInterval: (low: Double, high: Double)?
    public var predictedFromAlpha: Double?
    public var leviathan: Double?
    public var relativeError: Double? { predicted.map { ($0 - measuredSpeedup) / measuredSpeedup } }
}

/// Turns raw sweep runs and calibrated costs into measured and predicted speedups.
public enum SweepAnalysis {
    static func integers(_ field: String) -> [Int] { field.split(separator: ";").compactMap { Int($0) } }

    static func add(_ a: inout [Int], _ b: [Int]) {
        if a.count < b.count { a += Array(repeating: 0, count: b.count - a.count) }
        for (i, v) in b.enumerated() { a[i] += v }
    }

    public static func results(_ context: RunContext, costs: CalibratedCosts,
                               monteCarloDraws: Int = 400) -> [PointResult] {
        let rows = context.readTable(SweepStage.runsFile) ?? []
        let scenario = context.scenario
        var byKey: [String: [[String]]] = [:]
        for row in rows where row.count == SweepStage.header.count {
            byKey[row[0..<7].joined(separator: "|"), default: []].append(row)
        }
        var results: [PointResult] = []
        for point in SweepStage.points(scenario) {
            guard let runs = byKey[point.key], !runs.isEmpty else { continue }
            var judged: [Int] = [], accepted: [Int] = [], drafted: [Int] = [], histogram: [Int] = []
            var rounds = 0, committed = 0
            let tokens = Int(runs[0][8])!
            let decodeTokens = Double(tokens - 1)
            let baselines = runs.compactMap { Double($0[9]) }.map { $0 / decodeTokens } // one rolling mean per row
            let strategies = runs.map { Double($0[10])! / decodeTokens }
            guard !baselines.isEmpty else { continue }
            let baselineMean = baselines.reduce(0, +) / Double(baselines.count)
            let speedups = strategies.map { baselineMean / $0 }
            for run in runs {
                rounds += Int(run[11])!
                committed += Int(run[8])! - 1
                add(&drafted, integers(run[14])); add(&judged, integers(run[15])); add(&accepted, integers(run[16]))
                add(&histogram, integers(run[17]))
            }
            var acceptance = zip(accepted, judged).map { $1 > 0 ? Double($0) / Double($1) : 0 }
            if acceptance.isEmpty { acceptance = [0] }
            let measured = Statistics.summarize(speedups)
            let pooled = baselineMean / (strategies.reduce(0, +) / Double(strategies.count))
            let interval = Statistics.bootstrapRatioInterval(baselines, strategies,
                                                             seed: scenario.seed &+ point.seedOffset)
            var result = PointResult(point: point, tokens: tokens, rounds: rounds, measuredSpeedup: pooled,
                                     measuredInterval: interval, measured: measured,
                                     meanAccepted: rounds > 0 ? Double(committed) / Double(rounds) : 0, judged: judged,
                                     accepted: accepted, drafted: drafted, fullRoundHistogram: histogram,
                                     acceptance: acceptance)
            let meanContext = point.context + tokens / 2
            // The point's own probe rescales the calibrated curves to the machine state during the
            // point; the decode step comes from the point's primary-alone runs (hundreds of steps)
            // less the loop's per-token overhead, the verify block from the probe's ratio to it.
            let median = { (column: Int) in Statistics.summarize(runs.compactMap { Double($0[column]) }).median }
            let probe = ProbeCosts(decodeStep: median(18), blockRatio: median(19), secondaryColdStep: median(20),
                                   secondaryWarmStep: median(21))
            // The baseline's step is a mean over the run's contexts; at the probe's context it is
            // shorter by the fitted attention term.
            let decodeStep = baselineMean - costs.tokenOverhead.mean
            let fittedStep = { (c: Int) in
                costs.roundCostsFromFits(secondary: point.secondary, context: c, random: nil).primary(1)
            }
            let local = LocalCosts(probe: probe, baselineStep: decodeStep,
                                   stepAtProbe: decodeStep * fittedStep(point.context) / fittedStep(meanContext))
            if point.policy == .fixed, costs.secondaries[point.secondary] != nil {
                let base = costs.roundCosts(secondary: point.secondary, context: meanContext, local: local,
                                            localContext: point.context, gamma: point.gamma)
                result.predicted = predict(point, costs: base, acceptance: acceptance, tokens: tokens)
                if let alphas = point.alphas {
                    result.predictedFromAlpha = predict(point, costs: base, acceptance: alphas, tokens: tokens)
                }
                let random = RandomSource(seed: scenario.seed &+ point.seedOffset)
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
            }
            results.append(result)
        }
        return results
    }

    static func predict(_ point: SweepPoint, costs: RoundCosts, acceptance: [Double], tokens: Int) -> Double {
        let perToken = point.strategy == .tandem
            ? SpeedupModel.standaloneTimePerToken(costs: costs, gamma: point.gamma, decodeTokens: tokens - 1)
            : SpeedupModel.speculativeTimePerToken(costs: costs, acceptance: acceptance, gamma: point.gamma,
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
