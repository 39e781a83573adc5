import TandemEngine

/// Everything that chooses how one decoding run decodes (not which models it uses).
///
/// `gamma` has one meaning per policy, for `tandem generate` and the sweep alike: the block
/// length (fixed; standalone tandem), the cap on drafts per round (confidence, router), the
/// starting length (heuristic, which then moves within 1...`gammaMax`).
public struct DecodingPlan: Sendable {
    public var strategy: StrategyKind
    public var policy: PolicyKind
    public var gamma: Int
    /// The heuristic policy's cap.
    public var gammaMax: Int
    /// Confidence policy: stop drafting when the draft's top probability is below this.
    public var minimumProbability: Double
    /// Router policy: stop drafting when the predicted acceptance is below this.
    public var tau: Float
    public var sampling: SamplingParameters
    /// Oracle acceptance per draft position (nil: the rule follows from `sampling`).
    public var oracleAlphas: [Double]?
    /// How the oracle draws its decisions (see `OracleAcceptance`).
    public var oracleSampling: OracleAcceptance.Sampling

    public init(strategy: StrategyKind, policy: PolicyKind, gamma: Int, gammaMax: Int, minimumProbability: Double,
                tau: Float, sampling: SamplingParameters, oracleAlphas: [Double]?,
                oracleSampling: OracleAcceptance.Sampling = .stratified) {
        self.strategy = strategy
        self.policy = policy
        self.gamma = gamma
        self.gammaMax = gammaMax
        self.minimumProbability = minimumProbability
        self.tau = tau
        self.sampling = sampling
        self.oracleAlphas = oracleAlphas
        self.oracleSampling = oracleSampling
    }

    /// Drafts the drafter must be able to hold in one round.
    public var lookahead: Int { max(gamma, gammaMax) + 1 }
}

/// The models a plan decodes with.
public struct DecodingModelSet {
    public var primary: Transformer
    public var secondary: Transformer?
    public var tandem: TandemSecondary?
    /// The trained router for the router policy (nil: `DecodingFactory.defaultRouter`).
    public var router: Router?

    public init(primary: Transformer, secondary: Transformer?, tandem: TandemSecondary?, router: Router?) {
        self.primary = primary
        self.secondary = secondary
        self.tandem = tandem
        self.router = router
    }
}

/// The one place strategies are built, for every caller.
public enum DecodingFactory {
    /// Seed offsets of the acceptance rule's and the default router's generators.
    public static let ruleSeedSalt: UInt64 = 17
    public static let routerSeedSalt: UInt64 = 3

    /// The router used when none was trained: seeded random weights (top-4 features, 32 hidden).
    public static func defaultRouter(secondaryWidth: Int, seed: UInt64) -> Router {
        Router.random(topK: 4, hiddenWidth: 32, embeddingWidth: secondaryWidth, seed: seed &+ routerSeedSalt)
    }

    public static func policy(_ plan: DecodingPlan, router: Router?) -> BlockPolicy {
        switch plan.policy {
        case .fixed: return FixedPolicy(gamma: plan.gamma)
        case .confidence: return ConfidencePolicy(minimumProbability: plan.minimumProbability, gammaMax: plan.gamma)
        case .heuristic: return HeuristicPolicy(initial: plan.gamma, gammaMax: max(plan.gammaMax, plan.gamma))
        case .router:
            guard let router else { preconditionFailure("the router policy needs a router") }
            return RouterPolicy(router: router, threshold: plan.tau, gammaMax: plan.gamma)
        }
    }

    public static func rule(_ plan: DecodingPlan, seed: UInt64) -> AcceptanceRule {
        let ruleSeed = seed &+ ruleSeedSalt
        if let alphas = plan.oracleAlphas {
            return OracleAcceptance(alphas: alphas, parameters: plan.sampling, seed: ruleSeed,
                                    sampling: plan.oracleSampling)
        }
        return plan.sampling.isGreedy ? GreedyAcceptance()
            : SpeculativeSampling(parameters: plan.sampling, seed: ruleSeed)
    }

    /// The strategy of `plan` over `models` for a generation of up to `capacity` positions, run
    /// with `settings` (threads and timers of this run; default each model's planned threads).
    public static func strategy(_ plan: DecodingPlan, models: DecodingModelSet, seed: UInt64,
                                capacity: Int, settings: DecodingSettings? = nil) throws -> DecodingStrategy {
        func need<T>(_ value: T?, _ what: String) throws -> T {
            guard let value else {
                throw DecodingSetupError(message: "strategy \(plan.strategy.rawValue) needs \(what)")
            }
            return value
        }
        switch plan.strategy {
        case .primary:
            return AutoregressiveDecoding(name: "primary", model: models.primary, parameters: plan.sampling, seed: seed,
                                          settings: settings?.primary)
        case .secondary:
            return AutoregressiveDecoding(name: "secondary", model: try need(models.secondary, "a secondary"),
                                          parameters: plan.sampling, seed: seed, settings: settings?.secondary)
        case .tandem:
            return StandaloneTandemDecoding(primary: models.primary,
                                            tandem: try need(models.tandem, "a tandem secondary"),
                                            gamma: plan.gamma, parameters: plan.sampling, seed: seed,
                                            contextCapacity: capacity, settings: settings)
        case .speed, .tandemSpeed:
            let drafter: Drafter = plan.strategy == .tandemSpeed
                ? TandemDrafter(tandem: try need(models.tandem, "a tandem secondary"), contextCapacity: capacity,
                                maxTokens: plan.lookahead, settings: settings?.secondary)
                : PlainDrafter(model: try need(models.secondary, "a secondary"), contextCapacity: capacity,
                               maxTokens: plan.lookahead, settings: settings?.secondary)
            var router = models.router
            if plan.policy == .router && router == nil {
                let width = (models.secondary ?? models.tandem?.model)?.config.width ?? 1
                router = defaultRouter(secondaryWidth: width, seed: seed)
            }
            return SpeculativeDecoding(primary: models.primary, drafter: drafter, policy: policy(plan, router: router),
                                       rule: rule(plan, seed: seed), parameters: plan.sampling, seed: seed,
                                       primarySettings: settings?.primary)
        }
    }
}

/// A plan that the given models cannot run.
public struct DecodingSetupError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
