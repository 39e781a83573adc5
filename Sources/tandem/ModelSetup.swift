import ArgumentParser
import Foundation
import TandemEngine
import TandemHarness
import TandemModels

/// Options choosing the primary, the secondary and the router for decoding commands.
struct DecodingModelOptions: ParsableArguments {
    @Option(help: "Primary checkpoint (safetensors); default: --primary-preset with seeded random weights.")
    var primaryCheckpoint: String?

    @Option(help: ArgumentHelp("Primary as a llama-architecture GGUF file (e.g. "
                               + "models/SmolLM2-135M-Instruct.Q4_1.gguf); prompts then use its BPE tokenizer."))
    var primaryGguf: String?

    @Option(help: "Plain secondary as a GGUF file; it must share the primary's vocabulary.")
    var secondaryGguf: String?

    @Option(help: ArgumentHelp("Primary preset when no checkpoint is given: "
                               + "\(ModelPreset.allCases.map(\.rawValue).joined(separator: ", "))."))
    var primaryPreset: ModelPreset = .p150

    @Option(help: "Secondary checkpoint; a tandem secondary carries tandem.* projection tensors.")
    var secondaryCheckpoint: String?

    @Option(help: ArgumentHelp("Secondary preset when no checkpoint is given (random weights; tandem projections "
                               + "added when the strategy needs them)."))
    var secondaryPreset: ModelPreset = .s10

    @Option(help: "Layer map of a random tandem secondary: output (default) or input.")
    var layerMap: TandemLayerMap = .output

    @Option(help: "Router checkpoint for --policy router; default: a seeded random router.")
    var routerCheckpoint: String?

    @Option(help: "Take the models from a scenario file's definitions (its primary and --secondary-name) instead.")
    var scenario: String?

    @Option(help: "With --scenario: which of its secondaries (default: the first).")
    var secondaryName: String?

    @Option(help: ArgumentHelp("Kernel backend: packed (default; blocks and single tokens share kernels, so greedy "
                               + "SPEED output is bit-identical to the primary's), auto, openblas."))
    var backend: KernelBackend = .packed

    @Option(help: ArgumentHelp("Weights at inference: f32, stored (a GGUF file's Q8_0/Q4_0/Q4_1 matrices kept "
                               + "quantized), q8_0, q4_0, q4_1 (quantized at load). Models from --scenario use "
                               + "its 'weights' keys."))
    var weights: WeightFormat = .f32
}

extension TandemLayerMap: ExpressibleByArgument {}
extension WeightFormat: ExpressibleByArgument {}

extension DecodingModelOptions {
    /// The primary's source: a GGUF file, a checkpoint, or a random preset (validated to be one).
    var primarySource: ModelSource {
        primaryGguf.map { .gguf($0) } ?? primaryCheckpoint.map { .checkpoint($0) } ?? .preset(primaryPreset)
    }

    var secondarySource: ModelSource {
        secondaryGguf.map { .gguf($0) } ?? secondaryCheckpoint.map { .checkpoint($0) } ?? .preset(secondaryPreset)
    }

    func validate() throws {
        if primaryGguf != nil && primaryCheckpoint != nil {
            throw ValidationError("give --primary-gguf or --primary-checkpoint, not both")
        }
        if secondaryGguf != nil && secondaryCheckpoint != nil {
            throw ValidationError("give --secondary-gguf or --secondary-checkpoint, not both")
        }
        for path in [primaryGguf, secondaryGguf].compactMap({ $0 })
        where !FileManager.default.fileExists(atPath: path) {
            let hint = path.contains("SmolLM2") ? " (run `make models` to fetch SmolLM2-135M)" : ""
            throw ValidationError("GGUF file '\(path)' does not exist\(hint)")
        }
    }
}

/// The models of a decoding run, built once.
struct DecodingModels {
    let primary: Transformer
    let secondary: Transformer
    /// Present when the secondary is (or was made) a tandem secondary.
    let tandem: TandemSecondary?
    let router: Router?

    var modelSet: DecodingModelSet {
        DecodingModelSet(primary: primary, secondary: secondary, tandem: tandem, router: router)
    }
    /// The primary's tokenizer.
    let tokenizer: any Tokenizer

    init(options: DecodingModelOptions, needsTandem: Bool, needsRouter: Bool, threads: Int, seed: UInt64) throws {
        var primaryDefinition = ModelDefinition(name: "primary", source: options.primarySource, kind: .plain,
                                                layerMap: .output, weights: options.weights)
        var secondaryDefinition = ModelDefinition(name: "secondary", source: options.secondarySource,
                                                  kind: needsTandem ? .tandem : .plain, layerMap: options.layerMap,
                                                  weights: options.weights)
        if options.secondaryGguf != nil && needsTandem {
            throw ValidationError("--secondary-gguf gives a plain secondary; this strategy needs a tandem one")
        }
        var modelSeed = seed, secondaryIndex = 0
        if let path = options.scenario {
            let scenario = try TrainingStage.trainedModels(try Scenario.load(path: path))
            modelSeed = scenario.seed // the same random weights as `tandem run` builds
            primaryDefinition = scenario.primary
            let name = options.secondaryName ?? scenario.secondaries.first?.name
            guard let name, let definition = scenario.secondary(named: name) else {
                throw ValidationError("\(path) defines no secondary"
                                      + "\(options.secondaryName.map { " named '\($0)'" } ?? "") "
                                      + "(defined: \(scenario.secondaries.map(\.name).joined(separator: ", ")))")
            }
            secondaryDefinition = definition
            secondaryIndex = scenario.secondaries.firstIndex { $0.name == name } ?? 0
            if needsTandem && definition.kind != .tandem {
                throw ValidationError("secondary '\(name)' of \(path) is plain; this strategy needs a tandem secondary")
            }
        }
        primary = try ModelFactory.primary(primaryDefinition, seed: modelSeed, backend: options.backend,
                                           threads: threads)
        tokenizer = try ModelFactory.tokenizer(primaryDefinition, config: primary.config)
        try ModelFactory.checkSharedVocabulary(secondaryDefinition, primary: tokenizer)
        let built = try ModelFactory.secondary(secondaryDefinition, primary: primary.config, index: secondaryIndex,
                                               seed: modelSeed, backend: options.backend, threads: threads)
        secondary = built.model
        tandem = built.tandem
        if needsRouter {
            let router = try options.routerCheckpoint.map { try Router.load(path: $0) }
                ?? DecodingFactory.defaultRouter(secondaryWidth: secondary.config.width, seed: seed)
            guard router.embeddingWidth == secondary.config.width else {
                throw ValidationError("the router expects secondary width \(router.embeddingWidth), "
                                      + "the secondary has \(secondary.config.width)")
            }
            self.router = router
        } else {
            router = nil
        }
    }
}
