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

    func loadWeights(seed: UInt64) throws -> ModelWeights {
        if let checkpoint { return try ModelWeights.load(path: checkpoint) }
        return try ModelWeights.random(config: preset.config, seed: seed)
    }
}

extension KernelBackend: ExpressibleByArgument {}

/// Writes a line to standard error (progress and diagnostics; stdout carries results).
func printError(_ text: String) { printErrorRaw(text + "\n") }
