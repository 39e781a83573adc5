import TandemAnalysis
import TandemReport

/// The primary's verification pass as real rounds pay it, against the fitted block cost: from
/// the profile's in-round runs (`profile_verify_rounds.csv`), per run the verify phase time over
/// the fitted blocks of (drafts + 1) tokens of its rounds at the run's mean context, divided by
/// its paired primary-alone run's time per token over the step the prior prices (the fitted
/// decode step plus the loop's per-token excess). The profile's grid times blocks back to back;
/// in a round the pass follows the secondary's drafting, which has evicted the primary's caches
/// and scratch, and the acceptance rule runs beside it. Dividing by the paired baseline's own
/// ratio keeps the machine's drift between the grid and these runs out of the factor (the
/// sweep's round_costs.csv compares the same two ratios). The a-priori prediction scales a
/// round's block by this factor, not the primary-alone step.
public struct InRoundVerify: Sendable {
    /// Mean over the runs of the ratio above, and its standard error (0 with one run).
    public var factor: Double
    public var standardError: Double
    public var runs: Int

    /// Per secondary whose in-round runs verified at least one round; `tokenOverhead` is what
    /// the primary-alone loop pays per token beside the fitted step (ns).
    public static func fit(_ records: [ProfileVerifyRounds], primary: BlockCostFit,
                           tokenOverhead: Double) -> [String: InRoundVerify] {
        var result: [String: InRoundVerify] = [:]
        for secondary in Set(records.map(\.secondary)) {
            let runs = records.filter { $0.secondary == secondary && $0.rounds > 0 }
            let factors = runs.compactMap { run -> Double? in
                let context = run.context + run.tokens / 2
                let fitted = run.draftLengthHistogram.enumerated().reduce(0.0) { total, entry in
                    total + Double(entry.element) * primary.predict(tokens: entry.offset + 1, context: context).value
                }
                let step = primary.predict(tokens: 1, context: context).value + tokenOverhead
                let baselineRatio = run.baselineNanoseconds / Double(max(run.tokens - 1, 1)) / step
                guard fitted > 0, baselineRatio > 0, baselineRatio.isFinite else { return nil }
                return run.verifyNanoseconds / fitted / baselineRatio
            }
            guard !factors.isEmpty else { continue }
            let summary = Statistics.summarize(factors)
            let error = factors.count > 1 ? summary.standardDeviation / Double(factors.count).squareRoot() : 0
            result[secondary] = InRoundVerify(factor: summary.mean, standardError: error, runs: factors.count)
        }
        return result
    }

    /// The calibration.csv row: quantity `verify_in_round`, term `factor` (a ratio, not ns).
    func tableRow(secondary: String) -> [CSVValue] {
        [.string(secondary), "verify_in_round", "factor", .real(factor), .real(standardError), "", .integer(runs), ""]
    }
}
