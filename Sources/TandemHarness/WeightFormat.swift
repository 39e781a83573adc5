import TandemEngine
import TandemModels

/// How a model's matrices are held at inference, as users name it (`--weights`, `weights =`).
public enum WeightFormat: String, CaseIterable, Sendable {
    /// F32 (a GGUF file's quantized tensors dequantized at load).
    case f32
    /// As the model file stores them: a GGUF file's Q8_0, Q4_0 and Q4_1 matrices kept quantized
    /// (its F32/F16/BF16 matrices stay F32); F32 for checkpoints and presets.
    case stored
    /// Every matrix quantized at load with ggml's reference rounding (any source).
    case q8_0, q4_0, q4_1

    /// The engine's quantization for a model from `source`; `file` is its GGUF file, when it is one.
    func quantization(file: GGUFFile?, config: ModelConfig) throws -> WeightQuantization {
        switch self {
        case .f32: return .none
        case .stored: return try file.map { .stored(try GGUFLlama.storedMatrices($0, config: config)) } ?? .none
        case .q8_0: return .quantize(.q8_0)
        case .q4_0: return .quantize(.q4_0)
        case .q4_1: return .quantize(.q4_1)
        }
    }
}
