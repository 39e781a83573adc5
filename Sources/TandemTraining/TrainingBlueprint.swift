import TandemEngine

/// How a tandem secondary attaches to its primary: which primary residual points each layer
/// reads (concatenated), through projections [d_S, k_j d_L].
public struct TandemAttachment: Sendable, Equatable {
    public var layerMap: TandemLayerMap
    public var primaryWidth: Int
    public var primaryLayers: Int
    /// Primary residual points per secondary layer.
    public var points: [[Int]]

    public init(layerMap: TandemLayerMap, secondary: ModelConfig, primary: ModelConfig) {
        self.layerMap = layerMap
        primaryWidth = primary.width
        primaryLayers = primary.layerCount
        points = layerMap.primaryPoints(secondaryLayers: secondary.layerCount, primaryLayers: primary.layerCount)
    }

    public func inputWidth(_ layer: Int) -> Int { points[layer].count * primaryWidth }
}

/// Offsets of one decoder layer's tensors in the parameter allocation.
struct LayerOffsets: Sendable {
    let attentionNorm, queryKeyValue, output, feedForwardNorm, gateUp, down: Int
    /// The key rows (followed by the value rows) inside the fused q|k|v matrix.
    let keyValue: Int
    /// The tandem projection of this layer, nil for plain models.
    let projection: Int?
}

/// The trainable parameters of a model, described once: the model's name -> shape table
/// (`ParameterTable`) followed by the tandem projections, if any. Offsets, gradients, optimizer
/// moments and checkpoints all derive from `specs`.
public struct TrainingBlueprint: Sendable {
    public let config: ModelConfig
    public let tandem: TandemAttachment?
    public let specs: [ParameterSpec]
    public let count: Int
    /// Floats of the model proper; the projections start here.
    public let modelCount: Int
    let layers: [LayerOffsets]
    public let embedding: Int
    let finalNorm: Int, head: Int

    public init(config: ModelConfig, tandem: TandemAttachment? = nil) throws {
        try config.validate()
        self.config = config
        self.tandem = tandem
        let table = ParameterTable(config: config)
        var specs = table.specs
        var offset = table.count
        var projections: [Int] = []
        if let tandem {
            precondition(tandem.points.count == config.layerCount, "tandem points for \(tandem.points.count) layers")
            for layer in 0..<config.layerCount {
                let spec = ParameterSpec(name: ProjectionWeights.name(layer),
                                         shape: [config.width, tandem.inputWidth(layer)],
                                         offset: offset)
                specs.append(spec)
                projections.append(offset)
                offset += spec.count
            }
        }
        self.specs = specs
        count = offset
        modelCount = table.count
        func at(_ name: String) -> Int { table[name]!.offset }
        layers = (0..<config.layerCount).map { layer in
            LayerOffsets(attentionNorm: at(ParameterTable.name(layer, .attentionNorm)),
                         queryKeyValue: at(ParameterTable.name(layer, .query)),
                         output: at(ParameterTable.name(layer, .output)),
                         feedForwardNorm: at(ParameterTable.name(layer, .feedForwardNorm)),
                         gateUp: at(ParameterTable.name(layer, .gate)),
                         down: at(ParameterTable.name(layer, .down)),
                         keyValue: at(ParameterTable.name(layer, .key)),
                         projection: tandem == nil ? nil : projections[layer])
        }
        embedding = at(ParameterTable.embedding)
        finalNorm = at(ParameterTable.finalNorm)
        head = config.tiedEmbeddings ? embedding : at(ParameterTable.head)
    }

    /// Whether weight decay applies (matrices yes; norm gains no).
    public func decays(_ spec: ParameterSpec) -> Bool { spec.shape.count == 2 }

    /// Seeded initial values: norm gains 1, matrices normal with standard deviation 0.02, the
    /// residual output projections (o_proj, down_proj) scaled by 1/sqrt(2 L) (GPT-2).
    public func initialize<S: TrainingScalar>(_ values: UnsafeMutablePointer<S>, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let residualScale = 1 / Double(2 * config.layerCount).squareRoot()
        for spec in specs {
            if spec.shape.count == 1 {
                for i in 0..<spec.count { values[spec.offset + i] = 1 }
                continue
            }
            let isResidual = spec.name.hasSuffix(ParameterTable.LayerTensor.output.rawValue)
                || spec.name.hasSuffix(ParameterTable.LayerTensor.down.rawValue)
            let sd = 0.02 * (isResidual ? residualScale : 1)
            for i in 0..<spec.count { values[spec.offset + i] = S(Double(generator.nextGaussian()) * sd) }
        }
    }
}
