/// One named tensor of a model: its name (Hugging Face Llama naming) and shape.
public struct ParameterSpec: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    /// Offset, in floats, into the model's single parameter allocation.
    public var offset: Int
    public var count: Int { shape.reduce(1, *) }

    public init(name: String, shape: [Int], offset: Int) {
        self.name = name
        self.shape = shape
        self.offset = offset
    }
}

/// The name -> shape table of a model, the one description from which the parameter
/// allocation's size, every tensor's offset, checkpoint I/O and (later) gradients derive.
///
/// Matrices are stored [out, in] row-major (the PyTorch / safetensors convention).
public struct ParameterTable: Sendable {
    public let specs: [ParameterSpec]
    private let index: [String: Int]
    /// Total number of floats.
    public let count: Int

    public init(config: ModelConfig) {
        var specs: [ParameterSpec] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int]) {
            let spec = ParameterSpec(name: name, shape: shape, offset: offset)
            specs.append(spec)
            offset += spec.count
        }
        let d = config.width
        add(Self.embedding, [config.vocabularySize, d])
        for layer in 0..<config.layerCount {
            add(Self.name(layer, .attentionNorm), [d])
            add(Self.name(layer, .query), [config.queryWidth, d])
            add(Self.name(layer, .key), [config.keyValueWidth, d])
            add(Self.name(layer, .value), [config.keyValueWidth, d])
            add(Self.name(layer, .output), [d, config.queryWidth])
            add(Self.name(layer, .feedForwardNorm), [d])
            add(Self.name(layer, .gate), [config.feedForwardWidth, d])
            add(Self.name(layer, .up), [config.feedForwardWidth, d])
            add(Self.name(layer, .down), [d, config.feedForwardWidth])
        }
        add(Self.finalNorm, [d])
        if !config.tiedEmbeddings { add(Self.head, [config.vocabularySize, d]) }
        self.specs = specs
        self.count = offset
        self.index = Dictionary(uniqueKeysWithValues: specs.enumerated().map { ($1.name, $0) })
    }

    public subscript(name: String) -> ParameterSpec? { index[name].map { specs[$0] } }

    public static let embedding = "model.embed_tokens.weight"
    public static let finalNorm = "model.norm.weight"
    public static let head = "lm_head.weight"

    /// The per-layer tensors.
    public enum LayerTensor: String, CaseIterable, Sendable {
        case attentionNorm = "input_layernorm.weight"
        case query = "self_attn.q_proj.weight"
        case key = "self_attn.k_proj.weight"
        case value = "self_attn.v_proj.weight"
        case output = "self_attn.o_proj.weight"
        case feedForwardNorm = "post_attention_layernorm.weight"
        case gate = "mlp.gate_proj.weight"
        case up = "mlp.up_proj.weight"
        case down = "mlp.down_proj.weight"
    }

    public static func name(_ layer: Int, _ tensor: LayerTensor) -> String {
        "model.layers.\(layer).\(tensor.rawValue)"
    }
}
