/// Which primary residual stream each secondary layer reads.
public enum TandemLayerMap: String, CaseIterable, Sendable, Codable {
    /// Secondary layer j reads the primary stream after round((j + 1) * L_L / L_S) layers, so
    /// the last secondary layer sees the primary's final state (the default).
    case output
    /// The paper's figure pairing: the input of primary layer floor(j * L_L / L_S).
    case input

    /// The primary residual point (number of primary layers applied) for secondary layer `j`.
    public func primaryPoint(secondaryLayer j: Int, secondaryLayers: Int, primaryLayers: Int) -> Int {
        switch self {
        case .output: return (2 * (j + 1) * primaryLayers + secondaryLayers) / (2 * secondaryLayers)
        case .input: return j * primaryLayers / secondaryLayers
        }
    }
}

/// The projections P_j (d_L -> d_S) of a tandem secondary, in one allocation described by a
/// name -> shape table like every parameter set.
public final class ProjectionWeights: @unchecked Sendable {
    public let secondaryLayers: Int, secondaryWidth: Int, primaryWidth: Int
    public let storage: UnsafeMutablePointer<Float>
    public var count: Int { secondaryLayers * secondaryWidth * primaryWidth }

    public init(secondaryLayers: Int, secondaryWidth: Int, primaryWidth: Int) {
        self.secondaryLayers = secondaryLayers
        self.secondaryWidth = secondaryWidth
        self.primaryWidth = primaryWidth
        let total = max(secondaryLayers * secondaryWidth * primaryWidth, 1)
        storage = .allocate(capacity: total)
        storage.initialize(repeating: 0, count: total)
    }

    deinit { storage.deallocate() }

    public static func name(_ layer: Int) -> String { "tandem.layers.\(layer).projection.weight" }

    /// (name, shape, offset) of every tensor.
    public var specs: [ParameterSpec] {
        (0..<secondaryLayers).map {
            ParameterSpec(name: Self.name($0), shape: [secondaryWidth, primaryWidth], offset: $0 * secondaryWidth * primaryWidth)
        }
    }

    public func projection(_ layer: Int) -> UnsafeMutablePointer<Float> { storage + layer * secondaryWidth * primaryWidth }

    /// Seeded uniform weights with standard deviation 1/sqrt(d_L).
    public func randomize(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        let halfWidth = (3.0 / Float(primaryWidth)).squareRoot()
        for i in 0..<count { storage[i] = (2 * generator.nextUnitFloat() - 1) * halfWidth }
    }
}

/// A secondary that attends to the primary: for positions the primary has processed, the keys
/// and values of secondary layer j are computed, with the secondary's own attention norm and
/// K/V projections, from yhat = P_j x_p^(l(j)); for pending and draft positions, from its own
/// states (an ordinary forward pass). Queries always come from the secondary.
public final class TandemSecondary: @unchecked Sendable {
    public let model: Transformer
    public let projections: ProjectionWeights
    public let layerMap: TandemLayerMap
    public let primaryLayers: Int
    /// Primary residual point read by each secondary layer.
    public let primaryPoints: [Int]
    let projectionLinears: [Linear] // [d_S, d_L]
    let keyValueLinears: [Linear]   // the secondary's fused [2 kvW, d_S] (k rows then v rows)
    private let maxTokens: Int
    private let projected, normed, keyValue: UnsafeMutablePointer<Float>

    public init(model: Transformer, projections: ProjectionWeights, layerMap: TandemLayerMap,
                primaryConfig: ModelConfig, maxTokens: Int = 64) {
        let config = model.config
        precondition(projections.secondaryLayers == config.layerCount && projections.secondaryWidth == config.width
                     && projections.primaryWidth == primaryConfig.width, "projection shapes do not match the models")
        self.model = model
        self.projections = projections
        self.layerMap = layerMap
        primaryLayers = primaryConfig.layerCount
        primaryPoints = (0..<config.layerCount).map {
            layerMap.primaryPoint(secondaryLayer: $0, secondaryLayers: config.layerCount, primaryLayers: primaryConfig.layerCount)
        }
        let backend: KernelBackend = model.backend == .openblas ? .openblas : .packed
        projectionLinears = (0..<config.layerCount).map {
            Linear(canonical: projections.projection($0), outputs: config.width, inputs: primaryConfig.width, backend: backend)
        }
        keyValueLinears = (0..<config.layerCount).map {
            Linear(canonical: UnsafePointer(model.weights.tensor($0, .key).baseAddress!), outputs: 2 * config.keyValueWidth,
                   inputs: config.width, backend: backend)
        }
        self.maxTokens = maxTokens
        projected = .allocate(capacity: maxTokens * config.width)
        normed = .allocate(capacity: maxTokens * config.width)
        keyValue = .allocate(capacity: maxTokens * 2 * config.keyValueWidth)
    }

    deinit { projected.deallocate(); normed.deallocate(); keyValue.deallocate() }

    /// Asks `primaryState` to keep the residual streams this secondary reads.
    public func requestCaptures(_ primaryState: ForwardState) {
        for point in Set(primaryPoints) { primaryState.capture(point: point) }
    }

    /// Writes the cache entries of positions start ..< start + rows.count from the primary's
    /// residual streams in `primaryState` (rows `rows` of its last pass), after truncating the
    /// cache to `start`: the rows replace whatever the secondary had written there itself.
    public func writeProjectedEntries(from primaryState: ForwardState, rows: Range<Int>, at start: Int, cache: KeyValueCache) {
        let config = model.config, ds = config.width, hd = config.headDimension, kvW = config.keyValueWidth
        precondition(start <= cache.length, "projected entries at \(start) would leave a gap (cache length \(cache.length))")
        model.profiler?.mark()
        cache.truncate(to: start)
        var written = 0
        while written < rows.count {
            let n = min(maxTokens, rows.count - written)
            for layer in 0..<config.layerCount {
                let source = primaryState.hidden(point: primaryPoints[layer], row: rows.lowerBound + written).baseAddress!
                projectionLinears[layer].apply(source, xStride: projections.primaryWidth, tokens: n, into: projected,
                                               yStride: ds, accumulate: false, threads: model.threads)
                let norm = model.weights.tensor(layer, .attentionNorm).baseAddress!
                for row in 0..<n {
                    VectorMath.rmsNorm(projected + row * ds, norm, normed + row * ds, ds, epsilon: config.normEpsilon)
                }
                keyValueLinears[layer].apply(normed, xStride: ds, tokens: n, into: keyValue, yStride: 2 * kvW,
                                             accumulate: false, threads: model.threads)
                for row in 0..<n {
                    let position = start + written + row
                    for head in 0..<config.keyValueHeadCount {
                        let key = keyValue + row * 2 * kvW + head * hd
                        model.rotary.rotate(key, position: position)
                        (cache.keys(layer: layer, head: head) + position * hd).update(from: key, count: hd)
                        (cache.values(layer: layer, head: head) + position * hd).update(from: key + kvW, count: hd)
                    }
                }
            }
            cache.extend(by: n)
            written += n
        }
        model.profiler?.lap(model: model.profilerModel, layer: -1, .tandemProjection, tokens: rows.count)
    }
}
