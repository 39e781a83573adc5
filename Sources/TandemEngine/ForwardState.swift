/// Scratch activations of one forward pass for blocks of up to `maxTokens` tokens, allocated
/// once, so the hot path allocates no buffers (only a few small closure contexts per layer).
/// Not shared between concurrent passes.
public final class ForwardState: @unchecked Sendable {
    public let maxTokens: Int
    let config: ModelConfig
    let residual: UnsafeMutablePointer<Float>      // [maxTokens][width]
    let normed: UnsafeMutablePointer<Float>        // [maxTokens][width]
    let queryKeyValue: UnsafeMutablePointer<Float> // [maxTokens][queryWidth + 2 keyValueWidth]
    let attention: UnsafeMutablePointer<Float>     // [maxTokens][queryWidth]
    let gateUp: UnsafeMutablePointer<Float>        // [maxTokens][2 feedForwardWidth]
    let activation: UnsafeMutablePointer<Float>    // [maxTokens][feedForwardWidth]
    let logitsStorage: UnsafeMutablePointer<Float> // [maxTokens][vocabularySize]
    let scores: UnsafeMutablePointer<Float>        // [headCount][scoreCapacity]
    /// Positions a pass may attend over (cache length plus its block).
    let contextCapacity: Int
    let scoreCapacity: Int                         // contextCapacity x up to scoreRows rows
    /// Captured residual streams: point p (0 = embeddings, l = after l layers) -> [maxTokens][width].
    private(set) var captured: [Int: UnsafeMutablePointer<Float>] = [:]
    /// Tokens of the last forward pass.
    public internal(set) var tokenCount = 0
    /// The run's threads and timers for every forward pass on this state.
    public var settings: ForwardSettings
    /// Quantized rows of a product's input, one buffer per (columns, weight offset), made on first use.
    private var quantizedScratch: [Int: QuantizedActivations] = [:]

    public init(config: ModelConfig, maxTokens: Int, contextCapacity: Int? = nil,
                settings: ForwardSettings = ForwardSettings()) {
        self.config = config
        self.settings = settings
        self.maxTokens = maxTokens
        self.contextCapacity = contextCapacity ?? config.maxContext
        // Rows of a head's scores held at once, so attention reads each key chunk once for them all
        // (at most 8: 8 x contextCapacity floats per head, e.g. 1 MB at a 32k context).
        scoreCapacity = self.contextCapacity * min(maxTokens, CausalAttention.scoreRows)
        // Zeroed and 64-byte aligned, so a head's query row starts a cache line (when the head
        // dimension and the row stride are multiples of 16 floats, as in every model here) and
        // attention's vector loads never straddle two.
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            HugePages.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride)
                .bindMemory(to: Float.self, capacity: max(count, 1))
        }
        residual = buffer(maxTokens * config.width)
        normed = buffer(maxTokens * config.width)
        queryKeyValue = buffer(maxTokens * (config.queryWidth + 2 * config.keyValueWidth))
        attention = buffer(maxTokens * config.queryWidth)
        gateUp = buffer(maxTokens * 2 * config.feedForwardWidth)
        activation = buffer(maxTokens * config.feedForwardWidth)
        logitsStorage = buffer(maxTokens * config.vocabularySize)
        scores = buffer(config.headCount * scoreCapacity)
    }

    deinit {
        for p in [residual, normed, queryKeyValue, attention, gateUp, activation, logitsStorage, scores] {
            HugePages.free(p)
        }
        for p in captured.values { p.deallocate() }
    }

    /// Scratch for the quantized input rows of `linear`'s products (nil for F32 weights); made on
    /// the first call, so a pass that reads it from several threads asks for it first on one.
    func quantizedActivations(for linear: Linear) -> QuantizedActivations? {
        guard let matrix = linear.quantized else { return nil }
        let key = matrix.columns << 8 | Int(QuantizedMatrix.weightOffset(matrix.type))
        if let scratch = quantizedScratch[key] { return scratch }
        let scratch = matrix.makeActivations(capacity: maxTokens)
        quantizedScratch[key] = scratch
        return scratch
    }

    /// Asks later passes to keep the residual stream at `point` (0...layerCount).
    public func capture(point: Int) {
        precondition(point >= 0 && point <= config.layerCount,
                     "capture point \(point) outside 0...\(config.layerCount)")
        if captured[point] == nil {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: maxTokens * config.width)
            p.initialize(repeating: 0, count: maxTokens * config.width)
            captured[point] = p
        }
    }

    /// Logits [vocabularySize] of token `row` of the last pass.
    public func logits(_ row: Int) -> UnsafeBufferPointer<Float> {
        precondition(row < tokenCount)
        return UnsafeBufferPointer(start: logitsStorage + row * config.vocabularySize, count: config.vocabularySize)
    }

    /// The residual stream at `point` (requested with `capture(point:)`) of token `row`.
    public func hidden(point: Int, row: Int) -> UnsafeBufferPointer<Float> {
        guard let p = captured[point] else { preconditionFailure("capture point \(point) was not requested") }
        precondition(row < tokenCount)
        return UnsafeBufferPointer(start: p + row * config.width, count: config.width)
    }
}
