import TandemEngine
import TandemModels

/// A secondary ready to decode: its transformer and, for a tandem secondary, the projections.
public struct BuiltSecondary {
    public let name: String
    public let model: Transformer
    public let tandem: TandemSecondary?
}

/// Builds engines from model definitions: presets and configs get seeded random weights
/// (a tandem secondary also seeded random projections), checkpoints are loaded.
public enum ModelFactory {
    public static func primary(_ definition: ModelDefinition, seed: UInt64, backend: KernelBackend,
                               threads: Int) throws -> Transformer {
        try primaries(definition, seed: seed, backends: [backend], threads: threads)[0]
    }

    /// One engine per backend over the same weights (loaded once), e.g. for `tandem bench`.
    public static func primaries(_ definition: ModelDefinition, seed: UInt64, backends: [KernelBackend],
                                 threads: Int, skinnyLoop: SkinnyLoop? = nil) throws -> [Transformer] {
        var file: GGUFFile?
        let weights: ModelWeights
        switch definition.source {
        case .preset(let preset): weights = try ModelWeights.random(config: preset.config, seed: seed)
        case .config(let config): weights = try ModelWeights.random(config: config, seed: seed)
        case .checkpoint(let path): weights = try ModelWeights.load(path: path)
        case .gguf(let path):
            file = try GGUFFile(path: path)
            weights = try GGUFLlama.weights(file!)
        }
        return try backends.map {
            try transformer(weights, definition: definition, file: file, backend: $0, threads: threads,
                            skinnyLoop: skinnyLoop)
        }
    }

    /// The engine of `weights` in the definition's weight format (`file`: the GGUF it came from).
    static func transformer(_ weights: ModelWeights, definition: ModelDefinition, file: GGUFFile?,
                            backend: KernelBackend, threads: Int, skinnyLoop: SkinnyLoop? = nil) throws -> Transformer {
        let quantization = try definition.weights.quantization(file: file, config: weights.config)
        return withExtendedLifetime(file) { // stored matrices are views into the mapped file
            Transformer(weights: weights, backend: backend, threads: threads, quantization: quantization,
                        skinnyLoop: skinnyLoop)
        }
    }

    /// The tokenizer of a primary: its GGUF file's BPE tokenizer, or bytes for the engine's
    /// own models.
    public static func tokenizer(_ definition: ModelDefinition, config: ModelConfig) throws -> any Tokenizer {
        if case .gguf(let path) = definition.source { return try GGUFTokenizer.load(try GGUFFile(path: path)) }
        return ByteTokenizer(vocabularySize: config.vocabularySize)
    }

    /// `index` distinguishes the seeds of several secondaries.
    public static func secondary(_ definition: ModelDefinition, primary: ModelConfig, index: Int, seed: UInt64,
                                 backend: KernelBackend, threads: Int) throws -> BuiltSecondary {
        let checkpoint: SecondaryCheckpoint
        var file: GGUFFile?
        let secondarySeed = seed &+ 1000 &* UInt64(index + 1)
        func random(_ base: ModelConfig) throws -> SecondaryCheckpoint {
            var config = base
            config.vocabularySize = primary.vocabularySize
            config.maxContext = min(config.maxContext, primary.maxContext)
            let weights = try ModelWeights.random(config: config, seed: secondarySeed)
            guard definition.kind == .tandem else { return SecondaryCheckpoint(weights: weights, projections: nil) }
            let projections = ProjectionWeights(secondary: config, primary: primary, layerMap: definition.layerMap)
            projections.randomize(seed: secondarySeed &+ 1)
            return SecondaryCheckpoint(weights: weights, projections: projections, layerMap: definition.layerMap,
                                       primaryLayers: primary.layerCount)
        }
        switch definition.source {
        case .preset(let preset): checkpoint = try random(preset.config)
        case .config(let config): checkpoint = try random(config)
        case .gguf(let path):
            guard definition.kind == .plain else {
                throw GGUFError(path: path, message: "secondary '\(definition.name)' has kind = \"tandem\"; a GGUF "
                                + "model has no tandem projections (use kind = \"plain\")")
            }
            file = try GGUFFile(path: path)
            checkpoint = SecondaryCheckpoint(weights: try GGUFLlama.weights(file!), projections: nil)
        case .checkpoint(let path):
            checkpoint = try SecondaryCheckpoint.load(path: path, primary: primary)
            if definition.kind == .tandem && checkpoint.projections == nil {
                throw CheckpointError(path: path, message: "secondary '\(definition.name)' has kind = \"tandem\" "
                                      + "but the checkpoint has no tandem.* projection tensors")
            }
        }
        guard checkpoint.weights.config.vocabularySize == primary.vocabularySize else {
            throw CheckpointError(path: definition.name,
                                  message: "the secondary's vocabulary (\(checkpoint.weights.config.vocabularySize)) "
                                  + "differs from the primary's (\(primary.vocabularySize))")
        }
        let model = try transformer(checkpoint.weights, definition: definition, file: file, backend: backend,
                                    threads: threads)
        let tandem = definition.kind == .tandem ? checkpoint.projections.map {
            TandemSecondary(model: model, projections: $0, layerMap: checkpoint.layerMap, primaryConfig: primary)
        } : nil
        return BuiltSecondary(name: definition.name, model: model, tandem: tandem)
    }

    /// Rejects a GGUF secondary whose tokenizer differs from the primary's (same vocabulary
    /// size is not enough: the drafts would be other words).
    public static func checkSharedVocabulary(_ definition: ModelDefinition, primary: any Tokenizer) throws {
        guard case .gguf(let path) = definition.source else { return }
        let own = try GGUFTokenizer.load(try GGUFFile(path: path))
        guard own.fingerprint == primary.fingerprint else {
            throw GGUFError(path: path, message: "secondary '\(definition.name)' has another tokenizer "
                            + "(\(own.summary)) than the primary (\(primary.summary)); a drafter must share the "
                            + "primary's vocabulary")
        }
    }

    /// The tokens of `text` (by the primary's tokenizer), repeated or cut to exactly `length`
    /// (the context axis).
    public static func prompt(_ text: String, length: Int, tokenizer: any Tokenizer) -> [Int] {
        var tokens = tokenizer.encode(text, addSpecial: true)
        if tokens.isEmpty { tokens = [0] }
        return (0..<length).map { tokens[$0 % tokens.count] }
    }
}
