import Testing
import TandemAnalysis

/// The finite-run dynamic program of `SpeedupModel` against a direct Monte Carlo simulation of
/// decoding rounds (reference), with everything the DP models switched on: acceptance that
/// differs by position (not i.i.d.), a cold first draft step, a projection whose cost grows
/// with the committed tokens, a per-round overhead, a non-linear verify cost, and drafts clipped
/// to the tokens still wanted. Tolerance: 4 standard errors of the simulated mean.
@Suite struct CostModelMonteCarloTests {
    static let costs = RoundCosts(
        primary: { n in 10 + 0.4 * Double(n) + 0.05 * Double(n * n) }, secondaryStep: 0.8, secondaryFirstStep: 2.1,
        projection: { n in 0.3 + 0.15 * Double(n) }, roundOverhead: 0.45, baselineOverhead: 0.2)

    /// In-round draft steps: step k of a round costs these (the last repeats), warming up.
    static let inRoundSteps = [2.6, 1.5, 1.1, 0.9]
    static let inRoundCosts: RoundCosts = {
        var c = costs
        c.draftSteps = inRoundSteps
        return c
    }()

    /// One simulated run of `tokens` decode tokens: total time. `inRound`: draft steps priced by
    /// `inRoundSteps`, else one cold step and warm ones.
    static func simulate(acceptance: [Double], gamma: Int, tokens: Int, random: RandomSource,
                         inRound: Bool = false) -> Double {
        var remaining = tokens, time = 0.0
        while remaining > 0 {
            let drafts = min(gamma, remaining - 1) // the engine never drafts past the budget
            // Spelled out (not `costs.drafting`), so the simulation shares no cost formula with the DP.
            for step in 0..<drafts {
                if inRound {
                    time += inRoundSteps[min(step, inRoundSteps.count - 1)]
                } else {
                    time += step == 0 ? costs.secondaryFirstStep : costs.secondaryStep
                }
            }
            time += costs.primary(drafts + 1) + costs.roundOverhead
            var accepted = 0
            while accepted < drafts, random.uniform() < acceptance[min(accepted, acceptance.count - 1)] {
                accepted += 1
            }
            time += costs.projection(accepted + 1)
            remaining -= accepted + 1
        }
        return time
    }

    @Test(arguments: [(gamma: 1, tokens: 7, inRound: false), (gamma: 3, tokens: 40, inRound: false),
                      (gamma: 6, tokens: 25, inRound: false), (gamma: 8, tokens: 64, inRound: false),
                      (gamma: 3, tokens: 40, inRound: true), (gamma: 6, tokens: 25, inRound: true),
                      (gamma: 8, tokens: 64, inRound: true)])
    func dynamicProgramMatchesSimulation(_ setting: (gamma: Int, tokens: Int, inRound: Bool)) {
        let acceptance = [0.92, 0.55, 0.8, 0.3, 0.7] // per position; the last repeats
        let random = RandomSource(seed: 2024 &+ UInt64(setting.gamma))
        let runs = 40_000
        var sum = 0.0, sumOfSquares = 0.0
        for _ in 0..<runs {
            let perToken = Self.simulate(acceptance: acceptance, gamma: setting.gamma, tokens: setting.tokens,
                                         random: random, inRound: setting.inRound) / Double(setting.tokens)
            sum += perToken
            sumOfSquares += perToken * perToken
        }
        let mean = sum / Double(runs)
        let standardError = ((sumOfSquares / Double(runs) - mean * mean) / Double(runs - 1)).squareRoot()
        let predicted = SpeedupModel.speculativeTimePerToken(costs: setting.inRound ? Self.inRoundCosts : Self.costs,
                                                             acceptance: acceptance, gamma: setting.gamma,
                                                             decodeTokens: setting.tokens)
        let difference = abs(predicted - mean)
        let message = "gamma \(setting.gamma), \(setting.tokens) tokens, in-round steps \(setting.inRound): "
            + "DP \(predicted), simulation \(mean) +- \(standardError)"
        #expect(difference <= 4 * standardError, "\(message)")
    }

    /// Standalone tandem is deterministic: the model's time equals a direct count of its rounds.
    @Test(arguments: [(gamma: 1, tokens: 9), (gamma: 3, tokens: 10), (gamma: 4, tokens: 41)])
    func standaloneMatchesDirectCount(_ setting: (gamma: Int, tokens: Int)) {
        // Rounds: gamma secondary tokens then one primary block of gamma + 1, except after the last.
        var remaining = setting.tokens, time = 0.0
        while remaining > 0 {
            let drafts = min(setting.gamma, remaining)
            for step in 0..<drafts { time += step == 0 ? Self.costs.secondaryFirstStep : Self.costs.secondaryStep }
            remaining -= drafts
            if remaining > 0 {
                time += Self.costs.primary(setting.gamma + 1) + Self.costs.projection(setting.gamma + 1)
                    + Self.costs.roundOverhead
                remaining -= 1
            }
        }
        let predicted = SpeedupModel.standaloneTimePerToken(costs: Self.costs, gamma: setting.gamma,
                                                            decodeTokens: setting.tokens)
        #expect(abs(predicted - time / Double(setting.tokens)) <= 1e-12)
    }
}
