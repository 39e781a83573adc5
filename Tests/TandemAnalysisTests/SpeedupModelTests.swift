import Testing
import TandemAnalysis

@Suite struct SpeedupModelTests {
    func costs(verify: Double = 1.2, draft: Double = 0.05) -> RoundCosts {
        RoundCosts(primary: { n in n == 1 ? 1 : verify }, secondaryStep: draft, projection: { _ in 0 },
                   roundOverhead: 0, baselineOverhead: 0)
    }

    /// E for i.i.d. alpha equals (1 - alpha^(gamma+1)) / (1 - alpha); the accepted-length
    /// distribution sums to 1 and has mean E - 1.
    @Test(arguments: [0.3, 0.6, 0.9])
    func expectedTokensClosedForm(alpha: Double) {
        for gamma in 1...12 {
            let e = SpeedupModel.expectedTokens(acceptance: [alpha], gamma: gamma)
            let closed = (1 - pow(alpha, Double(gamma + 1))) / (1 - alpha)
            #expect(abs(e - closed) < 1e-12, "gamma \(gamma): \(e) vs \(closed)")
            let distribution = SpeedupModel.acceptedLengthDistribution(acceptance: [alpha], drafts: gamma)
            #expect(abs(distribution.reduce(0, +) - 1) < 1e-12)
            let mean = distribution.enumerated().reduce(0.0) { $0 + Double($1.0) * $1.1 }
            #expect(abs(mean - (e - 1)) < 1e-12)
        }
    }

    /// The finite-run DP tends to the steady-state formula as runs grow (within 0.5% at 20,000
    /// tokens), and is slower for short runs (clipped last rounds).
    @Test func dynamicProgramTendsToSteadyState() {
        let c = costs()
        for gamma in [1, 4, 8] {
            let steady = SpeedupModel.steadyStateSpeedup(costs: c, acceptance: [0.8], gamma: gamma)
            let long = c.baselinePerToken / SpeedupModel.speculativeTimePerToken(costs: c, acceptance: [0.8],
                                                                                 gamma: gamma, decodeTokens: 20_000)
            #expect(abs(long - steady) / steady < 0.005, "gamma \(gamma): DP \(long), steady \(steady)")
        }
    }

    /// With verification costing one decode step and no other costs, the model equals
    /// Leviathan et al.'s formula.
    @Test func reducesToLeviathan() {
        let c = costs(verify: 1, draft: 0.1)
        for gamma in 1...8 {
            let e = SpeedupModel.expectedTokens(acceptance: [0.7], gamma: gamma)
            let ours = SpeedupModel.steadyStateSpeedup(costs: c, acceptance: [0.7], gamma: gamma)
            let leviathan = SpeedupModel.leviathanSpeedup(expectedTokens: e, costRatio: 0.1, gamma: gamma)
            #expect(abs(ours - leviathan) < 1e-12)
        }
    }

    /// Standalone tandem: gamma + 1 tokens per primary block.
    @Test func standaloneTandem() {
        let c = costs(verify: 1, draft: 0)
        let perToken = SpeedupModel.standaloneTimePerToken(costs: c, gamma: 3, decodeTokens: 4000)
        #expect(abs(perToken - 0.25) < 1e-3, "\(perToken)")
    }
}

import Foundation
