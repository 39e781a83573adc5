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
        storage = HugePages.allocate(byteCount: count * 4).bindMemory(to: Float.self, capacity: count) // zeroed
        for panel in 0..<panelCount {
            let base = storage + panel * columns * Self.panelWidth
            for j in 0..<min(Self.panelWidth, rows - panel * Self.panelWidth) {
                let row = source + (panel * Self.panelWidth + j) * columns
                for k in 0..<columns { base[k * Self.panelWidth + j] = row[k] }
            }
        }
    }

    deinit { HugePages.free(UnsafeMutableRawPointer(storage)) }

    public var byteCount: Int { panelCount * columns * Self.panelWidth * 4 }

    /// Y[n x N] = X[n x K] W^T, or Y += X W^T when `accumulate`. Rows of X are `xStride` floats
    /// apart and rows of Y `yStride`. Work is split by panels over `threads` threads. `loop` picks
    /// how blocks of up to 6 rows walk the panels; every loop gives the same bits. `prologue`
    /// writes the rows of X first (split over the threads).
    public func multiply(_ x: UnsafePointer<Float>, xStride: Int, tokens: Int,
                         into y: UnsafeMutablePointer<Float>, yStride: Int,
                         accumulate: Bool, threads: Int = 1, loop: SkinnyLoop = .cacheResident,
                         prologue: RowPrologue? = nil) {
        let workers = min(max(threads, 1), panelCount)
        if workers <= 1 {
            prologue?(0..<tokens)
            multiplyPanels(0..<panelCount, x, xStride, tokens, y, yStride, accumulate, loop)
            return
        }
        func panels(_ worker: Int) {
            multiplyPanels(WorkerPool.share(of: panelCount, part: worker, parts: workers), x, xStride, tokens,
                           y, yStride, accumulate, loop)
        }
        guard let prologue else { return WorkerPool.shared(threads: workers).run(workers, panels) }
        WorkerPool.shared(threads: workers).run(workers, prologue: { worker in
            prologue(WorkerPool.share(of: tokens, part: worker, parts: workers))
        }, panels)
    }

    /// Part `part` of `parts` of `multiply`'s product (the same contiguous panel shares), for one
    /// thread of a parallel region once every row of X is written.
    func multiply(part: Int, parts: Int, _ x: UnsafePointer<Float>, xStride: Int, tokens: Int,
                  into y: UnsafeMutablePointer<Float>, yStride: Int, accumulate: Bool, loop: SkinnyLoop) {
        multiplyPanels(WorkerPool.share(of: panelCount, part: part, parts: parts), x, xStride, tokens, y, yStride,
                       accumulate, loop)
    }

    private func multiplyPanels(_ panels: Range<Int>, _ x: UnsafePointer<Float>, _ xStride: Int,
                                _ tokens: Int, _ y: UnsafeMutablePointer<Float>, _ yStride: Int,
                                _ accumulate: Bool, _ loop: SkinnyLoop) {
        let k = columns, panelFloats = columns * Self.panelWidth
        // Weights streamed from DRAM: every block of 1-6 rows takes the 6-row loop (SkinnyLoop).
        let streaming = loop == .streaming && tokens <= SkinnyKernel.maxRows
        // Rows go in C = ceil(n / 6) balanced chunks (8 = 4 + 4, 9 = 5 + 4, 16 = 6 + 5 + 5): a
        // chunk of r rows costs about max(r, 4) cycles per k (two FMA ports, 4-cycle latency).
        let chunkCount = (tokens + SkinnyKernel.maxRows - 1) / SkinnyKernel.maxRows
        // Each chunk prefetches its share of the next panel, so the weight stream from DRAM stays
        // busy while later chunks re-read the current panel from cache.
        let prefetchStride = (64 + chunkCount - 1) / chunkCount // bytes per k
        // One or two rows leave the FMA chains latency-bound (2-4 chains, 4 cycles each): group
        // whole panels so 8 chains run at once. Each column still sums over k in order, so every
        // row count gives the same bits.
        let group = streaming ? 1 : tokens == 1 ? SkinnyKernel.Wide.oneRowPanels
            : tokens == 2 ? SkinnyKernel.Wide.twoRowPanels : 1
        var grouped = panels.lowerBound
        while group > 1, grouped + group <= panels.upperBound, (grouped + group) * Self.panelWidth <= rows {
            let weights = UnsafePointer(storage + grouped * panelFloats)
            let call = SkinnyKernel.Wide(weights: weights, panelFloats: panelFloats, depth: k, x: x, xStride: xStride,
                                         y: y + grouped * Self.panelWidth, yStride: yStride, accumulate: accumulate,
                                         prefetch: UnsafeRawPointer(weights + group * panelFloats))
            if tokens == 1 { SkinnyKernel.runOneRow(call) } else { SkinnyKernel.runTwoRows(call) }
            grouped += group
        }
        for panel in grouped..<panels.upperBound {
            let weights = UnsafePointer(storage + panel * panelFloats)
            let nextPanel = UnsafeRawPointer(weights + panelFloats)
            let width = min(Self.panelWidth, rows - panel * Self.panelWidth)
            let out = y + panel * Self.panelWidth
            var row = 0
            for chunk in 0..<chunkCount {
                let chunksLeft = chunkCount - chunk
                let r = (tokens - row + chunksLeft - 1) / chunksLeft
                let call = SkinnyKernel.Call(
                    weights: weights, depth: k, x: x + row * xStride, xStride: xStride,
                    y: out + row * yStride, yStride: yStride, width: width, accumulate: accumulate,
                    prefetch: nextPanel + chunk * (k * 64 / chunkCount), prefetchStride: prefetchStride,
                    prefetchToL1: tokens <= 2 && !streaming, liveRows: r)
                if streaming {
                    SkinnyKernel.run(call, SkinnyKernel.Six.self)
                    row += r
                    continue
                }
                switch r {
                case 1: SkinnyKernel.run(call, SkinnyKernel.One.self)
                case 2: SkinnyKernel.run(call, SkinnyKernel.Two.self)
                case 3: SkinnyKernel.run(call, SkinnyKernel.Three.self)
                case 4: SkinnyKernel.run(call, SkinnyKernel.Four.self)
                case 5: SkinnyKernel.run(call, SkinnyKernel.Five.self)
                default: SkinnyKernel.run(call, SkinnyKernel.Six.self)
                }
                row += r
            }
        }
    }
}

/// The register-blocked micro-kernel over one 16-column panel, written once and specialized
/// per row count: unused rows' code folds away, and each row's two accumulators are named
/// SIMD8 variables (an array of accumulators would be spilled to the stack).
enum SkinnyKernel {
    typealias Vector = SIMD8<Float>
    static let maxRows = 6

    protocol RowCount { static var rows: Int { get } }
    enum One: RowCount { static var rows: Int { 1 } }
    enum Two: RowCount { static var rows: Int { 2 } }
    enum Three: RowCount { static var rows: Int { 3 } }
    enum Four: RowCount { static var rows: Int { 4 } }
    enum Five: RowCount { static var rows: Int { 5 } }
    enum Six: RowCount { static var rows: Int { 6 } }

    struct Call {
        var weights: UnsafePointer<Float>   // panel [depth][16]
        var depth: Int                      // K
        var x: UnsafePointer<Float>         // rows [r][xStride]
        var xStride: Int
        var y: UnsafeMutablePointer<Float>  // rows [r][yStride], `width` columns written
        var yStride: Int
        var width: Int
        var accumulate: Bool
        var prefetch: UnsafeRawPointer      // advanced by prefetchStride bytes per k
        var prefetchStride: Int
        var prefetchToL1: Bool              // 1-2 rows: into L1 (see CPrefetch's shim.h)
        /// Rows of x read and of y written (<= R): the R - liveRows spare rows of an R-row loop
        /// recompute row 0 and are not stored (the streaming loop).
        var liveRows: Int
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).load(as: Vector.self)
    }

    // y[live x 16] (+)= x[live x K] . panel[K x 16], live = c.liveRows <= R = Rows.rows <= 6
    @inline(never)
    static func run<Rows: RowCount>(_ c: Call, _: Rows.Type) {
        let r = Rows.rows, live = c.liveRows
        var a0 = Vector(), a1 = Vector(), b0 = Vector(), b1 = Vector()
        var c0 = Vector(), c1 = Vector(), d0 = Vector(), d1 = Vector()
        var e0 = Vector(), e1 = Vector(), f0 = Vector(), f1 = Vector()
        let xs = c.xStride
        let x0 = c.x, x1 = live > 1 ? x0 + xs : x0, x2 = live > 2 ? x0 + 2 * xs : x0
        let x3 = live > 3 ? x0 + 3 * xs : x0, x4 = live > 4 ? x0 + 4 * xs : x0, x5 = live > 5 ? x0 + 5 * xs : x0
        var prefetch = c.prefetch
        for i in 0..<c.depth {
            let p = c.weights + i * 16, w0 = load(p), w1 = load(p + 8)
            if c.prefetchToL1 { tandem_prefetch_l1(prefetch) } else { tandem_prefetch(prefetch) }
            prefetch += c.prefetchStride
            var s = Vector(repeating: x0[i])
            a0.addProduct(s, w0); a1.addProduct(s, w1)
            if r > 1 { s = Vector(repeating: x1[i]); b0.addProduct(s, w0); b1.addProduct(s, w1) }
            if r > 2 { s = Vector(repeating: x2[i]); c0.addProduct(s, w0); c1.addProduct(s, w1) }
            if r > 3 { s = Vector(repeating: x3[i]); d0.addProduct(s, w0); d1.addProduct(s, w1) }
            if r > 4 { s = Vector(repeating: x4[i]); e0.addProduct(s, w0); e1.addProduct(s, w1) }
            if r > 5 { s = Vector(repeating: x5[i]); f0.addProduct(s, w0); f1.addProduct(s, w1) }
        }
        let y = c.y, ys = c.yStride
        store(a0, a1, y, c.width, c.accumulate)
        if r > 1 && live > 1 { store(b0, b1, y + ys, c.width, c.accumulate) }
        if r > 2 && live > 2 { store(c0, c1, y + 2 * ys, c.width, c.accumulate) }
        if r > 3 && live > 3 { store(d0, d1, y + 3 * ys, c.width, c.accumulate) }
        if r > 4 && live > 4 { store(e0, e1, y + 4 * ys, c.width, c.accumulate) }
        if r > 5 && live > 5 { store(f0, f1, y + 5 * ys, c.width, c.accumulate) }
    }

    /// Several whole panels (16 columns each, none partial) for one or two rows.
    struct Wide {
        static let oneRowPanels = 4, twoRowPanels = 2
        var weights: UnsafePointer<Float>   // the first panel [depth][16]; the next panelFloats on
        var panelFloats: Int
        var depth: Int                      // K
        var x: UnsafePointer<Float>         // rows [1 or 2][xStride]
        var xStride: Int
        var y: UnsafeMutablePointer<Float>  // rows [1 or 2][yStride], 16 columns per panel written
        var yStride: Int
        var accumulate: Bool
        var prefetch: UnsafeRawPointer      // the panels after these: one line per panel per k
    }

    // y[1 x 64] (+)= x[1 x K] . panels[4][K x 16]
    @inline(never)
    static func runOneRow(_ c: Wide) {
        var a0 = Vector(), a1 = Vector(), b0 = Vector(), b1 = Vector()
        var c0 = Vector(), c1 = Vector(), d0 = Vector(), d1 = Vector()
        let pa = c.weights, pb = pa + c.panelFloats, pc = pb + c.panelFloats, pd = pc + c.panelFloats
        let stride = c.panelFloats * 4
        var prefetch = c.prefetch
        for i in 0..<c.depth {
            let s = Vector(repeating: c.x[i]), at = i * 16
            tandem_prefetch_l1(prefetch)
            tandem_prefetch_l1(prefetch + stride)
            tandem_prefetch_l1(prefetch + 2 * stride)
            tandem_prefetch_l1(prefetch + 3 * stride)
            prefetch += 64
            a0.addProduct(s, load(pa + at)); a1.addProduct(s, load(pa + at + 8))
            b0.addProduct(s, load(pb + at)); b1.addProduct(s, load(pb + at + 8))
            c0.addProduct(s, load(pc + at)); c1.addProduct(s, load(pc + at + 8))
            d0.addProduct(s, load(pd + at)); d1.addProduct(s, load(pd + at + 8))
        }
        store(a0, a1, c.y, 16, c.accumulate)
        store(b0, b1, c.y + 16, 16, c.accumulate)
        store(c0, c1, c.y + 32, 16, c.accumulate)
        store(d0, d1, c.y + 48, 16, c.accumulate)
    }

    // y[2 x 32] (+)= x[2 x K] . panels[2][K x 16]
    @inline(never)
    static func runTwoRows(_ c: Wide) {
        var a0 = Vector(), a1 = Vector(), b0 = Vector(), b1 = Vector()
        var c0 = Vector(), c1 = Vector(), d0 = Vector(), d1 = Vector()
        let pa = c.weights, pb = pa + c.panelFloats, x0 = c.x, x1 = x0 + c.xStride
        let stride = c.panelFloats * 4
        var prefetch = c.prefetch
        for i in 0..<c.depth {
            let at = i * 16, wa0 = load(pa + at), wa1 = load(pa + at + 8), wb0 = load(pb + at), wb1 = load(pb + at + 8)
            tandem_prefetch_l1(prefetch)
            tandem_prefetch_l1(prefetch + stride)
            prefetch += 64
            var s = Vector(repeating: x0[i])
            a0.addProduct(s, wa0); a1.addProduct(s, wa1); c0.addProduct(s, wb0); c1.addProduct(s, wb1)
            s = Vector(repeating: x1[i])
            b0.addProduct(s, wa0); b1.addProduct(s, wa1); d0.addProduct(s, wb0); d1.addProduct(s, wb1)
        }
        store(a0, a1, c.y, 16, c.accumulate)
        store(c0, c1, c.y + 16, 16, c.accumulate)
        store(b0, b1, c.y + c.yStride, 16, c.accumulate)
        store(d0, d1, c.y + c.yStride + 16, 16, c.accumulate)
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
}
