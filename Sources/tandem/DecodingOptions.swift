import ArgumentParser
import TandemEngine
import TandemHarness

typealias StrategyName = StrategyKind
typealias PolicyName = PolicyKind
extension StrategyKind: ExpressibleByArgument {}
extension PolicyKind: ExpressibleByArgument {}

/// Options of a decoding run: strategy, block policy, sampling, oracle acceptance.
struct DecodingOptions: ParsableArguments {
    @Option(help: "Strategy: \(StrategyName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var strategy: StrategyName = .tandemSpeed

    @Option(help: "Block policy of SPEED strategies: \(PolicyName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var policy: PolicyName = .fixed

    @Option(help: "Block length gamma (fixed policy, standalone tandem; the start of the heuristic).")
    var gamma = 5

    @Option(help: "Upper bound on drafts per round for the confidence, heuristic and router policies.")
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

    @Option(help: "Oracle mode: accept draft k with probability alpha_k; one value, or comma-separated per-position values.")
    var oracleAlpha: String?

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

    func makePolicy(router: Router?) -> BlockPolicy {
        switch policy {
        case .fixed: return FixedPolicy(gamma: gamma)
        case .confidence: return ConfidencePolicy(minimumProbability: pMin, gammaMax: gammaMax)
        case .heuristic: return HeuristicPolicy(initial: gamma, gammaMax: gammaMax)
        case .router: return RouterPolicy(router: router!, threshold: tau, gammaMax: gammaMax)
        }
    }

    func makeRule(seed: UInt64) throws -> AcceptanceRule {
        if let alphas = try oracleAlphas() { return OracleAcceptance(alphas: alphas, parameters: sampling, seed: seed) }
        return sampling.isGreedy ? GreedyAcceptance() : SpeculativeSampling(parameters: sampling, seed: seed)
    }

    /// Builds the strategy over `models` for a generation of up to `capacity` positions.
    func makeStrategy(models: DecodingModels, seed: UInt64, capacity: Int) throws -> DecodingStrategy {
        let lookahead = max(gamma, gammaMax) + 1
        switch strategy {
        case .primary:
            return AutoregressiveDecoding(name: "primary", model: models.primary, parameters: sampling, seed: seed)
        case .secondary:
            return AutoregressiveDecoding(name: "secondary", model: models.secondary, parameters: sampling, seed: seed)
        case .tandem:
            return StandaloneTandemDecoding(primary: models.primary, tandem: models.tandem!, gamma: gamma,
                                            parameters: sampling, seed: seed, contextCapacity: capacity)
        case .speed, .tandemSpeed:
            let drafter: Drafter = strategy == .tandemSpeed
                ? TandemDrafter(tandem: models.tandem!, contextCapacity: capacity, maxTokens: lookahead)
                : PlainDrafter(model: models.secondary, contextCapacity: capacity, maxTokens: lookahead)
            return SpeculativeDecoding(primary: models.primary, drafter: drafter, policy: makePolicy(router: models.router),
                                       rule: try makeRule(seed: seed &+ 17), parameters: sampling, seed: seed)
        }
    }
}

/// Acceptance probabilities from "0.8" or "0.9,0.8,0.7" (one per draft position).
func parseAlphas(_ text: String, option: String) throws -> [Double] {
    let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ $0 != nil && (0...1).contains($0!) }) else {
        throw ValidationError("\(option) must be numbers in [0, 1] separated by commas, got '\(text)'")
    }
    return values.map { $0! }
}
