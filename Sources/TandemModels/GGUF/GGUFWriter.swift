import Foundation
import TandemEngine

/// Writes engine weights as a llama-architecture GGUF v3 file that llama.cpp loads and that
/// `GGUFLlama` reads back to the same config and (for F32) the same weights bit for bit.
///
/// - Metadata: `general.architecture = llama`, `general.alignment = 32`, the `llama.*`
///   hyper-parameters `GGUFLlama.config` reads, and the byte-level tokenizer of
///   `GGUFByteVocabulary` (vocabularies of at least 256 tokens).
/// - Tensors: named as `GGUFLlama.ggufName` maps them (no `output.weight` when the embeddings
///   are tied); the query and key rows permuted as llama.cpp's convert_hf_to_gguf does (the
///   inverse of `GGUFLlama.unpermuteRotaryRows`); 1-D tensors (norms) always F32, 2-D matrices
///   in the chosen type, quantized with `GGMLQuantize` (ggml's reference rounding), which needs
///   every matrix row to be a whole number of 32-element blocks.
/// - The file appears whole or not at all (`AtomicFile`: temporary file, fsync, rename).
public enum GGUFWriter {
    /// The types the matrices can be written in.
    public static let matrixTypes: [GGMLType] = [.f32, .f16, .q8_0, .q4_0, .q4_1]

    /// The data alignment written (GGUF's default, recorded explicitly).
    public static let alignment = 32

    /// Writes `weights` to `path` with matrices in `type`; `name` becomes `general.name`.
    /// Throws `GGUFError` (naming `path`) when the model cannot be written in that type, and
    /// `DurableWriteError` when the file cannot be written.
    public static func write(_ weights: ModelWeights, type: GGMLType, to path: String,
                             name: String = "tandem") throws {
        try AtomicFile.write(try encode(weights, type: type, name: name, path: path), to: path)
    }

    /// The file's bytes (`path` only names the file in errors).
    public static func encode(_ weights: ModelWeights, type: GGMLType, name: String = "tandem",
                              path: String = "<memory>") throws -> Data {
        let config = weights.config
        guard matrixTypes.contains(type) else {
            throw GGUFError(path: path, message: "cannot write matrices as \(type) (supported: "
                            + "\(matrixTypes.map(\.name).joined(separator: ", ")))")
        }
        guard config.vocabularySize >= 256 else {
            throw GGUFError(path: path, message: "vocabulary of \(config.vocabularySize) tokens: the byte-level "
                            + "tokenizer written for llama.cpp needs at least 256")
        }
        var encoder = GGUFEncoder(alignment: alignment)
        encoder.add("general.architecture", .string("llama"))
        encoder.add("general.name", .string(name))
        encoder.add("general.alignment", .uint32(UInt32(alignment)))
        encoder.add("general.file_type", .uint32(fileType(type)))
        let hyperParameters: [(String, GGUFValue)] = [
            ("context_length", .uint32(UInt32(config.maxContext))),
            ("embedding_length", .uint32(UInt32(config.width))),
            ("block_count", .uint32(UInt32(config.layerCount))),
            ("feed_forward_length", .uint32(UInt32(config.feedForwardWidth))),
            ("rope.dimension_count", .uint32(UInt32(config.headDimension))),
            ("attention.head_count", .uint32(UInt32(config.headCount))),
            ("attention.head_count_kv", .uint32(UInt32(config.keyValueHeadCount))),
            ("attention.layer_norm_rms_epsilon", .float32(config.normEpsilon)),
            ("rope.freq_base", .float32(config.ropeTheta)),
            ("vocab_size", .uint32(UInt32(config.vocabularySize))),
        ]
        for (key, value) in hyperParameters { encoder.add("llama." + key, value) }
        for (key, value) in GGUFByteVocabulary.metadata(size: config.vocabularySize) { encoder.add(key, value) }

        for spec in weights.table.specs {
            guard let ggufName = GGUFLlama.ggufName(spec.name) else {
                throw GGUFError(path: path, message: "engine tensor '\(spec.name)' has no GGUF name")
            }
            let tensorType = spec.shape.count == 2 ? type : .f32
            guard let byteCount = tensorType.byteCount(elements: spec.count),
                  spec.shape.last! % (tensorType.blockSize ?? 1) == 0 else {
                throw GGUFError(path: path, message: "tensor '\(ggufName)' (\(spec.name)): rows of \(spec.shape.last!) "
                                + "elements are not whole \(tensorType) blocks of \(tensorType.blockSize ?? 1)")
            }
            let source = UnsafePointer(weights.storage + spec.offset)
            var data = Data(count: byteCount)
            func quantize(_ rows: UnsafePointer<Float>) {
                data.withUnsafeMutableBytes {
                    GGMLQuantize.run(tensorType, rows, count: spec.count, into: $0.baseAddress!)
                }
            }
            let heads = spec.name.hasSuffix(ParameterTable.LayerTensor.query.rawValue) ? config.headCount
                : spec.name.hasSuffix(ParameterTable.LayerTensor.key.rawValue) ? config.keyValueHeadCount : nil
            if let heads {
                let permuted = permuteRotaryRows(source, heads: heads, headDimension: config.headDimension,
                                                 columns: config.width)
                permuted.withUnsafeBufferPointer { quantize($0.baseAddress!) }
            } else {
                quantize(source)
            }
            encoder.addTensor(ggufName, shape: spec.shape, type: tensorType, data: data)
        }
        return encoder.bytes
    }

    /// llama.cpp's `general.file_type` (llama_ftype) for matrices of `type`.
    static func fileType(_ type: GGMLType) -> UInt32 {
        switch type {
        case .f16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q8_0: return 7
        default: return 0
        }
    }

    /// convert_hf_to_gguf's permutation of a query or key projection
    /// ([heads * headDimension, columns], Hugging Face row order): within each head, GGUF row
    /// 2i + j is Hugging Face row j * headDimension / 2 + i, so llama.cpp's rotation of adjacent
    /// pairs equals the engine's rotation of halves.
    static func permuteRotaryRows(_ matrix: UnsafePointer<Float>, heads: Int, headDimension: Int,
                                  columns: Int) -> [Float] {
        let half = headDimension / 2
        var out = [Float](repeating: 0, count: heads * headDimension * columns)
        out.withUnsafeMutableBufferPointer { buffer in
            for head in 0..<heads {
                let base = head * headDimension * columns
                for i in 0..<half {
                    for j in 0..<2 {
                        (buffer.baseAddress! + base + (2 * i + j) * columns)
                            .update(from: matrix + base + (j * half + i) * columns, count: columns)
                    }
                }
            }
        }
        return out
    }
}
