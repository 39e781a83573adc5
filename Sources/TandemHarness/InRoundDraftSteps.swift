import TandemAnalysis
import TandemReport

/// A secondary's draft steps as real rounds pay them, from the profile's in-round runs
/// (`profile_draft_steps.csv`): the mean cost of step k of a round, k = 1 (right after the
/// primary's verification pass) ... gamma, at each context the runs started from. The a-priori
/// prediction prices drafting by these instead of one isolated cold step plus isolated third
/// steps.
public struct InRoundDraftSteps: Sendable {
    /// Per position k (index k - 1): mean nanoseconds per step and its standard error over the
    /// runs (0 with one run).
    public typealias Steps = [(mean: Double, standardError: Double)]
    /// Every level by mean context (its runs' prompt plus half their tokens), ascending, one per
    /// sweep context profiled; never empty.
    public var levels: [(context: Int, steps: Steps)]
    /// Profile runs the lowest level's steps came from.
    public var runs: Int
    /// The lowest level's mean context and steps.
    public var context: Int { levels[0].context }
    public var steps: Steps { levels[0].steps }

    /// Per secondary, from the profile's records (positions a run never reached are left out
    /// from there on: the costs stop at the first position without steps).
    public static func fit(_ records: [ProfileDraftSteps]) -> [String: InRoundDraftSteps] {
        var result: [String: InRoundDraftSteps] = [:]
        for secondary in Set(records.map(\.secondary)) {
            let own = records.filter { $0.secondary == secondary }
            var levels: [(context: Int, steps: Steps, runs: Int)] = []
            for start in Set(own.map(\.context)).sorted() {
                let level = own.filter { $0.context == start }
                var steps: Steps = []
                for position in 1... {
                    let rows = level.filter { $0.position == position && $0.steps > 0 }
                    guard !rows.isEmpty else { break }
                    let mean = rows.reduce(0) { $0 + $1.nanoseconds } / Double(rows.reduce(0) { $0 + $1.steps })
                    let perRun = Statistics.summarize(rows.map { $0.nanoseconds / Double($0.steps) })
                    let error = perRun.count > 1 ? perRun.standardDeviation / Double(perRun.count).squareRoot() : 0
                    steps.append((mean, error))
                }
                guard !steps.isEmpty, let first = level.first else { continue }
                levels.append((first.context + first.tokens / 2, steps, Set(level.map(\.repeatIndex)).count))
            }
            guard let lowest = levels.first else { continue }
            result[secondary] = InRoundDraftSteps(levels: levels.map { ($0.context, $0.steps) }, runs: lowest.runs)
        }
        return result
    }

    /// The steps at mean context `c` when the levels span it: a level's own at its context,
    /// linear in the context between the two around it, position by position (up to the shorter
    /// level's positions); nil outside the levels (the caller moves the nearest by a fit).
    public func steps(at c: Int) -> Steps? {
        if let level = levels.first(where: { $0.context == c }) { return level.steps }
        guard let upper = levels.firstIndex(where: { $0.context > c }), upper > 0 else { return nil }
        let low = levels[upper - 1], high = levels[upper]
        let t = Double(c - low.context) / Double(high.context - low.context)
        return zip(low.steps, high.steps).map { a, b in
            (a.mean + t * (b.mean - a.mean), max(a.standardError, b.standardError))
        }
    }

    /// The level nearest to context `c`.
    public func nearest(to c: Int) -> (context: Int, steps: Steps) {
        levels.min { abs($0.context - c) < abs($1.context - c) } ?? levels[0]
    }

    /// calibration.csv rows: quantity `draft_step_in_round`, term `position_k` for the lowest
    /// level and `position_k_context_c` (c its mean context) for any further level.
    func tableRows(secondary: String) -> [[CSVValue]] {
        levels.enumerated().flatMap { levelIndex, level in
            level.steps.enumerated().map { index, step in
                let term = levelIndex == 0 ? "position_\(index + 1)" : "position_\(index + 1)_context_\(level.context)"
                return [.string(secondary), "draft_step_in_round", .string(term), .real(step.mean),
                        .real(step.standardError), "", .integer(runs), ""] as [CSVValue]
            }
        }
    }
}
