import ArgumentParser
import TandemEngine

/// Options choosing the primary, the secondary and the router for decoding commands.
struct DecodingModelOptions: ParsableArguments {
    @Option(help: "Primary checkpoint (safetensors); default: --primary-preset with seeded random weights.")
    var primaryCheckpoint: String?

    @Option(help: "Primary preset when no checkpoint is given: \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var primaryPreset: ModelPreset = .p150

    @Option(help: "Secondary checkpoint; a tandem secondary carries tandem.* projection tensors.")
    var secondaryCheckpoint: String?

    @Option(help: "Secondary preset when no checkpoint is given (random weights; tandem projections added when the strategy needs them).")
    var secondaryPreset: ModelPreset = .s10

    @Option(help: "Layer map of a random tandem secondary: output (default) or input.")
    var layerMap: TandemLayerMap = .output

    @Option(help: "Router checkpoint for --policy router; default: a seeded random router.")
    var routerCheckpoint: String?

    @Option(help: "Kernel backend: packed (default; blocks and single tokens share kernels, so greedy SPEED output is bit-identical to the primary's), auto, openblas.")
    var backend: KernelBackend = .packed
}

extension TandemLayerMap: ExpressibleByArgument {}

/// The models of a decoding run, built once.
struct DecodingModels {
    let primary: Transformer
    let secondary: Transformer
    /// Present when the secondary is (or was made) a tandem secondary.
    let tandem: TandemSecondary?
    let router: Router?

    init(options: DecodingModelOptions, needsTandem: Bool, needsRouter: Bool, threads: Int, seed: UInt64) throws {
        let primaryWeights = try options.primaryCheckpoint.map { try ModelWeights.load(path: $0) }
            ?? ModelWeights.random(config: options.primaryPreset.config, seed: seed)
        primary = Transformer(weights: primaryWeights, backend: options.backend, threads: threads)
        let checkpoint: SecondaryCheckpoint
        if let path = options.secondaryCheckpoint {
            checkpoint = try SecondaryCheckpoint.load(path: path, primary: primaryWeights.config)
            if needsTandem && checkpoint.projections == nil {
                throw ValidationError("\(path) is a plain secondary (no tandem.* tensors); this strategy needs a tandem secondary")
            }
        } else {
            var config = options.secondaryPreset.config
            config.vocabularySize = primaryWeights.config.vocabularySize
            config.maxContext = primaryWeights.config.maxContext
            let weights = try ModelWeights.random(config: config, seed: seed &+ 1)
            var projections: ProjectionWeights?
            if needsTandem {
                let p = ProjectionWeights(secondaryLayers: config.layerCount, secondaryWidth: config.width, primaryWidth: primaryWeights.config.width)
                p.randomize(seed: seed &+ 2)
                projections = p
            }
            checkpoint = SecondaryCheckpoint(weights: weights, projections: projections, layerMap: options.layerMap,
                                             primaryLayers: primaryWeights.config.layerCount)
        }
        guard checkpoint.weights.config.vocabularySize == primaryWeights.config.vocabularySize else {
            throw ValidationError("the secondary's vocabulary (\(checkpoint.weights.config.vocabularySize)) differs from the primary's (\(primaryWeights.config.vocabularySize))")
        }
        let secondary = Transformer(weights: checkpoint.weights, backend: options.backend, threads: threads)
        self.secondary = secondary
        tandem = checkpoint.projections.map {
            TandemSecondary(model: secondary, projections: $0, layerMap: checkpoint.layerMap, primaryConfig: primaryWeights.config)
        }
        if needsRouter {
            router = try options.routerCheckpoint.map { try Router.load(path: $0) }
                ?? Router.random(topK: 4, hiddenWidth: 32, embeddingWidth: secondary.config.width, seed: seed &+ 3)
            if let router, router.embeddingWidth != secondary.config.width {
                throw ValidationError("the router expects secondary width \(router.embeddingWidth), the secondary has \(secondary.config.width)")
            }
        } else {
            router = nil
        }
    }
}
