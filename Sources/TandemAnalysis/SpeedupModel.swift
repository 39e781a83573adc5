/// Costs of the pieces of a decoding round at one context length, in nanoseconds.
public struct RoundCosts: Sendable {
    /// T_L(n): the primary's forward pass over a block of n tokens.
    public var primary: @Sendable (Int) -> Double
    /// T_S: one draft step of the secondary with its weights in cache (steps 2...gamma).
    public var secondaryStep: Double
    /// The first draft step of a round, after the primary's pass evicted the secondary's
    /// weights from cache.
    public var secondaryFirstStep: Double
    /// T_P(n): projecting n committed primary states into a tandem secondary's cache (0 for a
    /// plain secondary).
    public var projection: @Sendable (Int) -> Double
    /// O: per-round overhead of speculative decoding (sampling, acceptance, cache truncation).
    public var roundOverhead: Double
    /// Per-token overhead of the primary-alone loop (sampling).
    public var baselineOverhead: Double
    /// A policy's cost of judging one drafted candidate (confidence, router; 0 for policies that
    /// fix the round's length before drafting). Charged per secondary step by `PolicyRounds`.
    public var judgeStep: Double = 0
    /// When not empty: draft step k + 1 of a round costs `draftSteps[k]` (steps past the end
    /// cost the last entry), as measured inside real rounds; replaces the cold + warm pricing
    /// of `drafting`, which assumes every step after the first is as warm as an isolated third.
    public var draftSteps: [Double] = []

    public init(primary: @escaping @Sendable (Int) -> Double, secondaryStep: Double, secondaryFirstStep: Double? = nil,
                projection: @escaping @Sendable (Int) -> Double, roundOverhead: Double, baselineOverhead: Double) {
        self.primary = primary
        self.secondaryStep = secondaryStep
        self.secondaryFirstStep = secondaryFirstStep ?? secondaryStep
        self.projection = projection
        self.roundOverhead = roundOverhead
        self.baselineOverhead = baselineOverhead
    }

    /// Time per token of the primary alone.
    public var baselinePerToken: Double { primary(1) + baselineOverhead }

    /// Drafting g tokens: one cold step, then warm ones (or the in-round `draftSteps`).
    public func drafting(_ g: Int) -> Double {
        guard g > 0 else { return 0 }
        guard let last = draftSteps.last else { return secondaryFirstStep + Double(g - 1) * secondaryStep }
        return draftSteps.prefix(g).reduce(0, +) + Double(max(g - draftSteps.count, 0)) * last
    }

    /// The same costs for a drafter that does not read the primary's states (a tandem secondary's
    /// model drafting as a plain one, in `speed`): no projection.
    public var withoutProjection: RoundCosts {
        var costs = self
        costs.projection = { _ in 0 }
        return costs
    }
}

/// The analytic speedup model of DESIGN.md section 3.
public enum SpeedupModel {
    /// a_k for position k (1-based); the last given value repeats.
    static func rate(_ acceptance: [Double], _ k: Int) -> Double { acceptance[min(k, acceptance.count) - 1] }

    /// E = 1 + sum_{k=1..gamma} prod_{m<=k} a_m: expected tokens per round.
    public static func expectedTokens(acceptance: [Double], gamma: Int) -> Double {
        var product = 1.0, total = 1.0
        for k in stride(from: 1, through: gamma, by: 1) { product *= rate(acceptance, k); total += product }
        return total
    }

    /// P(a = k), k = 0...g: exactly k of g drafts accepted.
    public static func acceptedLengthDistribution(acceptance: [Double], drafts g: Int) -> [Double] {
        var result = [Double](repeating: 0, count: g + 1)
        var prefix = 1.0
        for k in 0..<g {
            result[k] = prefix * (1 - rate(acceptance, k + 1))
            prefix *= rate(acceptance, k + 1)
        }
        result[g] = prefix
        return result
    }

    /// Expected time per generated token of SPEED over a run of `decodeTokens` tokens (after the
    /// prefill's token), with drafts clipped to the tokens still wanted as the engine does:
    /// f(r) = E[cost of a round with g = min(gamma, r - 1) drafts] + sum_a P(a) f(r - a - 1).
    public static func speculativeTimePerToken(costs: RoundCosts, acceptance: [Double], gamma: Int,
                                               decodeTokens: Int) -> Double {
        guard decodeTokens > 0 else { return 0 }
        var f = [Double](repeating: 0, count: decodeTokens + 1)
        for r in 1...decodeTokens {
            let g = min(gamma, r - 1)
            let distribution = acceptedLengthDistribution(acceptance: acceptance, drafts: g)
            var expected = costs.drafting(g) + costs.primary(g + 1) + costs.roundOverhead
            for (a, p) in distribution.enumerated() where p > 0 {
                expected += p * (costs.projection(a + 1) + f[r - a - 1])
            }
            f[r] = expected
        }
        return f[decodeTokens] / Double(decodeTokens)
    }

    /// The steady-state formula (no clipping):
    /// E T_L(1) / (T_S,first + (gamma - 1) T_S + T_L(gamma + 1) + E[T_P(a+1)] + O).
    public static func steadyStateSpeedup(costs: RoundCosts, acceptance: [Double], gamma: Int) -> Double {
        let distribution = acceptedLengthDistribution(acceptance: acceptance, drafts: gamma)
        let projection = distribution.enumerated().reduce(0) { $0 + $1.1 * costs.projection($1.0 + 1) }
        let round = costs.drafting(gamma) + costs.primary(gamma + 1) + projection + costs.roundOverhead
        return expectedTokens(acceptance: acceptance, gamma: gamma) * costs.baselinePerToken / round
    }

    /// Expected time per token of standalone Tandem: rounds of gamma secondary tokens then one
    /// primary block of gamma + 1 (clipped at the end of the run like the engine).
    public static func standaloneTimePerToken(costs: RoundCosts, gamma: Int, decodeTokens: Int) -> Double {
        var remaining = decodeTokens, total = 0.0
        while remaining > 0 {
            let drafts = min(gamma, remaining)
            total += costs.drafting(drafts)
            remaining -= drafts
            if remaining > 0 {
                total += costs.primary(gamma + 1) + costs.projection(gamma + 1) + costs.roundOverhead
                remaining -= 1
            }
        }
        return total / Double(decodeTokens)
    }

    /// Leviathan et al. (2023): S = E / (gamma c + 1), c = T_S / T_L(1): verification assumed to
    /// cost one primary step.
    public static func leviathanSpeedup(expectedTokens: Double, costRatio: Double, gamma: Int) -> Double {
        expectedTokens / (Double(gamma) * costRatio + 1)
    }
}
