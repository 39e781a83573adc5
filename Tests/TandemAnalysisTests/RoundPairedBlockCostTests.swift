import Testing
import TandemAnalysis

/// `RoundPairedBlockCost` against values worked out by hand: ratios are taken within each round
/// and then their median (a ratio of medians would give T(n)/T(1) = 6 / 3 = 2 here, not 2.5).
@Suite struct RoundPairedBlockCostTests {
    @Test func ratiosAreTakenWithinRounds() {
        // Round r: block 5, 6, 9 over one token 2, 4, 3; the roofline's 2, 2, 4 over 1, 2, 1.
        let cost = RoundPairedBlockCost(times: [5, 6, 9], oneToken: [2, 4, 3],
                                        rooflineTimes: [2, 2, 4], rooflineOneToken: [1, 2, 1])
        // Ratios 2.5, 1.5, 3; roofline ratios 2, 1, 4; their quotients 1.25, 1.5, 0.75; the
        // roofline over the block 0.4, 1/3, 4/9. GSL quantiles interpolate: p10 of the sorted
        // quotients 0.75, 1.25, 1.5 is 0.75 + 0.2 * 0.5, p90 1.25 + 0.8 * 0.25.
        let expected: [(String, Double, Double)] = [
            ("ratioToOneToken", cost.ratioToOneToken, 2.5), ("rooflineRatio", cost.rooflineRatio, 2),
            ("ratioOverRoofline", cost.ratioOverRoofline, 1.25),
            ("ratioOverRooflineP10", cost.ratioOverRooflineP10, 0.85),
            ("ratioOverRooflineP90", cost.ratioOverRooflineP90, 1.45), ("efficiency", cost.efficiency, 0.4),
        ]
        for (name, value, want) in expected {
            #expect(abs(value - want) <= 1e-12, "\(name) = \(value), want \(want) (tolerance 1e-12)")
        }
    }

    @Test func oneRoundIsItsOwnRatio() {
        let cost = RoundPairedBlockCost(times: [7], oneToken: [5], rooflineTimes: [6], rooflineOneToken: [5])
        #expect(abs(cost.ratioToOneToken - 1.4) <= 1e-12, "ratio \(cost.ratioToOneToken), want 1.4")
        #expect(abs(cost.ratioOverRoofline - 1.4 / 1.2) <= 1e-12, "over \(cost.ratioOverRoofline), want 1.1667")
        #expect(cost.ratioOverRooflineP10 == cost.ratioOverRooflineP90, "one round: p10 and p90 must agree")
    }
}
