import Foundation
import Testing
import TandemAnalysis
import TandemHarness
import TandemReport

/// The primary-alone loop's cost for the a-priori prediction: the profile's baseline runs
/// against the fitted decode step at the contexts they ran at.
@Suite struct BaselineCalibrationTests {
    /// A profile on disk whose primary costs 1000 + 100 n + 2 n c ns (n tokens, context c), a curve of
    /// the fit's own family (per-n levels and an n c term), with repeats spread +-10 ns.
    func writeProfile(_ directory: String, baselineExcess: Double?, isolatedDrift: Double? = nil,
                      projection: Bool = false, extraOverheads: String = "", moreRunExcesses: [Double] = []) throws {
        var samples = "model,quantity,tokens,context,repeat,nanoseconds\n"
        for repeatIndex in 0..<3 {
            for context in [16, 64] {
                // Repeats 990/1000/1010 around the cost (the fit weights cells by their spread).
                let jitter = 10 * (repeatIndex - 1)
                for tokens in 1...3 {
                    let cost = 1000 + 100 * tokens + 2 * tokens * context + jitter
                    samples += "primary,forward,\(tokens),\(context),\(repeatIndex),\(cost)\n"
                }
                for tokens in 1...2 {
                    samples += "s,forward,\(tokens),\(context),\(repeatIndex),\(100 + 10 * tokens + jitter)\n"
                    samples += "s,forward_cold,\(tokens),\(context),\(repeatIndex),\(200 + 10 * tokens + jitter)\n"
                    // A tandem secondary's projection: 300 + 20 n ns per round.
                    if projection {
                        samples += "s,projection,\(tokens),\(context),\(repeatIndex),\(300 + 20 * tokens + jitter)\n"
                    }
                }
            }
        }
        try samples.write(toFile: directory + "/profile_samples.csv", atomically: true, encoding: .utf8)
        try "threads,peak_gflops,dram_read_gbps\n1,100,20\n"
            .write(toFile: directory + "/machine_limits.csv", atomically: true, encoding: .utf8)
        try ("model,quantity,repeat,nanoseconds\nprimary,token_overhead,0,50\nprimary,token_overhead,1,50\n"
             + extraOverheads).write(toFile: directory + "/profile_overheads.csv", atomically: true, encoding: .utf8)
        if let baselineExcess {
            // Decode steps at contexts 21 ... 40: the fitted step averages 1100 + 2 * 30.5. With
            // isolated steps timed beside the runs, the machine ran `isolatedDrift` slower there
            // than in the grid, loop and isolated steps alike.
            let isolated = isolatedDrift.map { 1100 + 2 * 30.5 + $0 }
            let perToken = (isolated ?? 1100 + 2 * 30.5) + baselineExcess
            let header = "repeat,first_context,last_context,nanoseconds_per_token"
                + (isolated == nil ? "" : ",isolated_nanoseconds_per_token")
            let perTokens = [perToken, perToken] + moreRunExcesses.map { perToken - baselineExcess + $0 }
            let rows = perTokens.enumerated().map { "\($0),21,40,\($1)" + (isolated.map { ",\($0)" } ?? "") }
            try ([header] + rows).joined(separator: "\n").appending("\n")
                .write(toFile: directory + "/profile_baseline.csv", atomically: true, encoding: .utf8)
        }
    }

    /// With baseline runs the a-priori costs price the loop at the fitted step plus the measured
    /// excess (here -120 ns: back-to-back steps faster than isolated ones); the probed costs and a
    /// profile without the file keep the token overhead measured beside the compute (50 ns).
    @Test func baselineRunsSetTheLoopOverhead() throws {
        let directory = NSTemporaryDirectory() + "tandem-baseline-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try writeProfile(directory, baselineExcess: -120)
        let costs = try CalibrationStage.load(directory: directory)
        let excess = try #require(costs.baselineLoopOverhead).mean
        #expect(abs(excess - -120) < 0.5, "baseline loop overhead \(excess), expected -120")
        #expect(abs(costs.roundCosts(secondary: "s", context: 64).baselineOverhead - excess) < 1e-9)
        #expect(costs.tokenOverhead.mean == 50)

        try FileManager.default.removeItem(atPath: directory + "/profile_baseline.csv")
        let older = try CalibrationStage.load(directory: directory)
        #expect(older.baselineLoopOverhead == nil)
        #expect(older.roundCosts(secondary: "s", context: 64).baselineOverhead == 50)
    }

    /// One slow repeat of four (+680 ns, the quickstart profile had one of eight at +800 us) leaves
    /// the loop overhead at the others' -120 (the median); the mean would be +80.
    @Test func slowRepeatDoesNotMoveTheLoopOverhead() throws {
        let directory = NSTemporaryDirectory() + "tandem-baseline-outlier-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try writeProfile(directory, baselineExcess: -120, isolatedDrift: 0, moreRunExcesses: [-120, 680])
        let excess = try #require(try CalibrationStage.load(directory: directory).baselineLoopOverhead).mean
        #expect(abs(excess - -120) < 0.5, "baseline loop overhead \(excess) with one slow repeat, expected -120")
    }

    /// With isolated steps timed beside each run, the excess is the paired difference: a machine
    /// 300 ns slower during those runs than during the grid leaves it at -120, where the fitted
    /// step alone would take the drift for loop overhead (+180).
    @Test func isolatedStepsPairTheExcess() throws {
        let directory = NSTemporaryDirectory() + "tandem-baseline-paired-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try writeProfile(directory, baselineExcess: -120, isolatedDrift: 300)
        let excess = try #require(try CalibrationStage.load(directory: directory).baselineLoopOverhead).mean
        #expect(abs(excess - -120) < 0.5, "paired baseline loop overhead \(excess), expected -120 (unpaired: +180)")
    }

    /// A judging policy's per-candidate cost is kept apart from the round overhead of the same
    /// secondary (both rows in profile_overheads.csv), set for that policy only, and charged once
    /// per secondary step of the policy's rounds.
    @Test func judgeCostIsPricedPerCandidate() throws {
        let directory = NSTemporaryDirectory() + "tandem-judge-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try writeProfile(directory, baselineExcess: nil,
                         extraOverheads: "s,round_overhead,0,70\ns,round_overhead,1,70\n"
                             + "s,judge_router,0,38\ns,judge_router,1,42\n"
                             + "s,judge_confidence,0,5\ns,judge_confidence,1,5\n")
        let costs = try CalibrationStage.load(directory: directory)
        let router = costs.roundCosts(secondary: "s", context: 16, policy: .router)
        #expect(router.roundOverhead == 70, "round overhead \(router.roundOverhead): judge rows mixed in")
        #expect(router.judgeStep == 40, "router judge \(router.judgeStep), expected 40")
        #expect(costs.roundCosts(secondary: "s", context: 16, policy: .confidence).judgeStep == 5)
        #expect(costs.roundCosts(secondary: "s", context: 16, policy: .heuristic).judgeStep == 0)
        // 10 rounds: 4 refused their first candidate (0 drafts, 1 step), 6 kept 2 of cap 3 (3 steps).
        let rounds = PolicyRounds(rounds: 10, accepted: 8, committed: 18, lengths: [4, 0, 6], judgedCap: 3)
        var free = router
        free.judgeStep = 0
        let time = { (c: RoundCosts) in c.baselinePerToken / rounds.speedup(c) * 18 }
        let charged = time(router) - time(free)
        #expect(abs(charged - 22 * 40) < 1e-6, "judging charged \(charged) ns, expected 22 steps x 40 ns")
    }

    /// Only a strategy whose secondary reads the primary's states pays the projection: `speed`
    /// drafting with a tandem secondary's model is priced as with no projection at all.
    @Test func speedDoesNotPayTheProjection() throws {
        let directory = NSTemporaryDirectory() + "tandem-projection-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func priors(projection: Bool) throws -> (speed: Double, tandemSpeed: Double) {
            try writeProfile(directory, baselineExcess: nil, projection: projection)
            let costs = try CalibrationStage.load(directory: directory)
            func prior(_ strategy: StrategyKind) throws -> Double {
                try #require(costs.prior(strategy: strategy, secondary: "s", gamma: 3, acceptance: .given([0.8]),
                                         context: 16, tokens: 32, draws: 2, seed: 1)).speedup
            }
            return (try prior(.speed), try prior(.tandemSpeed))
        }
        let plain = try priors(projection: false), tandem = try priors(projection: true)
        #expect(plain.speed == plain.tandemSpeed, "without a projection fit: \(plain)")
        #expect(tandem.speed == plain.speed, "speed with a projection fit \(tandem.speed), without \(plain.speed)")
        #expect(tandem.tandemSpeed < tandem.speed, "tandem-speed \(tandem.tandemSpeed) should pay the projection")
    }

    /// Draft steps timed inside rounds price a-priori drafting, position by position: per
    /// position the runs' total time over their total steps, its standard error over the runs;
    /// positions from the first one without steps on are left out (the last one's cost
    /// repeats). Older profiles keep cold + warm steps; the probed costs keep the in-round
    /// shape through the probe's cold and warm steps.
    @Test func inRoundDraftStepsPriceAPrioriDrafting() throws {
        let directory = NSTemporaryDirectory() + "tandem-draft-steps-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try writeProfile(directory, baselineExcess: nil)
        let fitted = try CalibrationStage.load(directory: directory).roundCosts(secondary: "s", context: 64)
        #expect(abs(fitted.drafting(5) - (210 + 4 * 110)) < 0.5, "cold + 4 warm: \(fitted.drafting(5))")
        // Two runs: position 1 at 700 and 900 ns per step, 2 at 400, 3 at 300; one stray step at
        // position 5 past a gap.
        let rows = ["s,tandem-speed,5,16,20,0,1,10,7000", "s,tandem-speed,5,16,20,0,2,10,4000",
                    "s,tandem-speed,5,16,20,0,3,8,2400", "s,tandem-speed,5,16,20,1,1,10,9000",
                    "s,tandem-speed,5,16,20,1,2,10,4000", "s,tandem-speed,5,16,20,1,3,8,2400",
                    "s,tandem-speed,5,16,20,1,5,1,100"]
        try (["secondary,strategy,gamma,context,tokens,repeat,position,steps,nanoseconds"] + rows)
            .joined(separator: "\n").appending("\n")
            .write(toFile: directory + "/profile_draft_steps.csv", atomically: true, encoding: .utf8)
        let costs = try CalibrationStage.load(directory: directory)
        let inRound = try #require(costs.inRoundDraftSteps["s"])
        #expect(inRound.context == 26 && inRound.steps.map(\.mean) == [800, 400, 300],
                "context \(inRound.context), steps \(inRound.steps)")
        #expect(abs(inRound.steps[0].standardError - 100) < 1e-9, "standard error \(inRound.steps[0])")
        // The secondary's fitted step does not depend on the context here (up to rounding): no
        // rescaling from the runs' context 26 to 64.
        let prior = costs.roundCosts(secondary: "s", context: 64)
        #expect(abs(prior.drafting(2) - 1200) < 1e-6 && abs(prior.drafting(5) - (800 + 400 + 3 * 300)) < 1e-6,
                "a-priori drafting \(prior.drafting(2)), \(prior.drafting(5))")
        let probe = ProbeCosts(decodeStep: 1200, blockRatio: 1.1, secondaryColdStep: 210, secondaryWarmStep: 110)
        let local = LocalCosts(probe: probe, baselineStep: 1200, stepAtProbe: 1200)
        // Probed: the in-round shape through the probe, step 1 its cold step (210), steps 2 on
        // its warm (third) step (110) times in-round step k over step 3: 110 * 400 / 300, 110, ...
        let probed = costs.roundCosts(secondary: "s", context: 64, local: local, localContext: 16, gamma: 2)
        let expected = 210 + 110 * 400 / 300 + 3 * 110.0
        #expect(abs(probed.drafting(5) - expected) < 1e-6,
                "probed drafting \(probed.drafting(5)), expected \(expected)")
    }

    /// With in-round steps at two contexts, a-priori drafting at a profiled context is that
    /// level's steps, between them linear in the context position by position, and beyond them
    /// the nearest level moved by the fitted step (flat here). Reference: the steps written.
    @Test func inRoundDraftStepsFollowTheContext() throws {
        let directory = NSTemporaryDirectory() + "tandem-draft-contexts-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try writeProfile(directory, baselineExcess: nil)
        // Prompts of 16 and 64 tokens, 20 tokens each: mean contexts 26 and 74.
        let rows = ["s,tandem-speed,3,16,20,0,1,10,8000", "s,tandem-speed,3,16,20,0,2,10,4000",
                    "s,tandem-speed,3,16,20,0,3,10,3000", "s,tandem-speed,3,64,20,0,1,10,10000",
                    "s,tandem-speed,3,64,20,0,2,10,6000", "s,tandem-speed,3,64,20,0,3,10,5000"]
        try (["secondary,strategy,gamma,context,tokens,repeat,position,steps,nanoseconds"] + rows)
            .joined(separator: "\n").appending("\n")
            .write(toFile: directory + "/profile_draft_steps.csv", atomically: true, encoding: .utf8)
        let costs = try CalibrationStage.load(directory: directory)
        for (context, expected) in [(26, 1500.0), (74, 2100), (50, 1800), (100, 2100), (10, 1500)] {
            let drafting = costs.priorRoundCosts(secondary: "s", context: context).drafting(3)
            #expect(abs(drafting - expected) < 1e-6, "context \(context): drafting \(drafting), expected \(expected)")
        }
    }

    /// round_costs.csv's arithmetic against hand-computed sums: a run of 21 tokens after a prompt
    /// of 16 (mean context 26) whose baseline ran 1.1x the prior's step (T(1, 26) + 50 = 1202),
    /// whose 10 rounds of 2 drafts verified at 1.2x T(3, 26) = 1456, and whose draft steps took
    /// 420 and 165 ns where the prior prices the cold step at 210 and the warm at 110. Adaptive
    /// policies get no row. Reference: those numbers; tolerance 1e-6 relative.
    @Test func roundCostsCompareWithThePriorsOwnCosts() throws {
        let directory = NSTemporaryDirectory() + "tandem-round-costs-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try writeProfile(directory, baselineExcess: nil)
        let costs = try CalibrationStage.load(directory: directory)
        func run(policy: String) throws -> SweepRun {
            let values: [String: String] = [
                "strategy": "speed", "policy": policy, "secondary": "s", "gamma": "2", "alpha": "0.8",
                "context": "16", "threads": "1", "repeat": "0", "tokens": "21", "baseline_ns": "\(1202 * 1.1 * 20)",
                "strategy_ns": "30000", "baseline_first": "1", "rounds": "10", "drafted": "20", "accepted": "16",
                "drafted_by_position": "10;10", "judged_by_position": "10;8", "accepted_by_position": "8;8",
                "full_round_histogram": "2;0;8", "draft_length_histogram": "0;0;10",
                "draft_step_mean_ns_by_position": "420;165", "verify_ns": "\(1456 * 10 * 1.2)", "draft_ns": "6000",
                "local_primary_one_ns": "1200", "local_block_ratio": "1.2", "local_secondary_cold_ns": "210",
                "local_secondary_warm_ns": "110",
            ]
            let text = SweepRun.columns.joined(separator: ",") + "\n"
                + SweepRun.columns.map { values[$0]! }.joined(separator: ",") + "\n"
            return try #require(try CSVTable.records(SweepRun.self, text: text, file: "sweep_runs.csv").first)
        }
        let fixed = try run(policy: "fixed")
        let comparison = try #require(RoundCostComparison(point: fixed.point, runs: [fixed], costs: costs))
        for (name, value, expected) in [("baseline", comparison.baselineRatio, 1.1),
                                        ("verify", comparison.verifyRatio, 1.2),
                                        ("drafting", comparison.draftingRatio, 585.0 / 320)] {
            #expect(abs(value - expected) / expected < 1e-6, "\(name) ratio \(value), expected \(expected)")
        }
        #expect(abs(comparison.verifyProfile - 1456) < 1e-3 && abs(comparison.draftingSweep - 585) < 1e-9)
        let adaptive = try run(policy: "confidence")
        #expect(RoundCostComparison(point: adaptive.point, runs: [adaptive], costs: costs) == nil)
    }
}
