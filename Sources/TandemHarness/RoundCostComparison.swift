import TandemAnalysis
import TandemReport

/// round_costs.csv: per speculative fixed-policy sweep point, what its rounds cost in the sweep against what
/// the a-priori prediction priced them at (`priorRoundCosts` at the runs' mean context, no
/// draws), part by part, so an a-priori error can be traced to the part that moved: the
/// primary-alone step, the verification pass, or the drafting steps. Ratios are sweep / prior;
/// the machine slowing everything alike cancels in a speedup, a verify or drafting ratio away
/// from the baseline's does not.
///
/// - Baseline step: the paired primary-alone runs' mean time per token, against the prior's
///   step (the fitted decode step plus the loop's per-token excess).
/// - Verify: the runs' verification phase per round (the primary's block pass and the acceptance
///   rule), against the prior's fitted block of (drafts + 1) tokens, averaged over the rounds'
///   draft lengths.
/// - Drafting: the runs' own draft steps by position (their means, weighted by the rounds that
///   drafted each position), against the prior's step at each position (the profile's in-round
///   steps moved to the context, or its cold and warm steps).
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

    /// The comparison for one fixed-policy point's runs; nil for adaptive policies (their rounds
    /// pay steps for candidates they refuse, which `draftedByPosition` does not count), when the
    /// runs did not record their phases and draft steps (older files), drafted nothing, or the
    /// point's secondary was not profiled.
    public init?(point: SweepPoint, runs: [SweepRun], costs: CalibratedCosts) {
        guard point.strategy.isSpeculative, point.policy == .fixed, let first = runs.first, first.tokens > 1,
              costs.secondaries[point.secondary] != nil,
              runs.allSatisfy({ $0.verifyNanoseconds > 0 && !$0.draftStepMeanNanoseconds.isEmpty }) else {
            return nil
        }
        self.point = point
        rounds = runs.reduce(0) { $0 + $1.rounds }
        guard rounds > 0 else { return nil }
        let meanContext = point.context + first.tokens / 2
        let prior = costs.priorRoundCosts(secondary: point.secondary, context: meanContext, policy: point.policy)
        let decodeTokens = Double(first.tokens - 1)
        baselineStepSweep = runs.reduce(0) { $0 + $1.baselineNanoseconds } / Double(runs.count) / decodeTokens
        baselineStepProfile = prior.baselinePerToken
        verifySweep = runs.reduce(0) { $0 + $1.verifyNanoseconds } / Double(rounds)
        var verify = 0.0
        for run in runs {
            for (drafts, count) in run.draftLengthHistogram.enumerated() where count > 0 {
                verify += Double(count) * prior.primary(drafts + 1)
            }
        }
        verifyProfile = verify / Double(rounds)
        var sweepDrafting = 0.0, profileDrafting = 0.0
        for run in runs {
            for (index, drafted) in run.draftedByPosition.enumerated() where drafted > 0 {
                guard index < run.draftStepMeanNanoseconds.count else { continue }
                sweepDrafting += Double(drafted) * Double(run.draftStepMeanNanoseconds[index])
                profileDrafting += Double(drafted) * (prior.drafting(index + 1) - prior.drafting(index))
            }
        }
        guard profileDrafting > 0 else { return nil }
        draftingSweep = sweepDrafting / Double(rounds)
        draftingProfile = profileDrafting / Double(rounds)
    }
}
