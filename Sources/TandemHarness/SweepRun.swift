import TandemEngine
import TandemReport

/// One point of the sweep grid.
public struct SweepPoint: Hashable, Sendable {
    public var strategy: StrategyKind
    public var policy: PolicyKind
    public var secondary: String
    public var gamma: Int
    /// nil: acceptance from the models themselves (model mode).
    public var alphas: [Double]?
    public var context: Int
    public var threads: Int

    public var alphaLabel: String { alphas.map { $0.map { String($0) }.joined(separator: ";") } ?? "model" }

    /// The point's identity: what resume matches finished rows by, and what seeds derive from.
    public var key: String {
        [strategy.rawValue, policy.rawValue, secondary, String(gamma), alphaLabel, String(context), String(threads)]
            .joined(separator: "|")
    }

    /// A stable per-point seed offset (FNV-1a of the key).
    var seedOffset: UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    static let columns = ["strategy", "policy", "secondary", "gamma", "alpha", "context", "threads"]

    var fields: [CSVValue] {
        [.string(strategy.rawValue), .string(policy.rawValue), .string(secondary), .integer(gamma), .string(alphaLabel),
         .integer(context), .integer(threads)]
    }

    init(strategy: StrategyKind, policy: PolicyKind, secondary: String, gamma: Int, alphas: [Double]?, context: Int,
         threads: Int) {
        self.strategy = strategy
        self.policy = policy
        self.secondary = secondary
        self.gamma = gamma
        self.alphas = alphas
        self.context = context
        self.threads = threads
    }

    init(row: CSVRow) throws {
        func fail(_ column: String, _ expectation: String) -> CSVFormatError {
            CSVFormatError(file: row.file, line: row.line, column: column, expectation: expectation)
        }
        let strategyName = try row.string("strategy"), policyName = try row.string("policy")
        guard let strategy = StrategyKind(rawValue: strategyName) else { throw fail("strategy", "a strategy") }
        guard let policy = PolicyKind(rawValue: policyName) else { throw fail("policy", "a policy") }
        let label = try row.string("alpha")
        var alphas: [Double]?
        if label != "model" {
            alphas = try label.split(separator: ";").map {
                guard let value = Double($0) else { throw fail("alpha", "\"model\" or numbers separated by ';'") }
                return value
            }
        }
        self.init(strategy: strategy, policy: policy, secondary: try row.string("secondary"),
                  gamma: try row.integer("gamma"), alphas: alphas, context: try row.integer("context"),
                  threads: try row.integer("threads"))
    }
}

/// sweep_runs.csv: one measured run of a strategy and the primary-alone run paired with it
/// (adjacent in time, ABBA order), with the run's counters and the point's probe.
public struct SweepRun: CSVRecord {
    public var point: SweepPoint
    public var repeatIndex: Int
    public var tokens: Int
    /// Decode time of the paired primary-alone run (same prompt, tokens, context, threads).
    public var baselineNanoseconds: Double
    public var strategyNanoseconds: Double
    /// Whether the baseline ran first (A B) or second (B A) in its pair.
    public var baselineFirst: Bool
    public var rounds: Int
    public var drafted: Int
    public var accepted: Int
    public var draftedByPosition: [Int]
    public var judgedByPosition: [Int]
    public var acceptedByPosition: [Int]
    public var fullRoundHistogram: [Int]
    /// Rounds per draft length 0, 1, 2, ... (for adaptive policies the round's own length varies).
    public var draftLengthHistogram: [Int]
    /// Mean wall time of draft step k + 1 of a round in this run (nanoseconds; step 1 right
    /// after a verification): what drafting cost inside the measured run, beside the profile's
    /// `draft_step_in_round` (empty for strategies that do not draft, or in older files).
    public var draftStepMeanNanoseconds: [Int]
    /// The run's wall time in its verification passes and in drafting (the strategy's phase
    /// clock; 0 where it has none).
    public var verifyNanoseconds: Double
    public var draftNanoseconds: Double
    public var probe: ProbeCosts

    public static let columns = SweepPoint.columns + [
        "repeat", "tokens", "baseline_ns", "strategy_ns", "baseline_first", "rounds", "drafted", "accepted",
        "drafted_by_position", "judged_by_position", "accepted_by_position", "full_round_histogram",
        "draft_length_histogram", "draft_step_mean_ns_by_position", "verify_ns", "draft_ns",
        "local_primary_one_ns", "local_block_ratio", "local_secondary_cold_ns", "local_secondary_warm_ns",
    ]

    public static let optionalColumns: Set<String> = ["draft_step_mean_ns_by_position", "verify_ns", "draft_ns"]

    public var fields: [CSVValue] {
        func joined(_ values: [Int]) -> CSVValue { .string(values.map(String.init).joined(separator: ";")) }
        return point.fields + [
            .integer(repeatIndex), .integer(tokens), .integer(Int(baselineNanoseconds)),
            .integer(Int(strategyNanoseconds)),
            .integer(baselineFirst ? 1 : 0), .integer(rounds), .integer(drafted), .integer(accepted),
            joined(draftedByPosition), joined(judgedByPosition), joined(acceptedByPosition), joined(fullRoundHistogram),
            joined(draftLengthHistogram), joined(draftStepMeanNanoseconds), .integer(Int(verifyNanoseconds)),
            .integer(Int(draftNanoseconds)), .integer(Int(probe.decodeStep)), .real(probe.blockRatio),
            .integer(Int(probe.secondaryColdStep)), .integer(Int(probe.secondaryWarmStep)),
        ]
    }

    public init(point: SweepPoint, repeatIndex: Int, tokens: Int, baselineNanoseconds: Double,
                strategyNanoseconds: Double, baselineFirst: Bool, telemetry t: DecodingTelemetry, probe: ProbeCosts) {
        self.point = point
        self.repeatIndex = repeatIndex
        self.tokens = tokens
        self.baselineNanoseconds = baselineNanoseconds
        self.strategyNanoseconds = strategyNanoseconds
        self.baselineFirst = baselineFirst
        rounds = t.rounds
        drafted = t.drafted
        accepted = t.accepted
        draftedByPosition = t.draftedByPosition
        judgedByPosition = t.judgedByPosition
        acceptedByPosition = t.acceptedByPosition
        fullRoundHistogram = t.fullRoundHistogram
        draftLengthHistogram = t.draftLengthHistogram
        draftStepMeanNanoseconds = zip(t.draftStepsByPosition, t.draftStepNanosecondsByPosition).map { steps, total in
            steps > 0 ? Int(total / UInt64(steps)) : 0
        }
        verifyNanoseconds = Double(t.phaseNanoseconds[.verify] ?? 0)
        draftNanoseconds = Double(t.phaseNanoseconds[.draft] ?? 0)
        self.probe = probe
    }

    public init(row: CSVRow) throws {
        point = try SweepPoint(row: row)
        repeatIndex = try row.integer("repeat")
        tokens = try row.integer("tokens")
        baselineNanoseconds = try row.real("baseline_ns")
        strategyNanoseconds = try row.real("strategy_ns")
        baselineFirst = try row.integer("baseline_first") != 0
        rounds = try row.integer("rounds")
        drafted = try row.integer("drafted")
        accepted = try row.integer("accepted")
        draftedByPosition = try row.integers("drafted_by_position")
        judgedByPosition = try row.integers("judged_by_position")
        acceptedByPosition = try row.integers("accepted_by_position")
        fullRoundHistogram = try row.integers("full_round_histogram")
        draftLengthHistogram = try row.integers("draft_length_histogram")
        // Files written before these columns existed read as "not recorded".
        draftStepMeanNanoseconds = row.has("draft_step_mean_ns_by_position")
            ? try row.integers("draft_step_mean_ns_by_position") : []
        verifyNanoseconds = row.has("verify_ns") ? try row.optionalReal("verify_ns") ?? 0 : 0
        draftNanoseconds = row.has("draft_ns") ? try row.optionalReal("draft_ns") ?? 0 : 0
        probe = ProbeCosts(decodeStep: try row.real("local_primary_one_ns"),
                           blockRatio: try row.real("local_block_ratio"),
                           secondaryColdStep: try row.real("local_secondary_cold_ns"),
                           secondaryWarmStep: try row.real("local_secondary_warm_ns"))
    }
}
