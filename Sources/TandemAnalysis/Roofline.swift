import TandemEngine

/// FLOPs and bytes of one forward pass of a block, and the time a machine's limits allow.
public struct Roofline: Sendable {
    public var config: ModelConfig
    /// For a model on quantized weights: the bytes of its matrices and norms read per token
    /// (`Transformer.bytesReadPerToken` less its embedding row); the products then run at the
    /// integer multiply-add rate (`MachineLimits.integerMacs`), one per weight per token.
    public var quantizedWeightBytes: Int?

    public init(config: ModelConfig, quantizedWeightBytes: Int? = nil) {
        self.config = config
        self.quantizedWeightBytes = quantizedWeightBytes
    }

    /// Parameters touched by every token's products (all but the embedding lookup).
    public var productParameters: Int {
        let c = config
        let perLayer = c.width * (c.queryWidth + 2 * c.keyValueWidth) + c.queryWidth * c.width
            + 3 * c.width * c.feedForwardWidth
        return c.layerCount * perLayer + c.vocabularySize * c.width
    }

    /// FLOPs of a block of `tokens` at context `context` (tokens already cached): 2 per
    /// weight per token, plus attention scores and weighted values over the visible positions.
    public func flops(tokens: Int, context: Int) -> Double {
        let visible = Double(tokens) * Double(context) + Double(tokens * (tokens + 1)) / 2
        let attention = 4 * Double(config.layerCount * config.queryWidth) * visible
        return 2 * Double(productParameters) * Double(tokens) + attention
    }

    /// Bytes read: every weight once (norm vectors included), the embedding rows, and the
    /// keys and values of the context plus the block, per layer.
    public func bytes(tokens: Int, context: Int) -> Double {
        let norms = (2 * config.layerCount + 1) * config.width
        let cache = 2 * config.layerCount * config.keyValueWidth * (context + tokens)
        if let quantizedWeightBytes {
            return Double(quantizedWeightBytes) + 4 * Double(tokens * config.width + cache)
        }
        return 4 * Double(productParameters + norms + tokens * config.width + cache)
    }

    /// max(bytes / bandwidth, compute), seconds; compute is flops / peak, or for quantized
    /// weights the products' multiply-adds at the integer rate plus attention's flops at peak.
    public func time(tokens: Int, context: Int, limits: MachineLimits) -> Double {
        let memory = bytes(tokens: tokens, context: context) / limits.bandwidth
        guard quantizedWeightBytes != nil, let integerMacs = limits.integerMacs else {
            return max(memory, flops(tokens: tokens, context: context) / limits.peakFlops)
        }
        let products = Double(productParameters) * Double(tokens)
        let attention = flops(tokens: tokens, context: context) - 2 * products
        return max(memory, products / integerMacs + attention / limits.peakFlops)
    }
}
