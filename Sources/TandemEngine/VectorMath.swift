/// SIMD building blocks of the transformer: dot products, RMSNorm, softmax, SwiGLU, rotary
/// embeddings. Every function handles any length (SIMD8 body, scalar tail).
public enum VectorMath {
    public typealias Vector = SIMD8<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    // sum_i a[i] * b[i], a, b [n]
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var s0 = Vector(), s1 = Vector()
        var i = 0
        while i + 16 <= n {
            s0.addProduct(load(a + i), load(b + i))
            s1.addProduct(load(a + i + 8), load(b + i + 8))
            i += 16
        }
        if i + 8 <= n { s0.addProduct(load(a + i), load(b + i)); i += 8 }
        var total = (s0 + s1).sum()
        while i < n { total += a[i] * b[i]; i += 1 }
        return total
    }

    // out[n] = x[n] / sqrt(mean(x^2) + eps) * weight[n]
    public static func rmsNorm(_ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                               _ out: UnsafeMutablePointer<Float>, _ n: Int, epsilon: Float) {
        let scale = 1 / (dot(x, x, n) / Float(n) + epsilon).squareRoot()
        let s = Vector(repeating: scale)
        var i = 0
        while i + 8 <= n { store(load(x + i) * s * load(weight + i), out + i); i += 8 }
        while i < n { out[i] = x[i] * scale * weight[i]; i += 1 }
    }

    /// exp(x) for a vector: range reduction to [-ln2/2, ln2/2], degree-6 polynomial, exponent
    /// by bit manipulation (relative error about 2e-7; inputs below -87 give 0).
    @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        var v = x
        v.replace(with: 88.0, where: v .> 88.0)
        let underflow = v .< -87.0
        v.replace(with: -87.0, where: underflow)
        let n = (v * 1.442_695_04).rounded(.toNearestOrEven)
        // Fused multiply-adds throughout (Swift does not contract a * b + c by itself): half the
        // instructions and one rounding per step instead of two.
        let r = v.addingProduct(n, Vector(repeating: -0.693_145_75))
            .addingProduct(n, Vector(repeating: -1.428_606_8e-6))
        var p = Vector(repeating: 1.0 / 720)
        p = Vector(repeating: 1.0 / 120).addingProduct(p, r)
        p = Vector(repeating: 1.0 / 24).addingProduct(p, r)
        p = Vector(repeating: 1.0 / 6).addingProduct(p, r)
        p = Vector(repeating: 0.5).addingProduct(p, r)
        p = Vector(repeating: 1).addingProduct(p, r)
        p = Vector(repeating: 1).addingProduct(p, r)
        // 2^n: adding 1.5 * 2^23 puts n in the low mantissa bits.
        let shifted = unsafeBitCast(n + 12_582_912.0, to: SIMD8<UInt32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((shifted &+ 127) &<< 23, to: Vector.self)
        var result = p * scale
        result.replace(with: 0, where: underflow)
        return result
    }

    /// max_i x[i] (-inf for n = 0).
    public static func maximum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var largest = Vector(repeating: -Float.infinity)
        var i = 0
        while i + 8 <= n { let v = load(x + i); largest.replace(with: v, where: v .> largest); i += 8 }
        var maximum = largest.max()
        while i < n { maximum = Swift.max(maximum, x[i]); i += 1 }
        return maximum
    }

    /// In-place softmax of x[n]; returns nothing, x sums to 1 afterwards.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
        let maximum = Self.maximum(x, n)
        let m = Vector(repeating: maximum)
        var sum = Vector()
        var i = 0
        while i + 8 <= n { let e = exp(load(x + i) - m); store(e, x + i); sum += e; i += 8 }
        if i < n { // one exp for the tail; the padding lanes give exp(-inf) = 0
            var tail = Vector(repeating: -Float.infinity)
            for j in 0..<(n - i) { tail[j] = x[i + j] - maximum }
            let e = exp(tail)
            for j in 0..<(n - i) { x[i + j] = e[j] }
            sum += e
        }
        let inverse = Vector(repeating: 1 / sum.sum())
        i = 0
        while i + 8 <= n { store(load(x + i) * inverse, x + i); i += 8 }
        while i < n { x[i] *= inverse[0]; i += 1 }
    }

    // out[n] = silu(gate[n]) * up[n], silu(g) = g / (1 + exp(-g))
    public static func swiGLU(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>,
                              _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let one = Vector(repeating: 1)
        while i + 8 <= n {
            let g = load(gate + i)
            store(g / (one + exp(-g)) * load(up + i), out + i)
            i += 8
        }
        while i < n {
            var g = Vector(repeating: 0); g[0] = gate[i]
            out[i] = (g / (one + exp(-g)))[0] * up[i]
            i += 1
        }
    }
}
