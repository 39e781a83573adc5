/// The forward pass at several threads (a block, or a decode step) as one parallel region
/// (`WorkerPool.region`): every thread runs the whole pass, taking its share of each phase's
/// rows, panels or attention pieces, and the phases are separated by barriers. Called per product
/// and per attention step, the pool woke its workers, waited on a prologue counter and joined 5
/// times per layer (15 synchronisations); the region pays 10 barriers per layer and one wake-up
/// and join per pass. A row's arithmetic is the same as on the per-call path (the same kernels,
/// each row's product independent of the panel split), so both give the same bits.
extension Transformer {
    /// Whether `forward` takes the region path: several threads, every product splitting into
    /// panel shares at this block size (none handed to OpenBLAS). Decode steps too: their one
    /// row's norms, rotary and SwiGLU run on thread 0 while the others wait at the barrier, as
    /// they waited for the next call on the per-call path. That path paid 5 wake-ups and 5 joins
    /// per layer for a decode step (no prologues), the region 10 barriers: the same count of
    /// meetings, each a spin on one counter instead of a wake-up (measured 1.5-3.5% faster).
    public func runsInRegion(tokens n: Int, threads: Int) -> Bool {
        threads > 1 && (splitsEveryBlockSize || (n <= splitBlockSizes.count && splitBlockSizes[n - 1]))
    }

    // The layers, the final norm and the head of `forward` (embeddings are in place); the cache
    // grows by n once every thread is done.
    func forwardInRegion(tokens n: Int, start: Int, cache: KeyValueCache, state: ForwardState) {
        let settings = state.settings, profiler = settings.profiler, model = settings.profilerModel
        let d = config.width, f = config.feedForwardWidth, qW = config.queryWidth
        let qkvStride = qW + 2 * config.keyValueWidth
        // Scratch made here, on one thread: the region's threads only read it.
        let scratch = layers.map { LayerScratch(linears: $0, state: state) }
        let headScratch = state.quantizedActivations(for: head)
        // A block splits each head's rows in two (attendPiece); a decode step's one row cannot.
        let parts = n > 1 ? 2 : 1, pieces = config.headCount * parts
        // Timer laps as the per-call path takes them for blocks: norms at several threads are timed
        // inside the product that follows them (their own lap is taken before the work, ~0). For a
        // decode step the per-call path timed them on their own; here they too count in the product.
        WorkerPool.shared(threads: settings.threads).region { region in
            let lead = region.thread == 0
            // (A decode step's one row falls to thread 0, the caller, as on the per-call path.)
            let rows = region.share(of: n)
            // Every thread's part of a product once its input rows are prepared.
            func product(_ linear: Linear, _ activations: QuantizedActivations?, _ x: UnsafePointer<Float>,
                         xStride: Int, into y: UnsafeMutablePointer<Float>, yStride: Int, accumulate: Bool) {
                linear.multiply(part: region.thread, parts: region.threads, x, xStride: xStride, tokens: n,
                                into: y, yStride: yStride, accumulate: accumulate, activations: activations)
            }
            for layer in 0..<config.layerCount {
                let linears = layers[layer], activations = scratch[layer]
                // attention: norm and quantize rows | q, k, v | rotate, cache | heads | quantize | output
                if lead { profiler?.lap(model: model, layer: layer, .norm, tokens: n) }
                normRows(layerNorms[layer].attention, state)(rows)
                linears.queryKeyValue.prepare(state.normed, xStride: d, rows: rows,
                                              activations: activations.queryKeyValue)
                region.barrier()
                product(linears.queryKeyValue, activations.queryKeyValue, state.normed, xStride: d,
                        into: state.queryKeyValue, yStride: qkvStride, accumulate: false)
                region.barrier()
                if lead { profiler?.lap(model: model, layer: layer, .attentionProjection, tokens: n) }
                rotateRows(rows, layer: layer, start: start, cache: cache, state: state)
                region.barrier()
                for piece in stride(from: region.thread, to: pieces, by: region.threads) {
                    attendPiece(piece, parts: parts, layer: layer, tokens: n, start: start, cache: cache,
                                state: state)
                }
                region.barrier()
                if lead { profiler?.lap(model: model, layer: layer, .attentionScores, tokens: n) }
                linears.output.prepare(state.attention, xStride: qW, rows: rows, activations: activations.output)
                region.barrier()
                product(linears.output, activations.output, state.attention, xStride: qW, into: state.residual,
                        yStride: d, accumulate: true)
                region.barrier()
                if lead { profiler?.lap(model: model, layer: layer, .attentionProjection, tokens: n) }
                // feed-forward: norm and quantize rows | gate, up | SwiGLU and quantize rows | down
                if lead { profiler?.lap(model: model, layer: layer, .norm, tokens: n) }
                normRows(layerNorms[layer].feedForward, state)(rows)
                linears.gateUp.prepare(state.normed, xStride: d, rows: rows, activations: activations.gateUp)
                region.barrier()
                product(linears.gateUp, activations.gateUp, state.normed, xStride: d, into: state.gateUp,
                        yStride: 2 * f, accumulate: false)
                region.barrier()
                for row in rows {
                    let gateUp = state.gateUp + row * 2 * f
                    VectorMath.swiGLU(gateUp, gateUp + f, state.activation + row * f, f)
                }
                linears.down.prepare(state.activation, xStride: f, rows: rows, activations: activations.down)
                region.barrier()
                product(linears.down, activations.down, state.activation, xStride: f, into: state.residual,
                        yStride: d, accumulate: true)
                region.barrier()
                if lead {
                    profiler?.lap(model: model, layer: layer, .feedForward, tokens: n)
                    state.captured[layer + 1].map { $0.update(from: state.residual, count: n * d) }
                }
            }
            if lead { profiler?.lap(model: model, layer: -1, .norm, tokens: n) }
            normRows(finalNorm, state)(rows)
            head.prepare(state.normed, xStride: d, rows: rows, activations: headScratch)
            region.barrier()
            product(head, headScratch, state.normed, xStride: d, into: state.logitsStorage,
                    yStride: config.vocabularySize, accumulate: false)
        }
        cache.extend(by: n)
        profiler?.lap(model: model, layer: -1, .lmHead, tokens: n)
    }
}

/// The quantized-input scratch of one layer's four products, by name (nil for F32 weights).
private struct LayerScratch {
    let queryKeyValue, output, gateUp, down: QuantizedActivations?

    init(linears: LayerLinears, state: ForwardState) {
        queryKeyValue = state.quantizedActivations(for: linears.queryKeyValue)
        output = state.quantizedActivations(for: linears.output)
        gateUp = state.quantizedActivations(for: linears.gateUp)
        down = state.quantizedActivations(for: linears.down)
    }
}
