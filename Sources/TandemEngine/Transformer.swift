import Dispatch

/// The linear layers of one decoder layer, q/k/v and gate/up fused along the output axis
/// (adjacent in the parameter table, so the canonical matrices are already contiguous).
struct LayerLinears {
    let queryKeyValue: Linear // [queryWidth + 2 keyValueWidth, width]
    let output: Linear        // [width, queryWidth]
    let gateUp: Linear        // [2 feedForwardWidth, width]
    let down: Linear          // [width, feedForwardWidth]
    var all: [Linear] { [queryKeyValue, output, gateUp, down] }
}

/// A Llama-family decoder ready for inference: weights plus their kernel-ready forms.
///
/// `forward` processes a block of n >= 1 tokens at the cache's current length, appends their
/// keys and values to the cache and leaves logits (and any requested residual streams) of all
/// n positions in the `ForwardState`.
public final class Transformer: @unchecked Sendable {
    public let config: ModelConfig
    public let weights: ModelWeights
    public let backend: KernelBackend
    /// The thread count the kernel choice (`auto`) was planned for, and the default of
    /// `makeState`; a run picks its own in `ForwardSettings` (OpenBLAS's count is process-wide).
    public let plannedThreads: Int
    let layers: [LayerLinears]
    let head: Linear
    let rotary: RotaryTable
    /// The embedding table, each layer's norm weights and the final norm's, looked up once:
    /// `ModelWeights.tensor` builds the tensor's name and hashes it, which every pass did twice per
    /// layer (SmolLM2 Q4_1 at one thread: a decode step took 4.32 ms with the lookups, 4.04 without).
    let embedding: UnsafePointer<Float>
    let layerNorms: [(attention: UnsafePointer<Float>, feedForward: UnsafePointer<Float>)]
    let finalNorm: UnsafePointer<Float>
    /// Block sizes n (index n - 1, n <= Linear.maxPackedTokens) at which every product splits into
    /// panel shares, and whether every product is quantized (then every n splits): what
    /// `runsInRegion` asks, fixed once the kernel plan is made.
    private(set) var splitBlockSizes: [Bool] = []
    private(set) var splitsEveryBlockSize = false

    /// `skinnyLoop`: the packed F32 loop for blocks of 1-6 rows; nil chooses it from the model's
    /// footprint (`SkinnyLoop.forWeights`), a value forces it (for measuring one against the other).
    public init(weights: ModelWeights, backend: KernelBackend = .auto, threads: Int = 1,
                quantization: WeightQuantization = .none, skinnyLoop: SkinnyLoop? = nil) {
        let config = weights.config
        self.config = config
        self.weights = weights
        self.backend = backend
        self.plannedThreads = max(threads, 1)
        let linearBackend: KernelBackend = backend == .openblas ? .openblas : .packed
        // The matrices `names` (adjacent in the parameter table) as one layer, quantized when asked.
        func linear(_ names: [String], outputs: Int, inputs: Int) -> Linear {
            let canonical = UnsafePointer(weights.tensor(names[0]).baseAddress!)
            if let matrix = quantization.matrix(names, canonical: canonical, outputs: outputs, inputs: inputs) {
                return Linear(quantized: matrix, canonical: canonical)
            }
            return Linear(canonical: canonical, outputs: outputs, inputs: inputs, backend: linearBackend)
        }
        layers = (0..<config.layerCount).map { layer in
            func names(_ tensors: ParameterTable.LayerTensor...) -> [String] {
                tensors.map { ParameterTable.name(layer, $0) }
            }
            return LayerLinears(
                queryKeyValue: linear(names(.query, .key, .value),
                                      outputs: config.queryWidth + 2 * config.keyValueWidth, inputs: config.width),
                output: linear(names(.output), outputs: config.width, inputs: config.queryWidth),
                gateUp: linear(names(.gate, .up), outputs: 2 * config.feedForwardWidth, inputs: config.width),
                down: linear(names(.down), outputs: config.width, inputs: config.feedForwardWidth))
        }
        layerNorms = (0..<config.layerCount).map { layer in
            (UnsafePointer(weights.tensor(layer, .attentionNorm).baseAddress!),
             UnsafePointer(weights.tensor(layer, .feedForwardNorm).baseAddress!))
        }
        finalNorm = UnsafePointer(weights.tensor(ParameterTable.finalNorm).baseAddress!)
        embedding = UnsafePointer(weights.tensor(ParameterTable.embedding).baseAddress!)
        let headName = config.tiedEmbeddings ? ParameterTable.embedding : ParameterTable.head
        head = linear([headName], outputs: config.vocabularySize, inputs: config.width)
        rotary = RotaryTable(headDimension: config.headDimension, maxContext: config.maxContext,
                             theta: config.ropeTheta)
        // A model whose F32 panels outgrow the last-level cache streams them from DRAM every pass.
        let linears = [head] + layers.flatMap(\.all)
        let loop = skinnyLoop
            ?? SkinnyLoop.forWeights(bytes: linears.compactMap(\.packed).reduce(0) { $0 + $1.byteCount })
        for linear in linears { linear.loop = loop }
        if backend == .auto { KernelPlanner(threads: threads).plan(layers: layers, head: head) }
        splitsEveryBlockSize = linears.allSatisfy { $0.quantized != nil }
        splitBlockSizes = (1...Linear.maxPackedTokens).map { n in
            linears.allSatisfy { $0.splitsIntoShares(tokens: n) }
        }
    }

    /// Whether any matrix is held quantized.
    public var hasQuantizedMatrices: Bool {
        head.quantized != nil || layers.contains { $0.all.contains { $0.quantized != nil } }
    }

    /// The quantized type holding most of this model's weight bytes (nil: all F32).
    public var dominantQuantizedType: GGMLType? {
        var bytes: [GGMLType: Int] = [:]
        for matrix in ([head] + layers.flatMap(\.all)).compactMap(\.quantized) {
            bytes[matrix.type, default: 0] += matrix.byteCount
        }
        return bytes.max { $0.value < $1.value }?.key
    }

    /// Bytes of weights one decode step reads as this model holds them: every matrix (quantized
    /// or F32, the head included), the norms, and one embedding row.
    public var bytesReadPerToken: Int {
        let matrices = layers.flatMap(\.all).reduce(head.weightBytes) { $0 + $1.weightBytes }
        let norms = (2 * config.layerCount + 1) * config.width * 4
        return matrices + norms + config.width * 4
    }

    public func makeCache(capacity: Int? = nil) -> ContiguousKeyValueCache {
        ContiguousKeyValueCache(config: config, capacity: capacity)
    }

    /// A run's settings when the caller names none: `plannedThreads`, no timers.
    public var defaultSettings: ForwardSettings { ForwardSettings(threads: plannedThreads) }

    /// Scratch state for blocks of up to `maxTokens`; `settings` (default: `defaultSettings`)
    /// drive every forward pass on it.
    public func makeState(maxTokens: Int, contextCapacity: Int? = nil,
                          settings: ForwardSettings? = nil) -> ForwardState {
        ForwardState(config: config, maxTokens: maxTokens, contextCapacity: contextCapacity,
                     settings: settings ?? defaultSettings)
    }

    /// Runs `tokens` (n >= 1) at positions cache.length ..< cache.length + n.
    public func forward(_ tokens: some Collection<Int>, cache: KeyValueCache, state: ForwardState) {
        let n = tokens.count, start = cache.length, d = config.width
        precondition(n >= 1 && n <= state.maxTokens, "block of \(n) tokens, state holds \(state.maxTokens)")
        // fatalError, not precondition: its message survives -O builds (a precondition traps silently).
        let limit = min(cache.capacity, config.maxContext, state.contextCapacity)
        if start + n > limit { fatalError("context \(start + n) exceeds capacity \(limit)") }
        state.tokenCount = n
        let settings = state.settings, threads = settings.threads
        let profiler = settings.profiler, model = settings.profilerModel
        profiler?.mark()
        for (row, token) in tokens.enumerated() {
            precondition(token >= 0 && token < config.vocabularySize, "token \(token) outside the vocabulary")
            (state.residual + row * d).update(from: embedding + token * d, count: d)
        }
        state.captured[0].map { $0.update(from: state.residual, count: n * d) }
        profiler?.lap(model: model, layer: -1, .embedding, tokens: n)
        if runsInRegion(tokens: n, threads: threads) {
            return forwardInRegion(tokens: n, start: start, cache: cache, state: state)
        }
        for layer in 0..<config.layerCount {
            attentionBlock(layer: layer, tokens: n, start: start, cache: cache, state: state, settings: settings)
            feedForwardBlock(layer: layer, tokens: n, state: state, settings: settings)
            state.captured[layer + 1].map { $0.update(from: state.residual, count: n * d) }
        }
        cache.extend(by: n)
        let finalNorm = Self.rowWork(normRows(self.finalNorm, state), threads: threads, rows: n)
        profiler?.lap(model: model, layer: -1, .norm, tokens: n)
        head.apply(state.normed, xStride: d, tokens: n, into: state.logitsStorage,
                   yStride: config.vocabularySize, accumulate: false, threads: threads, prologue: finalNorm,
                   activations: state.quantizedActivations(for: head))
        profiler?.lap(model: model, layer: -1, .lmHead, tokens: n)
    }

    private func attentionBlock(layer: Int, tokens n: Int, start: Int, cache: KeyValueCache, state: ForwardState,
                                settings: ForwardSettings) {
        let threads = settings.threads, profiler = settings.profiler, profilerModel = settings.profilerModel
        let d = config.width, qW = config.queryWidth, stride = qW + 2 * config.keyValueWidth
        let norm = Self.rowWork(normRows(layerNorms[layer].attention, state), threads: threads, rows: n)
        profiler?.lap(model: profilerModel, layer: layer, .norm, tokens: n)
        let linears = layers[layer]
        linears.queryKeyValue.apply(state.normed, xStride: d, tokens: n, into: state.queryKeyValue,
                                    yStride: stride, accumulate: false, threads: threads, prologue: norm,
                                    activations: state.quantizedActivations(for: linears.queryKeyValue))
        let fused = Self.splitsRowWork(threads: threads, rows: n)
        profiler?.lap(model: profilerModel, layer: layer, .attentionProjection, tokens: n)
        let rotate = { (rows: Range<Int>) in
            self.rotateRows(rows, layer: layer, start: start, cache: cache, state: state)
        }
        // Blocks at several threads split each head's rows in two (see attendPiece).
        let parts = fused ? 2 : 1
        let attendPiece = { (piece: Int) in
            self.attendPiece(piece, parts: parts, layer: layer, tokens: n, start: start, cache: cache, state: state)
        }
        let pieces = config.headCount * parts
        if fused {
            // Every row rotated and cached (split over the threads) before any head attends.
            WorkerPool.shared(threads: threads).run(pieces, prologue: { thread in
                rotate(WorkerPool.share(of: n, part: thread, parts: threads))
            }, attendPiece)
        } else {
            rotate(0..<n)
            if threads > 1 {
                WorkerPool.shared(threads: threads).run(pieces, attendPiece)
            } else {
                for piece in 0..<pieces { attendPiece(piece) }
            }
        }
        profiler?.lap(model: profilerModel, layer: layer, .attentionScores, tokens: n)
        linears.output.apply(state.attention, xStride: qW, tokens: n, into: state.residual,
                             yStride: d, accumulate: true, threads: threads,
                             activations: state.quantizedActivations(for: linears.output))
        profiler?.lap(model: profilerModel, layer: layer, .attentionProjection, tokens: n)
    }

    // Rotates the queries and keys of `rows`, then appends their keys and values to the cache.
    func rotateRows(_ rows: Range<Int>, layer: Int, start: Int, cache: KeyValueCache, state: ForwardState) {
        let hd = config.headDimension, qW = config.queryWidth, kvW = config.keyValueWidth
        let stride = qW + 2 * kvW
        for row in rows {
            let position = start + row
            let qkv = state.queryKeyValue + row * stride
            for head in 0..<config.headCount { rotary.rotate(qkv + head * hd, position: position) }
            for head in 0..<config.keyValueHeadCount {
                let key = qkv + qW + head * hd
                rotary.rotate(key, position: position)
                (cache.keys(layer: layer, head: head) + position * hd).update(from: key, count: hd)
                (cache.values(layer: layer, head: head) + position * hd).update(from: key + kvW, count: hd)
            }
        }
    }

    // Attention piece p of headCount x parts: head p / parts, rows of its share p % parts (blocks
    // at several threads split each head's rows in two: nine heads on two threads left one thread
    // five heads to the other's four), each part with its share of the head's scores scratch (at
    // n >= 2 a share still holds a row of the whole context: scoreCapacity >= 2 contextCapacity).
    func attendPiece(_ piece: Int, parts: Int, layer: Int, tokens n: Int, start: Int, cache: KeyValueCache,
                     state: ForwardState) {
        let hd = config.headDimension, qW = config.queryWidth, stride = qW + 2 * config.keyValueWidth
        let groups = config.headCount / config.keyValueHeadCount
        let head = piece / parts, part = piece % parts
        let rows = WorkerPool.share(of: n, part: part, parts: parts)
        guard !rows.isEmpty else { return }
        let first = rows.lowerBound, scratch = state.scoreCapacity / parts
        CausalAttention.attend(queries: state.queryKeyValue + first * stride + head * hd, queryStride: stride,
                               rows: rows.count, start: start + first,
                               keys: cache.keys(layer: layer, head: head / groups),
                               values: cache.values(layer: layer, head: head / groups),
                               headDimension: hd, scale: 1 / Float(hd).squareRoot(),
                               scores: state.scores + head * state.scoreCapacity + part * scratch,
                               scoreCapacity: scratch,
                               out: state.attention + first * qW + head * hd, outStride: qW)
    }

    // Whether a pass's row work (norms, rotary and cache writes, SwiGLU) runs split over the
    // threads as the prologue of the call that reads it (each thread a share of the rows, in that
    // call's own wake-up; its time then counts in that call's timer lap), or first, on the calling
    // thread, timed on its own. Only blocks split: one row's norm on another core only moved it
    // between caches, and decode steps ran slower.
    private static func splitsRowWork(threads: Int, rows: Int) -> Bool { threads > 1 && rows > 1 }

    // Row work for the product that reads it: run now on every row (returning nil), or returned
    // as that product's prologue when splitsRowWork says so.
    private static func rowWork(_ work: @escaping RowPrologue, threads: Int, rows: Int) -> RowPrologue? {
        guard splitsRowWork(threads: threads, rows: rows) else {
            work(0..<rows)
            return nil
        }
        return work
    }

    // RMS norm of the residual rows into state.normed (run as splitsRowWork says).
    func normRows(_ weight: UnsafePointer<Float>, _ state: ForwardState) -> RowPrologue {
        let d = config.width, epsilon = config.normEpsilon
        return { rows in
            for row in rows {
                VectorMath.rmsNorm(state.residual + row * d, weight, state.normed + row * d, d, epsilon: epsilon)
            }
        }
    }

    private func feedForwardBlock(layer: Int, tokens n: Int, state: ForwardState, settings: ForwardSettings) {
        let threads = settings.threads, profiler = settings.profiler, profilerModel = settings.profilerModel
        let d = config.width, f = config.feedForwardWidth
        let norm = Self.rowWork(normRows(layerNorms[layer].feedForward, state), threads: threads, rows: n)
        profiler?.lap(model: profilerModel, layer: layer, .norm, tokens: n)
        let linears = layers[layer]
        linears.gateUp.apply(state.normed, xStride: d, tokens: n, into: state.gateUp,
                             yStride: 2 * f, accumulate: false, threads: threads, prologue: norm,
                             activations: state.quantizedActivations(for: linears.gateUp))
        let swiGLU = Self.rowWork({ rows in
            for row in rows {
                let gateUp = state.gateUp + row * 2 * f
                VectorMath.swiGLU(gateUp, gateUp + f, state.activation + row * f, f)
            }
        }, threads: threads, rows: n)
        linears.down.apply(state.activation, xStride: f, tokens: n, into: state.residual,
                           yStride: d, accumulate: true, threads: threads, prologue: swiGLU,
                           activations: state.quantizedActivations(for: linears.down))
        profiler?.lap(model: profilerModel, layer: layer, .feedForward, tokens: n)
    }
}
