import Dispatch
import CPrefetch

/// A weight matrix W [N x K] (PyTorch layout) repacked for the skinny-product kernel: panels of
/// 16 output columns, each panel [K][16] contiguous and 64-byte aligned, so one pass over the
/// panels streams every weight once, in order, whatever the number of rows multiplied.
public final class PackedMatrix: @unchecked Sendable {
    public static let panelWidth = 16
    public let rows: Int     // N, outputs
    public let columns: Int  // K, inputs
    public let panelCount: Int
    let storage: UnsafeMutablePointer<Float>

    /// Packs the [N x K] row-major matrix at `source` (zero-padding the last panel).
    public init(source: UnsafePointer<Float>, rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        panelCount = (rows + Self.panelWidth - 1) / Self.panelWidth
        let count = max(panelCount * columns * Self.panelWidth, 1)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
        raw.initializeMemory(as: Float.self, repeating: 0, count: count)
        storage = raw.assumingMemoryBound(to: Float.self)
        for panel in 0..<panelCount {
            let base = storage + panel * columns * Self.panelWidth
            for j in 0..<min(Self.panelWidth, rows - panel * Self.panelWidth) {
                let row = source + (panel * Self.panelWidth + j) * columns
                for k in 0..<columns { base[k * Self.panelWidth + j] = row[k] }
            }
        }
    }

    deinit { UnsafeMutableRawPointer(storage).deallocate() }

    public var byteCount: Int { panelCount * columns * Self.panelWidth * 4 }

    /// Y[n x N] = X[n x K] W^T, or Y += X W^T when `accumulate`. Rows of X are `xStride` floats
    /// apart and rows of Y `yStride`. Work is split by panels over `threads` threads.
    public func multiply(_ x: UnsafePointer<Float>, xStride: Int, tokens: Int,
                         into y: UnsafeMutablePointer<Float>, yStride: Int,
                         accumulate: Bool, threads: Int = 1) {
        let workers = min(max(threads, 1), panelCount)
        if workers <= 1 {
            multiplyPanels(0..<panelCount, x, xStride, tokens, y, yStride, accumulate)
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let start = panelCount * worker / workers, end = panelCount * (worker + 1) / workers
            multiplyPanels(start..<end, x, xStride, tokens, y, yStride, accumulate)
        }
    }

    private func multiplyPanels(_ panels: Range<Int>, _ x: UnsafePointer<Float>, _ xStride: Int,
                                _ tokens: Int, _ y: UnsafeMutablePointer<Float>, _ yStride: Int,
                                _ accumulate: Bool) {
        let k = columns
        for panel in panels {
            let weights = UnsafePointer(storage + panel * k * Self.panelWidth)
            let width = min(Self.panelWidth, rows - panel * Self.panelWidth)
            let out = y + panel * Self.panelWidth
            var row = 0
            // The panel (K x 16 floats) stays in L1/L2 while the row chunks reuse it. A chunk of
            // r rows costs max(r, 4) cycles per k (2 FMA ports, 4-cycle FMA latency), so 8 rows
            // go as 4 + 4, not 6 + 2. Six rows fill the 16 ymm registers (12 accumulators).
            while row < tokens {
                let remaining = tokens - row
                let chunk = remaining >= 6 && remaining != 8 ? 6 : remaining >= 4 ? 4 : remaining >= 2 ? 2 : 1
                let xRow = x + row * xStride, yRow = out + row * yStride
                switch chunk {
                case 6: SkinnyKernel.rows6(weights, k, xRow, xStride, yRow, yStride, width, accumulate)
                case 4: SkinnyKernel.rows4(weights, k, xRow, xStride, yRow, yStride, width, accumulate)
                case 2: SkinnyKernel.rows2(weights, k, xRow, xStride, yRow, yStride, width, accumulate)
                default: SkinnyKernel.rows1(weights, k, xRow, yRow, width, accumulate)
                }
                row += chunk
            }
        }
    }
}

/// Register-blocked micro-kernels over one 16-column panel: each keeps its rows' accumulators
/// in named SIMD8 variables (an array would be spilled to the stack) and fuses multiply-add.
enum SkinnyKernel {
    typealias Vector = SIMD8<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).load(as: Vector.self)
    }

    /// Writes (or adds) two accumulators to `width` <= 16 columns of y.
    @inline(__always)
    static func store(_ low: Vector, _ high: Vector, _ y: UnsafeMutablePointer<Float>,
                      _ width: Int, _ accumulate: Bool) {
        if width == 16 {
            let raw = UnsafeMutableRawPointer(y)
            if accumulate {
                raw.storeBytes(of: low + raw.loadUnaligned(as: Vector.self), as: Vector.self)
                raw.storeBytes(of: high + raw.loadUnaligned(fromByteOffset: 32, as: Vector.self),
                               toByteOffset: 32, as: Vector.self)
            } else {
                raw.storeBytes(of: low, as: Vector.self)
                raw.storeBytes(of: high, toByteOffset: 32, as: Vector.self)
            }
            return
        }
        for j in 0..<width {
            let value = j < 8 ? low[j] : high[j - 8]
            y[j] = accumulate ? y[j] + value : value
        }
    }

    // y[1 x 16] (+)= x[1 x K] . panel[K x 16]; two k-streams hide the FMA latency.
    @inline(never)
    static func rows1(_ w: UnsafePointer<Float>, _ k: Int, _ x: UnsafePointer<Float>,
                      _ y: UnsafeMutablePointer<Float>, _ width: Int, _ accumulate: Bool) {
        var a0 = Vector(), a1 = Vector(), b0 = Vector(), b1 = Vector()
        var i = 0
        while i + 1 < k {
            let p = w + i * 16
            let s = Vector(repeating: x[i]), t = Vector(repeating: x[i + 1])
            a0.addProduct(s, load(p)); a1.addProduct(s, load(p + 8))
            b0.addProduct(t, load(p + 16)); b1.addProduct(t, load(p + 24))
            i += 2
        }
        if i < k {
            let p = w + i * 16, s = Vector(repeating: x[i])
            a0.addProduct(s, load(p)); a1.addProduct(s, load(p + 8))
        }
        store(a0 + b0, a1 + b1, y, width, accumulate)
    }

    // y[2 x 16] (+)= x[2 x K] . panel[K x 16]
    @inline(never)
    static func rows2(_ w: UnsafePointer<Float>, _ k: Int, _ x: UnsafePointer<Float>, _ xs: Int,
                      _ y: UnsafeMutablePointer<Float>, _ ys: Int, _ width: Int, _ accumulate: Bool) {
        var a0 = Vector(), a1 = Vector(), c0 = Vector(), c1 = Vector()
        let x1 = x + xs
        for i in 0..<k {
            let p = w + i * 16, w0 = load(p), w1 = load(p + 8)
            tandem_prefetch(p + k * 16)
            let s = Vector(repeating: x[i]), t = Vector(repeating: x1[i])
            a0.addProduct(s, w0); a1.addProduct(s, w1)
            c0.addProduct(t, w0); c1.addProduct(t, w1)
        }
        store(a0, a1, y, width, accumulate)
        store(c0, c1, y + ys, width, accumulate)
    }

    // y[4 x 16] (+)= x[4 x K] . panel[K x 16]
    @inline(never)
    static func rows4(_ w: UnsafePointer<Float>, _ k: Int, _ x: UnsafePointer<Float>, _ xs: Int,
                      _ y: UnsafeMutablePointer<Float>, _ ys: Int, _ width: Int, _ accumulate: Bool) {
        var a0 = Vector(), a1 = Vector(), b0 = Vector(), b1 = Vector()
        var c0 = Vector(), c1 = Vector(), d0 = Vector(), d1 = Vector()
        let x1 = x + xs, x2 = x1 + xs, x3 = x2 + xs
        for i in 0..<k {
            let p = w + i * 16, w0 = load(p), w1 = load(p + 8)
            tandem_prefetch(p + k * 16)
            var s = Vector(repeating: x[i])
            a0.addProduct(s, w0); a1.addProduct(s, w1)
            s = Vector(repeating: x1[i])
            b0.addProduct(s, w0); b1.addProduct(s, w1)
            s = Vector(repeating: x2[i])
            c0.addProduct(s, w0); c1.addProduct(s, w1)
            s = Vector(repeating: x3[i])
            d0.addProduct(s, w0); d1.addProduct(s, w1)
        }
        store(a0, a1, y, width, accumulate)
        store(b0, b1, y + ys, width, accumulate)
        store(c0, c1, y + 2 * ys, width, accumulate)
        store(d0, d1, y + 3 * ys, width, accumulate)
    }

    // y[6 x 16] (+)= x[6 x K] . panel[K x 16]
    @inline(never)
    static func rows6(_ w: UnsafePointer<Float>, _ k: Int, _ x: UnsafePointer<Float>, _ xs: Int,
                      _ y: UnsafeMutablePointer<Float>, _ ys: Int, _ width: Int, _ accumulate: Bool) {
        var a0 = Vector(), a1 = Vector(), b0 = Vector(), b1 = Vector()
        var c0 = Vector(), c1 = Vector(), d0 = Vector(), d1 = Vector()
        var e0 = Vector(), e1 = Vector(), f0 = Vector(), f1 = Vector()
        let x1 = x + xs, x2 = x1 + xs, x3 = x2 + xs, x4 = x3 + xs, x5 = x4 + xs
        for i in 0..<k {
            let p = w + i * 16, w0 = load(p), w1 = load(p + 8)
            tandem_prefetch(p + k * 16)
            var s = Vector(repeating: x[i])
            a0.addProduct(s, w0); a1.addProduct(s, w1)
            s = Vector(repeating: x1[i])
            b0.addProduct(s, w0); b1.addProduct(s, w1)
            s = Vector(repeating: x2[i])
            c0.addProduct(s, w0); c1.addProduct(s, w1)
            s = Vector(repeating: x3[i])
            d0.addProduct(s, w0); d1.addProduct(s, w1)
            s = Vector(repeating: x4[i])
            e0.addProduct(s, w0); e1.addProduct(s, w1)
            s = Vector(repeating: x5[i])
            f0.addProduct(s, w0); f1.addProduct(s, w1)
        }
        store(a0, a1, y, width, accumulate)
        store(b0, b1, y + ys, width, accumulate)
        store(c0, c1, y + 2 * ys, width, accumulate)
        store(d0, d1, y + 3 * ys, width, accumulate)
        store(e0, e1, y + 4 * ys, width, accumulate)
        store(f0, f1, y + 5 * ys, width, accumulate)
    }
}
