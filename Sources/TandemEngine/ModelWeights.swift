/// All parameters of one model in a single 64-byte-aligned allocation, laid out by its
/// `ParameterTable`. Canonical layout ([out, in] row-major); inference-friendly packed copies
/// are derived from it by `PackedModel`.
public final class ModelWeights: @unchecked Sendable {
    public let config: ModelConfig
    public let table: ParameterTable
    public let storage: UnsafeMutablePointer<Float>

    /// Zero-filled weights for `config`.
    public init(config: ModelConfig) throws {
        try config.validate()
        self.config = config
        self.table = ParameterTable(config: config)
        let raw = HugePages.allocate(byteCount: max(table.count, 1) * 4) // zero-filled
        self.storage = raw.bindMemory(to: Float.self, capacity: max(table.count, 1))
    }

    deinit { HugePages.free(UnsafeMutableRawPointer(storage)) }

    /// Seeded random weights: norms 1, matrices uniform with standard deviation 1/sqrt(fan_in)
    /// (so activations keep unit scale through the layers), embeddings with standard deviation 1.
    public static func random(config: ModelConfig, seed: UInt64) throws -> ModelWeights {
        let weights = try ModelWeights(config: config)
        var generator = SeededGenerator(seed: seed)
        for spec in weights.table.specs {
            let values = weights.storage + spec.offset
            if spec.shape.count == 1 {
                for i in 0..<spec.count { values[i] = 1 }
                continue
            }
            let fanIn = spec.name == ParameterTable.embedding ? 1 : spec.shape[1]
            let halfWidth = (3.0 / Float(fanIn)).squareRoot()
            for i in 0..<spec.count { values[i] = (2 * generator.nextUnitFloat() - 1) * halfWidth }
        }
        return weights
    }

    /// The tensor called `name`; traps if the table has no such tensor (a programming error).
    public func tensor(_ name: String) -> UnsafeMutableBufferPointer<Float> {
        guard let spec = table[name] else { preconditionFailure("no tensor \(name)") }
        return UnsafeMutableBufferPointer(start: storage + spec.offset, count: spec.count)
    }

    public func tensor(_ layer: Int, _ kind: ParameterTable.LayerTensor) -> UnsafeMutableBufferPointer<Float> {
        tensor(ParameterTable.name(layer, kind))
    }

    /// The output projection: the embedding table when tied.
    public var head: UnsafeMutableBufferPointer<Float> {
        tensor(config.tiedEmbeddings ? ParameterTable.embedding : ParameterTable.head)
    }

    public var parameterCount: Int { table.count }
}
