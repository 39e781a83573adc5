/// A secondary that attends to the primary: for positions the primary has processed, the keys
/// and values of secondary layer j are computed, with the secondary's own attention norm and
/// K/V projections, from yhat = P_j x_p^(l(j)); for pending and draft positions, from its own
/// states (an ordinary forward pass). Queries always come from the secondary.
public final class TandemSecondary: @unchecked Sendable {
    public let model: Transformer
    public let projections: ProjectionWeights
    public let layerMap: TandemLayerMap
    public let primaryLayers: Int
    /// Primary residual points read by each secondary layer (concatenated when several).
    public let primaryPoints: [[Int]]
    let projectionLinears: [Linear] // [d_S, k_j d_L]
    let keyValueLinears: [Linear]   // the secondary's fused [2 kvW, d_S] (k rows then v rows)
    private let maxTokens: Int
    private let projected, normed, keyValue: UnsafeMutablePointer<Float>
    /// Concatenated primary points of a row, [maxTokens][max k_j d_L] (group map only).
    private let gathered: UnsafeMutablePointer<Float>

    public init(model: Transformer, projections: ProjectionWeights, layerMap: TandemLayerMap,
                primaryConfig: ModelConfig, maxTokens: Int = 64) {
        let config = model.config
        let points = layerMap.primaryPoints(secondaryLayers: config.layerCount, primaryLayers: primaryConfig.layerCount)
        precondition(projections.secondaryLayers == config.layerCount && projections.secondaryWidth == config.width
                     && projections.primaryWidth == primaryConfig.width
                     && projections.pointCounts == points.map(\.count),
                     "projection shapes do not match the models and the layer map")
        self.model = model
        self.projections = projections
        self.layerMap = layerMap
        primaryLayers = primaryConfig.layerCount
        primaryPoints = points
        let backend: KernelBackend = model.backend == .openblas ? .openblas : .packed
        projectionLinears = (0..<config.layerCount).map {
            Linear(canonical: projections.projection($0), outputs: config.width, inputs: projections.inputWidth($0),
                   backend: backend)
        }
        keyValueLinears = (0..<config.layerCount).map {
            Linear(canonical: UnsafePointer(model.weights.tensor($0, .key).baseAddress!),
                   outputs: 2 * config.keyValueWidth, inputs: config.width, backend: backend)
        }
        self.maxTokens = maxTokens
        projected = .allocate(capacity: maxTokens * config.width)
        normed = .allocate(capacity: maxTokens * config.width)
        keyValue = .allocate(capacity: maxTokens * 2 * config.keyValueWidth)
        let widest = points.map(\.count).max() ?? 1
        gathered = .allocate(capacity: widest > 1 ? maxTokens * widest * primaryConfig.width : 1)
    }

    deinit { projected.deallocate(); normed.deallocate(); keyValue.deallocate(); gathered.deallocate() }

    /// Asks `primaryState` to keep the residual streams this secondary reads.
    public func requestCaptures(_ primaryState: ForwardState) {
        for point in Set(primaryPoints.joined()) { primaryState.capture(point: point) }
    }

    /// Writes the cache entries of positions start ..< start + rows.count from the primary's
    /// residual streams in `primaryState` (rows `rows` of its last pass), after truncating the
    /// cache to `start`: the rows replace whatever the secondary had written there itself.
    /// `settings`: the run's threads and timers (default: the model's planned threads, none).
    public func writeProjectedEntries(from primaryState: ForwardState, rows: Range<Int>, at start: Int,
                                      cache: KeyValueCache, settings: ForwardSettings? = nil) {
        let settings = settings ?? model.defaultSettings
        let threads = settings.threads, profiler = settings.profiler
        let config = model.config, ds = config.width, hd = config.headDimension, kvW = config.keyValueWidth
        precondition(start <= cache.length,
                     "projected entries at \(start) would leave a gap (cache length \(cache.length))")
        profiler?.mark()
        cache.truncate(to: start)
        var written = 0
        while written < rows.count {
            let n = min(maxTokens, rows.count - written)
            for layer in 0..<config.layerCount {
                let points = primaryPoints[layer], dl = projections.primaryWidth, inputWidth = points.count * dl
                let first = rows.lowerBound + written
                var source = UnsafePointer(primaryState.hidden(point: points[0], row: first).baseAddress!)
                if points.count > 1 {
                    // group map: row r's input is [x^(p_0) | x^(p_1) | ...]
                    for row in 0..<n {
                        for (index, point) in points.enumerated() {
                            (gathered + row * inputWidth + index * dl).update(
                                from: primaryState.hidden(point: point, row: first + row).baseAddress!, count: dl)
                        }
                    }
                    source = UnsafePointer(gathered)
                }
                projectionLinears[layer].apply(source, xStride: inputWidth, tokens: n, into: projected,
                                               yStride: ds, accumulate: false, threads: threads)
                let norm = model.layerNorms[layer].attention
                for row in 0..<n {
                    VectorMath.rmsNorm(projected + row * ds, norm, normed + row * ds, ds, epsilon: config.normEpsilon)
                }
                keyValueLinears[layer].apply(normed, xStride: ds, tokens: n, into: keyValue, yStride: 2 * kvW,
                                             accumulate: false, threads: threads)
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
        profiler?.lap(model: settings.profilerModel, layer: -1, .tandemProjection, tokens: rows.count)
    }
}
