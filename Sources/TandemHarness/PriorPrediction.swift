import TandemAnalysis

/// A speedup predicted before measuring: from a profile's calibrated costs alone.
public struct PriorPrediction: Sendable {
    public var speedup: Double
    /// 95% Monte Carlo interval over the fits' coefficient uncertainty and, for acceptance
    /// measured from counts, its Beta posterior.
    public var interval: (low: Double, high: Double)
}

/// Acceptance per draft position, given (oracle alphas) or measured (counts).
public struct AcceptanceEstimate: Sendable {
    public var rates: [Double]
    /// Judged and accepted drafts per position when measured (empty when given).
    public var judged: [Int]
    public var accepted: [Int]

    public static func given(_ rates: [Double]) -> AcceptanceEstimate {
        AcceptanceEstimate(rates: rates, judged: [], accepted: [])
    }

    public static func measured(judged: [Int], accepted: [Int]) -> AcceptanceEstimate {
        let rates = zip(accepted, judged).map { $1 > 0 ? Double($0) / Double($1) : 0 }
        return AcceptanceEstimate(rates: rates.isEmpty ? [0] : rates, judged: judged, accepted: accepted)
    }

    func draw(_ random: RandomSource) -> [Double] {
        judged.isEmpty ? rates : zip(accepted, judged).map { random.beta(Double($0) + 1, Double($1 - $0) + 1) }
    }
}

extension CalibratedCosts {
    /// The a-priori speedup of `strategy` drafting with `secondary` at block length `gamma`
    /// over runs of `tokens` tokens after a prompt of `context`: the calibrated curves at the
    /// runs' mean context and the finite-run DP (nil when `secondary` was not profiled).
    public func prior(strategy: StrategyKind, secondary: String, gamma: Int, acceptance: AcceptanceEstimate,
                      context: Int, tokens: Int, draws: Int = 400, seed: UInt64) -> PriorPrediction? {
        guard secondaries[secondary] != nil else { return nil }
        let meanContext = context + tokens / 2
        let fitted = priorRoundCosts(secondary: secondary, context: meanContext)
        let value = SweepAnalysis.predict(strategy, gamma: gamma, costs: fitted, acceptance: acceptance.rates,
                                          tokens: tokens)
        let random = RandomSource(seed: seed)
        let samples = (0..<draws).map { _ in
            SweepAnalysis.predict(strategy, gamma: gamma,
                                  costs: priorRoundCosts(secondary: secondary, context: meanContext, random: random),
                                  acceptance: acceptance.draw(random), tokens: tokens)
        }
        return PriorPrediction(speedup: value, interval: Statistics.quantiles(samples, 0.025, 0.975))
    }
}
