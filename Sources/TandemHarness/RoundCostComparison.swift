import TandemAnalysis
import TandemReport

/// round_costs.csv: per speculative sweep point, what its rounds cost in the sweep against what
/// the profile priced them at (the a-priori prediction's inputs), part by part, so an a-priori
/// error can be traced to the part that moved: the primary-alone step, the verification pass,
/// or the drafting steps. Ratios are sweep / profile; the primary's step drifting by itself
/// cancels in a speedup, a verify or drafting ratio away from the baseline's does not.
///
/// - Baseline step: the paired primary-alone runs' mean time per token, against the fitted
///   decode step at the runs' mean context plus the loop's per-token overhead.
/// - Verify: the runs' verification phase per round (the primary's block pass and the acceptance
///   rule), against the fitted block of (drafts + 1) tokens at the runs' mean context, averaged
///   over the rounds' draft lengths.
/// - Drafting: the runs' own draft steps by position (their means, weighted by the rounds that
///   drafted each position), against the same positions priced by the profile's in-round steps.
public struct RoundCostComparison: CSVRecord {
    public var point: SweepPoint
    public var rounds: Int
    public var baselineStepSweep: Double, baselineStepProfile: Double
    public var verifySweep: Double, verifyProfile: Double
    public var draftingSweep: Double, draftingProfile: Double

    public static let columns = SweepPoint.columns + [
        "rounds", "baseline_step_sweep_ns", "baseline_step_profile_ns", "baseline_ratio", "verify_sweep_ns",
        "verify_profile_ns", "verify_ratio", "drafting_sweep_ns", "drafting_profile_ns", "drafting_ratio",
    ]

    public var baselineRatio: Double { baselineStepSweep / baselineStepProfile }
    public var verifyRatio: Double { verifySweep / verifyProfile }
    public var draftingRatio: Double { draftingSweep / draftingProfile }

    public var fields: [CSVValue] {
        point.fields + [.integer(rounds), .real(baselineStepSweep), .real(baselineStepProfile), .real(baselineRatio),
                        .real(verifySweep), .real(verifyProfile), .real(verifyRatio), .real(draftingSweep),
                        .real(draftingProfile), .real(draftingRatio)]
    }

    public init(row: CSVRow) throws {
        point = try SweepPoint(row: row)
        rounds = try row.integer("rounds")
        baselineStepSweep = try row.real("baseline_step_sweep_ns")
        baselineStepProfile = try row.real("baseline_step_profile_ns")
        verifySweep = try row.real("verify_sweep_ns")
        verifyProfile = try row.real("verify_profile_ns")
        draftingSweep = try row.real("drafting_sweep_ns")
        draftingProfile = try row.real("drafting_profile_ns")
    }

    /// The comparison for one point's runs; nil when the runs did not record their phases and
    /// draft steps (older files), drafted nothing, or the profile has no in-round steps for
    /// the point's secondary.
    public init?(point: SweepPoint, runs: [SweepRun], costs: CalibratedCosts) {
        guard point.strategy.isSpeculative, let first = runs.first,
              let steps = costs.inRoundDraftSteps[point.secondary]?.steps, !steps.isEmpty,
              runs.allSatisfy({ $0.verifyNanoseconds > 0 && !$0.draftStepMeanNanoseconds.isEmpty }) else {
            return nil
        }
        self.point = point
        rounds = runs.reduce(0) { $0 + $1.rounds }
        guard rounds > 0 else { return nil }
        let meanContext = point.context + first.tokens / 2
        let decodeTokens = Double(first.tokens - 1)
        baselineStepSweep = runs.reduce(0) { $0 + $1.baselineNanoseconds } / Double(runs.count) / decodeTokens
        baselineStepProfile = costs.primary.predict(tokens: 1, context: meanContext).value + costs.tokenOverhead.mean
        verifySweep = runs.reduce(0) { $0 + $1.verifyNanoseconds } / Double(rounds)
        var verify = 0.0
        for run in runs {
            for (drafts, count) in run.draftLengthHistogram.enumerated() where count > 0 {
                verify += Double(count) * costs.primary.predict(tokens: drafts + 1, context: meanContext).value
            }
        }
        verifyProfile = verify / Double(rounds)
        var sweepDrafting = 0.0, profileDrafting = 0.0
        for run in runs {
            for (index, drafted) in run.draftedByPosition.enumerated() where drafted > 0 {
                guard index < run.draftStepMeanNanoseconds.count else { continue }
                let profileStep = steps[min(index, steps.count - 1)].mean
                sweepDrafting += Double(drafted) * Double(run.draftStepMeanNanoseconds[index])
                profileDrafting += Double(drafted) * profileStep
            }
        }
        guard profileDrafting > 0 else { return nil }
        draftingSweep = sweepDrafting / Double(rounds)
        draftingProfile = profileDrafting / Double(rounds)
    }
}
