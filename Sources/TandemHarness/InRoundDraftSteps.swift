import TandemAnalysis
import TandemReport

/// A secondary's draft steps as real rounds pay them, from the profile's in-round runs
/// (`profile_draft_steps.csv`): the mean cost of step k of a round, k = 1 (right after the
/// primary's verification pass) ... gamma. The a-priori prediction prices drafting by these
/// instead of one isolated cold step plus isolated third steps.
public struct InRoundDraftSteps: Sendable {
    /// The runs' mean context (their prompt plus half their tokens): the steps' costs are moved
    /// to other contexts by the secondary's fitted step.
    public var context: Int
    /// Per position k (index k - 1): mean nanoseconds per step and its standard error over the
    /// runs (0 with one run).
    public var steps: [(mean: Double, standardError: Double)]
    /// Profile runs the steps came from.
    public var runs: Int

    /// Per secondary, from the profile's records (positions a run never reached are left out
    /// from there on: the costs stop at the first position without steps).
    public static func fit(_ records: [ProfileDraftSteps]) -> [String: InRoundDraftSteps] {
        var result: [String: InRoundDraftSteps] = [:]
        for secondary in Set(records.map(\.secondary)) {
            let own = records.filter { $0.secondary == secondary }
            var steps: [(mean: Double, standardError: Double)] = []
            for position in 1... {
                let rows = own.filter { $0.position == position && $0.steps > 0 }
                guard !rows.isEmpty else { break }
                let mean = rows.reduce(0) { $0 + $1.nanoseconds } / Double(rows.reduce(0) { $0 + $1.steps })
                let perRun = Statistics.summarize(rows.map { $0.nanoseconds / Double($0.steps) })
                let error = perRun.count > 1 ? perRun.standardDeviation / Double(perRun.count).squareRoot() : 0
                steps.append((mean, error))
            }
            guard !steps.isEmpty, let first = own.first else { continue }
            result[secondary] = InRoundDraftSteps(context: first.context + first.tokens / 2, steps: steps,
                                                  runs: Set(own.map(\.repeatIndex)).count)
        }
        return result
    }

    /// calibration.csv rows: quantity `draft_step_in_round`, term `position_k`.
    func tableRows(secondary: String) -> [[CSVValue]] {
        steps.enumerated().map { index, step in
            [.string(secondary), "draft_step_in_round", .string("position_\(index + 1)"), .real(step.mean),
             .real(step.standardError), "", .integer(runs), ""]
        }
    }
}
