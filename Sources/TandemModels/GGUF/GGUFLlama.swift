import TandemEngine

/// A Llama-architecture GGUF model mapped onto the engine: its config and its weights,
/// dequantized to F32 (4 bytes per parameter; SmolLM2-135M takes 538 MB, plus the packed
/// copy the kernels read).
///
/// llama.cpp's converter permutes the rows of the query and key projections so that its
/// "normal" rotary mode can rotate adjacent pairs (x[2i], x[2i+1]); the engine rotates halves
/// (x[i], x[i + d/2]) as Hugging Face does, so those rows are permuted back at load.
public enum GGUFLlama {
    /// The engine config of a GGUF file's `llama.*` hyper-parameters.
    public static func config(_ file: GGUFFile) throws -> ModelConfig {
        func fail(_ key: String, _ expectation: String) -> GGUFError {
            GGUFError(path: file.path, message: "metadata '\(key)': expected \(expectation)")
        }
        let architecture = file.metadata["general.architecture"]?.string
        guard let architecture else { throw fail("general.architecture", "a string (e.g. \"llama\")") }
        guard architecture == "llama" else {
            throw GGUFError(path: file.path, message: "architecture '\(architecture)' is not supported "
                            + "(expected 'llama': Llama, SmolLM, TinyLlama, Mistral-style decoders)")
        }
        func integer(_ key: String, default fallback: Int? = nil) throws -> Int {
            guard let value = file.metadata["llama." + key] else {
                if let fallback { return fallback }
                throw fail("llama." + key, "present")
            }
            guard let v = value.integer, v >= 1 else { throw fail("llama." + key, "a positive integer, got \(value)") }
            return v
        }
        func real(_ key: String, default fallback: Double) throws -> Double {
            guard let value = file.metadata["llama." + key] else { return fallback }
            guard let v = value.real, v > 0, v.isFinite else { throw fail("llama." + key, "a positive number") }
            return v
        }
        let width = try integer("embedding_length")
        let heads = try integer("attention.head_count")
        let keyValueHeads = try integer("attention.head_count_kv", default: heads)
        guard width % heads == 0 else { throw fail("llama.attention.head_count", "a divisor of \(width)") }
        let headDimension = width / heads
        for key in ["attention.key_length", "attention.value_length", "rope.dimension_count"] {
            guard let value = file.metadata["llama." + key] else { continue }
            guard value.integer == headDimension else {
                throw GGUFError(path: file.path, message: "metadata 'llama.\(key)' = \(value): only a full rotary "
                                + "head of width / head_count = \(headDimension) is supported")
            }
        }
        if let scaling = file.metadata["llama.rope.scaling.type"]?.string, scaling != "none" {
            throw GGUFError(path: file.path, message: "rope scaling '\(scaling)' is not supported")
        }
        guard let embedding = file.tensor(named: "token_embd.weight"), embedding.dimensions.count == 2 else {
            throw GGUFError(path: file.path, message: "tensor 'token_embd.weight' missing or not 2-D")
        }
        let vocabulary = embedding.dimensions[1]
        let config = ModelConfig(
            vocabularySize: vocabulary, width: width, layerCount: try integer("block_count"), headCount: heads,
            keyValueHeadCount: keyValueHeads, feedForwardWidth: try integer("feed_forward_length"),
            maxContext: try integer("context_length", default: 2048),
            ropeTheta: Float(try real("rope.freq_base", default: 10_000)),
            normEpsilon: Float(try real("attention.layer_norm_rms_epsilon", default: 1e-5)),
            tiedEmbeddings: file.tensor(named: "output.weight") == nil)
        do { try config.validate() } catch let error as ConfigError {
            throw GGUFError(path: file.path, message: "\(error)")
        }
        return config
    }

    /// The GGUF name of each engine tensor (nil: the engine tensor has no GGUF counterpart).
    static func ggufName(_ name: String) -> String? {
        switch name {
        case ParameterTable.embedding: return "token_embd.weight"
        case ParameterTable.finalNorm: return "output_norm.weight"
        case ParameterTable.head: return "output.weight"
        default: break
        }
        let parts = name.split(separator: ".")
        guard parts.count >= 4, parts[0] == "model", parts[1] == "layers", let layer = Int(parts[2]) else { return nil }
        let tensor = parts[3...].joined(separator: ".")
        let suffix: [String: String] = [
            ParameterTable.LayerTensor.attentionNorm.rawValue: "attn_norm",
            ParameterTable.LayerTensor.query.rawValue: "attn_q", ParameterTable.LayerTensor.key.rawValue: "attn_k",
            ParameterTable.LayerTensor.value.rawValue: "attn_v",
            ParameterTable.LayerTensor.output.rawValue: "attn_output",
            ParameterTable.LayerTensor.feedForwardNorm.rawValue: "ffn_norm",
            ParameterTable.LayerTensor.gate.rawValue: "ffn_gate", ParameterTable.LayerTensor.up.rawValue: "ffn_up",
            ParameterTable.LayerTensor.down.rawValue: "ffn_down",
        ]
        return suffix[tensor].map { "blk.\(layer).\($0).weight" }
    }

    /// Loads every tensor of the model, dequantized, into engine weights.
    public static func weights(_ file: GGUFFile, progress: (Int, Int) -> Void = { _, _ in }) throws -> ModelWeights {
        let config = try config(file)
        let weights = try ModelWeights(config: config)
        let specs = weights.table.specs
        for (index, spec) in specs.enumerated() {
            guard let name = ggufName(spec.name), let tensor = file.tensor(named: name) else {
                throw GGUFError(path: file.path, message: "tensor '\(ggufName(spec.name) ?? spec.name)' is missing "
                                + "(needed for \(spec.name))")
            }
            guard tensor.shape == spec.shape else {
                throw GGUFError(path: file.path, message: "tensor '\(name)' has shape \(tensor.shape), expected "
                                + "\(spec.shape) from the hyper-parameters")
            }
            let destination = weights.storage + spec.offset
            try file.dequantize(tensor, into: destination)
            if spec.name.hasSuffix(ParameterTable.LayerTensor.query.rawValue) {
                unpermuteRotaryRows(destination, heads: config.headCount, headDimension: config.headDimension,
                                    columns: config.width)
            } else if spec.name.hasSuffix(ParameterTable.LayerTensor.key.rawValue) {
                unpermuteRotaryRows(destination, heads: config.keyValueHeadCount,
                                    headDimension: config.headDimension, columns: config.width)
            }
            progress(index + 1, specs.count)
        }
        return weights
    }

    /// The file's matrices in types `QuantizedMatrix` can hold (Q8_0, Q4_0, Q4_1), by engine tensor
    /// name, viewed in the mapped file (valid while `file` lives); the query and key rows come in
    /// the engine's rotary order. A tied head is found under `ParameterTable.embedding`.
    public static func storedMatrices(_ file: GGUFFile, config: ModelConfig) throws -> [String: QuantizedTensor] {
        var matrices: [String: QuantizedTensor] = [:]
        for spec in ParameterTable(config: config).specs where spec.shape.count == 2 {
            guard let name = ggufName(spec.name), let tensor = file.tensor(named: name),
                  QuantizedMatrix.supported.contains(tensor.type), tensor.shape == spec.shape else { continue }
            var rowOrder: [Int]?
            if spec.name.hasSuffix(ParameterTable.LayerTensor.query.rawValue) {
                rowOrder = rotaryRowOrder(heads: config.headCount, headDimension: config.headDimension)
            } else if spec.name.hasSuffix(ParameterTable.LayerTensor.key.rawValue) {
                rowOrder = rotaryRowOrder(heads: config.keyValueHeadCount, headDimension: config.headDimension)
            }
            matrices[spec.name] = QuantizedTensor(type: tensor.type, rows: spec.shape[0], columns: spec.shape[1],
                                                  data: file.rawBytes(tensor).baseAddress!, rowOrder: rowOrder)
        }
        return matrices
    }

    /// rowOrder[engine row] = GGUF row, for `unpermuteRotaryRows`'s permutation.
    static func rotaryRowOrder(heads: Int, headDimension: Int) -> [Int] {
        let half = headDimension / 2
        var order = [Int](repeating: 0, count: heads * headDimension)
        for head in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 { order[head * headDimension + j * half + i] = head * headDimension + 2 * i + j }
            }
        }
        return order
    }

    /// Undoes llama.cpp's convert_hf_to_gguf permutation of a query or key projection
    /// ([heads * headDimension, columns]): within each head, GGUF row 2i + j is Hugging Face
    /// row j * headDimension / 2 + i.
    static func unpermuteRotaryRows(_ matrix: UnsafeMutablePointer<Float>, heads: Int, headDimension: Int,
                                    columns: Int) {
        let half = headDimension / 2
        var scratch = [Float](repeating: 0, count: headDimension * columns)
        for head in 0..<heads {
            let block = matrix + head * headDimension * columns
            for i in 0..<half {
                for j in 0..<2 {
                    let from = block + (2 * i + j) * columns
                    scratch.withUnsafeMutableBufferPointer {
                        ($0.baseAddress! + (j * half + i) * columns).update(from: from, count: columns)
                    }
                }
            }
            scratch.withUnsafeBufferPointer { block.update(from: $0.baseAddress!, count: headDimension * columns) }
        }
    }
}
