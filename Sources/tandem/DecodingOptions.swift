import ArgumentParser
import TandemEngine
import TandemHarness

typealias StrategyName = StrategyKind
typealias PolicyName = PolicyKind
extension StrategyKind: ExpressibleByArgument {}
extension PolicyKind: ExpressibleByArgument {}
extension OracleAcceptance.Sampling: ExpressibleByArgument {}

/// Options of a decoding run: strategy, block policy, sampling, oracle acceptance.
struct DecodingOptions: ParsableArguments {
    @Option(help: "Strategy: \(StrategyName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var strategy: StrategyName = .tandemSpeed

    @Option(help: "Block policy of SPEED strategies: \(PolicyName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var policy: PolicyName = .fixed

    @Option(help: ArgumentHelp("Gamma: the block length (fixed policy, standalone tandem), the cap on drafts per "
                               + "round (confidence, router), the starting length (heuristic)."))
    var gamma = 5

    @Option(help: "The heuristic policy's upper bound on drafts per round.")
    var gammaMax = 8

    @Option(help: "Confidence policy: stop drafting when the draft's top probability is below this.")
    var pMin = 0.5

    @Option(help: "Router policy: stop drafting when the predicted acceptance is below tau.")
    var tau: Float = 0.8

    @Option(help: "Sampling temperature (0 = greedy).")
    var temperature: Float = 0

    @Option(help: "Top-k filter (0 = off).")
    var topK = 0

    @Option(help: "Top-p (nucleus) filter (1 = off).")
    var topP: Float = 1

    @Option(help: ArgumentHelp("Oracle mode: accept draft k with probability alpha_k; one value, or comma-separated "
                               + "per-position values."))
    var oracleAlpha: String?

    @Option(help: ArgumentHelp("Oracle mode: how decisions are drawn: stratified (each position's accepted share "
                               + "stays at its alpha) or independent (a fresh uniform per decision)."))
    var oracleSampling: OracleAcceptance.Sampling = .stratified

    var sampling: SamplingParameters { SamplingParameters(temperature: temperature, topK: topK, topP: topP) }

    func oracleAlphas() throws -> [Double]? {
        guard let oracleAlpha else { return nil }
        return try parseAlphas(oracleAlpha, option: "--oracle-alpha")
    }

    func validate() throws {
        guard gamma >= 1 else { throw ValidationError("--gamma must be at least 1, got \(gamma)") }
        guard gammaMax >= 1 else { throw ValidationError("--gamma-max must be at least 1, got \(gammaMax)") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be >= 0, got \(temperature)") }
        guard topK >= 0 else { throw ValidationError("--top-k must be >= 0, got \(topK)") }
        guard topP > 0 && topP <= 1 else { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
        guard (0...1).contains(pMin) else { throw ValidationError("--p-min must be in [0, 1], got \(pMin)") }
        _ = try oracleAlphas()
        if oracleAlpha != nil && !strategy.isSpeculative {
            throw ValidationError("--oracle-alpha applies to the speed and tandem-speed strategies only")
        }
    }

    /// The plan of this run (see `DecodingPlan` for what gamma means per policy).
    func plan() throws -> DecodingPlan {
        DecodingPlan(strategy: strategy, policy: policy, gamma: gamma, gammaMax: gammaMax, minimumProbability: pMin,
                     tau: tau, sampling: sampling, oracleAlphas: try oracleAlphas(), oracleSampling: oracleSampling)
    }

    /// Builds the strategy over `models` for a generation of up to `capacity` positions.
    func makeStrategy(models: DecodingModels, seed: UInt64, capacity: Int,
                      settings: DecodingSettings) throws -> DecodingStrategy {
        try DecodingFactory.strategy(try plan(), models: models.modelSet, seed: seed, capacity: capacity,
                                     settings: settings)
    }
}

/// Acceptance probabilities from "0.8" or "0.9,0.8,0.7" (one per draft position).
func parseAlphas(_ text: String, option: String) throws -> [Double] {
    let values = text.split(separator: ",", omittingEmptySubsequences: false)
        .map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ $0 != nil && (0...1).contains($0!) }) else {
        throw ValidationError("\(option) must be numbers in [0, 1] separated by commas, got '\(text)'")
    }
    return values.map { $0! }
}
