import Foundation
import ArgumentParser
import TandemEngine
import TandemHarness

/// Options shared by every command that runs the engine.
struct EngineOptions: ParsableArguments {
    @Option(help: "Threads for the engine's products and attention (and OpenBLAS).")
    var threads = 1

    @Option(help: "Seed of random weights and of every random choice.")
    var seed: UInt64 = 1

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }
}

/// Choosing a model: a named preset with seeded random weights, or a safetensors checkpoint.
struct ModelOptions: ParsableArguments {
    @Option(help: "Preset with seeded random weights: \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: ModelPreset = .p150

    @Option(help: "A safetensors checkpoint (config in its __metadata__); overrides --preset.")
    var checkpoint: String?

    @Option(help: "A llama-architecture GGUF model (e.g. models/SmolLM2-135M-Instruct.Q4_1.gguf); overrides --preset.")
    var gguf: String?

    @Option(help: ArgumentHelp("Weights at inference: f32, stored (the GGUF file's Q8_0/Q4_0/Q4_1 matrices kept "
                               + "quantized), q8_0, q4_0, q4_1 (quantized at load)."))
    var weights: WeightFormat = .f32

    func validate() throws {
        if gguf != nil && checkpoint != nil { throw ValidationError("give --gguf or --checkpoint, not both") }
        if let gguf, !FileManager.default.fileExists(atPath: gguf) {
            throw ValidationError("GGUF file '\(gguf)' does not exist")
        }
    }

    /// The model as a definition the factory builds (seeded random weights for a preset).
    var definition: ModelDefinition {
        let source = gguf.map { ModelSource.gguf($0) } ?? checkpoint.map { .checkpoint($0) } ?? .preset(preset)
        return ModelDefinition(name: "model", source: source, kind: .plain, layerMap: .output, weights: weights)
    }

    func loadWeights(seed: UInt64) throws -> ModelWeights {
        if let checkpoint { return try ModelWeights.load(path: checkpoint) }
        return try ModelWeights.random(config: preset.config, seed: seed)
    }
}

extension KernelBackend: ExpressibleByArgument {}

/// Writes a line to standard error (progress and diagnostics; stdout carries results).
func printError(_ text: String) { printErrorRaw(text + "\n") }
