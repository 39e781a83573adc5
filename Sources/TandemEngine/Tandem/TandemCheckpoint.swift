/// A tandem secondary's checkpoint: the secondary's own tensors, its projections
/// (`tandem.layers.{j}.projection.weight`, [d_S, d_L]) and, in `__metadata__`, the secondary's
/// config plus `tandem.layer_map`, `tandem.primary_width` and `tandem.primary_layers`. A plain
/// secondary's checkpoint is an ordinary model checkpoint (no tandem keys).
public struct SecondaryCheckpoint {
    public var weights: ModelWeights
    /// nil for a plain (standalone) secondary.
    public var projections: ProjectionWeights?
    public var layerMap: TandemLayerMap
    public var primaryLayers: Int?

    public init(weights: ModelWeights, projections: ProjectionWeights?, layerMap: TandemLayerMap = .output,
                primaryLayers: Int? = nil) {
        self.weights = weights
        self.projections = projections
        self.layerMap = layerMap
        self.primaryLayers = primaryLayers
    }

    public func save(to path: String) throws {
        var tensors = weights.table.specs.views(in: weights.storage)
        var metadata = weights.config.metadata
        metadata["format"] = "pt"
        if let projections {
            tensors += projections.specs.views(in: projections.storage)
            metadata["tandem.layer_map"] = layerMap.rawValue
            metadata["tandem.primary_width"] = String(projections.primaryWidth)
            metadata["tandem.primary_layers"] = String(primaryLayers ?? 0)
        }
        try Safetensors.write(tensors, metadata: metadata, to: path)
    }

    /// Loads a secondary; when `primary` is given, a tandem checkpoint must match its width and
    /// layer count.
    public static func load(path: String, primary: ModelConfig? = nil) throws -> SecondaryCheckpoint {
        let (tensors, metadata) = try Safetensors.read(path: path)
        let weights = try ModelWeights.load(tensors: tensors, metadata: metadata, path: path,
                                            otherPrefixes: ["tandem."])
        guard let mapName = metadata["tandem.layer_map"] else {
            return SecondaryCheckpoint(weights: weights, projections: nil)
        }
        func fail(_ message: String) -> CheckpointError { CheckpointError(path: path, message: message) }
        guard let layerMap = TandemLayerMap(rawValue: mapName) else {
            throw fail("tandem.layer_map is '\(mapName)', expected one of \(TandemLayerMap.allCases.map(\.rawValue))")
        }
        guard let primaryWidth = metadata["tandem.primary_width"].flatMap(Int.init), primaryWidth > 0 else {
            throw fail("tandem.primary_width missing or not a positive integer")
        }
        let primaryLayers = metadata["tandem.primary_layers"].flatMap(Int.init)
        if layerMap == .group && (primaryLayers ?? 0) <= 0 {
            throw fail("tandem.layer_map is 'group' but tandem.primary_layers is missing "
                       + "(the projection shapes need it)")
        }
        if let primary {
            guard primary.width == primaryWidth else {
                throw fail("tandem secondary was built for a primary of width \(primaryWidth), "
                           + "the primary has width \(primary.width)")
            }
            if let primaryLayers, primaryLayers > 0, primaryLayers != primary.layerCount {
                throw fail("tandem secondary was built for a primary of \(primaryLayers) layers, "
                           + "the primary has \(primary.layerCount)")
            }
        }
        let config = weights.config
        let pointCounts = layerMap.primaryPoints(secondaryLayers: config.layerCount,
                                                 primaryLayers: max(primaryLayers ?? 1, 1))
            .map(\.count)
        let projections = ProjectionWeights(secondaryLayers: config.layerCount, secondaryWidth: config.width,
                                            primaryWidth: primaryWidth, pointCounts: pointCounts)
        try projections.specs.fill(projections.storage, from: tensors, path: path)
        return SecondaryCheckpoint(weights: weights, projections: projections, layerMap: layerMap,
                                   primaryLayers: primaryLayers)
    }
}
