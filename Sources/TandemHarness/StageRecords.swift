import TandemEngine
import TandemReport

/// machine_limits.csv: the machine's limits measured at the start of the profile.
public struct MachineLimitsRecord: CSVRecord {
    public var threads: Int
    public var peakGigaflops: Double
    public var dramReadGigabytesPerSecond: Double

    public static let columns = ["threads", "peak_gflops", "dram_read_gbps"]
    public var fields: [CSVValue] { [.integer(threads), .real(peakGigaflops), .real(dramReadGigabytesPerSecond)] }
}

extension MachineLimitsRecord {
    public init(row: CSVRow) throws {
        threads = try row.integer("threads")
        peakGigaflops = try row.real("peak_gflops")
        dramReadGigabytesPerSecond = try row.real("dram_read_gbps")
    }
}

/// profile_samples.csv: one timed forward pass (or projection) of one model.
public struct ProfileSample: CSVRecord {
    public var model: String
    /// "forward", "forward_cold" (a secondary's first step after a primary pass) or "projection".
    public var quantity: String
    public var tokens: Int
    public var context: Int
    public var repeatIndex: Int
    public var nanoseconds: Double

    public static let columns = ["model", "quantity", "tokens", "context", "repeat", "nanoseconds"]
    public var fields: [CSVValue] {
        [.string(model), .string(quantity), .integer(tokens), .integer(context), .integer(repeatIndex),
         .integer(Int(nanoseconds))]
    }
}

extension ProfileSample {
    public init(row: CSVRow) throws {
        model = try row.string("model")
        quantity = try row.string("quantity")
        tokens = try row.integer("tokens")
        context = try row.integer("context")
        repeatIndex = try row.integer("repeat")
        nanoseconds = try row.real("nanoseconds")
    }
}

/// profile_layers.csv: one layer component's time within a profiled forward pass.
public struct ProfileLayerSample: CSVRecord {
    public var model: String
    /// nil for the parts outside the layers (embedding, final norm, head).
    public var layer: Int?
    public var component: String
    public var phase: String
    public var tokens: Int
    public var context: Int
    public var repeatIndex: Int
    public var nanoseconds: Double

    public static let columns = ["model", "layer", "component", "phase", "tokens", "context", "repeat", "nanoseconds"]
    public var fields: [CSVValue] {
        [.string(model), layer.map { .integer($0) } ?? "", .string(component), .string(phase), .integer(tokens),
         .integer(context), .integer(repeatIndex), .integer(Int(nanoseconds))]
    }
}

extension ProfileLayerSample {
    public init(row: CSVRow) throws {
        model = try row.string("model")
        layer = try row.optionalInteger("layer")
        component = try row.string("component")
        phase = try row.string("phase")
        tokens = try row.integer("tokens")
        context = try row.integer("context")
        repeatIndex = try row.integer("repeat")
        nanoseconds = try row.real("nanoseconds")
    }
}

/// profile_overheads.csv: loop time not spent in model compute.
public struct ProfileOverhead: CSVRecord {
    public var model: String
    /// "token_overhead" (primary-alone loop, per token) or "round_overhead" (SPEED, per round).
    public var quantity: String
    public var repeatIndex: Int
    public var nanoseconds: Double

    public static let columns = ["model", "quantity", "repeat", "nanoseconds"]
    public var fields: [CSVValue] {
        [.string(model), .string(quantity), .integer(repeatIndex), .integer(Int(nanoseconds))]
    }
}

extension ProfileOverhead {
    public init(row: CSVRow) throws {
        model = try row.string("model")
        quantity = try row.string("quantity")
        repeatIndex = try row.integer("repeat")
        nanoseconds = try row.real("nanoseconds")
    }
}

/// profile_baseline.csv: one autoregressive run of the primary alone per profile repeat, its
/// decode steps back to back as in the sweep's baselines, and the isolated decode steps timed
/// beside it: their difference is the loop's own excess per token.
public struct ProfileBaselineRun: CSVRecord {
    public var repeatIndex: Int
    /// Context of its first and last decode step.
    public var firstContext: Int
    public var lastContext: Int
    /// Decode time per token, the loop's own overhead included.
    public var nanosecondsPerToken: Double
    /// The mean of isolated decode steps timed beside this run, at the middle of its contexts
    /// (nil in profiles made before it was measured).
    public var isolatedNanosecondsPerToken: Double?

    public static let columns = ["repeat", "first_context", "last_context", "nanoseconds_per_token",
                                 "isolated_nanoseconds_per_token"]
    public static let optionalColumns: Set<String> = ["isolated_nanoseconds_per_token"]
    public var fields: [CSVValue] {
        [.integer(repeatIndex), .integer(firstContext), .integer(lastContext), .integer(Int(nanosecondsPerToken)),
         isolatedNanosecondsPerToken.map { .integer(Int($0)) } ?? .string("")]
    }
}

extension ProfileBaselineRun {
    public init(row: CSVRow) throws {
        repeatIndex = try row.integer("repeat")
        firstContext = try row.integer("first_context")
        lastContext = try row.integer("last_context")
        nanosecondsPerToken = try row.real("nanoseconds_per_token")
        isolatedNanosecondsPerToken = row.has("isolated_nanoseconds_per_token")
            ? try row.optionalReal("isolated_nanoseconds_per_token") : nil
    }
}

/// profile_acceptance.csv: acceptance of each drafter in model mode, measured once in the
/// profile stage (judged and accepted drafts per position), for the a-priori prediction.
public struct ProfileAcceptance: CSVRecord {
    public var strategy: StrategyKind
    public var secondary: String
    public var position: Int
    public var judged: Int
    public var accepted: Int

    public static let columns = ["strategy", "secondary", "position", "judged", "accepted"]
    public var fields: [CSVValue] {
        [.string(strategy.rawValue), .string(secondary), .integer(position), .integer(judged), .integer(accepted)]
    }
}

extension ProfileAcceptance {
    public init(row: CSVRow) throws {
        strategy = try row.strategy()
        secondary = try row.string("secondary")
        position = try row.integer("position")
        judged = try row.integer("judged")
        accepted = try row.integer("accepted")
    }
}

/// profile_policies.csv: what an adaptive policy (confidence, heuristic, router) does at a
/// sweep point, measured once in the profile stage by one generation of the point's length:
/// the rounds, the accepted drafts, the committed tokens and how many rounds drafted each
/// length. With the calibrated costs this predicts the point's speedup before the sweep.
public struct ProfilePolicyRun: CSVRecord {
    public var point: SweepPoint
    public var rounds: Int
    public var accepted: Int
    /// Tokens after the first (which comes from the prefill).
    public var committed: Int
    /// Rounds per draft length 0, 1, 2, ...
    public var draftLengthHistogram: [Int]

    public static let columns = SweepPoint.columns + ["rounds", "accepted", "committed", "draft_length_histogram"]
    public var fields: [CSVValue] {
        point.fields + [.integer(rounds), .integer(accepted), .integer(committed),
                        .string(draftLengthHistogram.map(String.init).joined(separator: ";"))]
    }
}

extension ProfilePolicyRun {
    public init(row: CSVRow) throws {
        point = try SweepPoint(row: row)
        rounds = try row.integer("rounds")
        accepted = try row.integer("accepted")
        committed = try row.integer("committed")
        draftLengthHistogram = try row.integers("draft_length_histogram")
    }
}

/// profile_draft_steps.csv: a secondary's draft steps timed inside real rounds (a fixed-policy
/// run at the sweep's largest gamma), per repeat and step position: how many ran and their
/// total wall time. Step 1 follows the previous round's verification pass.
public struct ProfileDraftSteps: CSVRecord {
    public var secondary: String
    public var strategy: StrategyKind
    public var gamma: Int
    /// The run's prompt length and tokens generated (its steps span context ... context + tokens).
    public var context: Int
    public var tokens: Int
    public var repeatIndex: Int
    public var position: Int
    public var steps: Int
    public var nanoseconds: Double

    public static let columns = ["secondary", "strategy", "gamma", "context", "tokens", "repeat", "position", "steps",
                                 "nanoseconds"]
    public var fields: [CSVValue] {
        [.string(secondary), .string(strategy.rawValue), .integer(gamma), .integer(context), .integer(tokens),
         .integer(repeatIndex), .integer(position), .integer(steps), .integer(Int(nanoseconds))]
    }
}

extension ProfileDraftSteps {
    public init(row: CSVRow) throws {
        secondary = try row.string("secondary")
        strategy = try row.strategy()
        gamma = try row.integer("gamma")
        context = try row.integer("context")
        tokens = try row.integer("tokens")
        repeatIndex = try row.integer("repeat")
        position = try row.integer("position")
        steps = try row.integer("steps")
        nanoseconds = try row.real("nanoseconds")
    }
}

extension CSVRow {
    /// The strategy named in `column`, or an error naming the file, line, column and value.
    func strategy(_ column: String = "strategy") throws -> StrategyKind {
        let name = try string(column)
        guard let strategy = StrategyKind(rawValue: name) else {
            throw CSVFormatError(file: file, line: line, column: column, expectation: "a strategy, got \(name)")
        }
        return strategy
    }
}
