import ArgumentParser
import Foundation
import TandemEngine
import TandemModels

/// `tandem export-gguf`: an engine model as a llama-architecture GGUF file for llama.cpp.
struct ExportGGUF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-gguf",
        abstract: "Write a model (a preset with seeded random weights, or a checkpoint) as a llama.cpp GGUF file.",
        discussion: """
        GGUF v3, llama architecture, alignment 32, with a byte-level tokenizer llama.cpp loads \
        (tokenizer.ggml.model gpt2, token id = byte value). Matrices are written in --type (Q8_0, \
        Q4_0 and Q4_1 with ggml's reference rounding), norms as F32; the query and key rows are \
        permuted as llama.cpp's convert_hf_to_gguf does. `tandem ... --primary-gguf FILE` reads it \
        back. The file is written to a temporary name and renamed, so it appears whole or not at all.
        """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Seed of the preset's random weights (the same weights as --seed of bench, generate, ...).")
    var seed: UInt64 = 1

    @Option(help: "Type of the 2-D matrices: \(ExportType.allCases.map(\.rawValue).joined(separator: ", ")).")
    var type: ExportType = .f32

    @Option(help: "Output GGUF file.")
    var out: String

    @Option(help: "general.name written into the file (default: the preset's name or the checkpoint's file name).")
    var name: String?

    /// The GGUF types `--type` accepts.
    enum ExportType: String, CaseIterable, ExpressibleByArgument {
        case f32, f16, q8_0, q4_0, q4_1

        var ggmlType: GGMLType {
            switch self {
            case .f32: return .f32
            case .f16: return .f16
            case .q8_0: return .q8_0
            case .q4_0: return .q4_0
            case .q4_1: return .q4_1
            }
        }
    }

    func validate() throws {
        guard !out.isEmpty else { throw ValidationError("--out must name a file") }
        // The model options are shared with `tandem bench`; these two do not apply here.
        if model.gguf != nil {
            throw ValidationError("export-gguf writes the engine's own models (--preset or --checkpoint), not --gguf")
        }
        if model.weights != .f32 { throw ValidationError("export-gguf takes --type, not --weights") }
        if let checkpoint = model.checkpoint, !FileManager.default.fileExists(atPath: checkpoint) {
            throw ValidationError("checkpoint '\(checkpoint)' does not exist")
        }
    }

    func run() throws {
        let weights = try model.loadWeights(seed: seed)
        let modelName = name ?? model.checkpoint.map { URL(fileURLWithPath: $0).deletingPathExtension()
            .lastPathComponent } ?? "\(model.preset.rawValue)-seed\(seed)"
        printError("tandem export-gguf: \(weights.parameterCount) parameters as \(type.ggmlType) -> \(out)")
        try GGUFWriter.write(weights, type: type.ggmlType, to: out, name: modelName)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        printError("wrote \(out) (\(bytes) bytes)")
    }
}
