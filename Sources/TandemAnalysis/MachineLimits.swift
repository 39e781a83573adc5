import CBLAS
import Dispatch
import TandemEngine

/// This machine's limits, measured in the running process: the roofline the engine is judged
/// against.
public struct MachineLimits: Codable, Sendable {
    /// Median sgemm rate on large square products, FLOP/s.
    public var peakFlops: Double
    /// Median read bandwidth over a buffer far larger than L3, bytes/s.
    public var bandwidth: Double
    public var threads: Int
    /// Integer multiply-adds per second of the quantized kernels' dot instruction (measured only
    /// for quantized models; nil otherwise).
    public var integerMacs: Double?

    public init(peakFlops: Double, bandwidth: Double, threads: Int, integerMacs: Double? = nil) {
        self.peakFlops = peakFlops
        self.bandwidth = bandwidth
        self.threads = threads
        self.integerMacs = integerMacs
    }

    /// Measures both limits with `threads` threads, `repeats` times each after one warm-up.
    public static func measure(threads: Int, repeats: Int = 5) -> MachineLimits {
        let flops = FlopsProbe(threads: threads), bytes = BandwidthProbe(threads: threads)
        _ = flops.measure(); _ = bytes.measure()
        let peak = (0..<repeats).map { _ in flops.measure() }
        let bandwidth = (0..<repeats).map { _ in bytes.measure() }
        return MachineLimits(peakFlops: Statistics.summarize(peak).median,
                             bandwidth: Statistics.summarize(bandwidth).median, threads: threads)
    }
}

/// The quantized kernels' integer dot instruction in 8 register chains per thread, run on the
/// worker pool's threads at once (about 2 ms per call).
public final class IntegerDotProbe {
    let threads: Int
    let kernel: QuantizedKernel
    let iterations = 1 << 18

    public init(threads: Int, kernel: QuantizedKernel = .best) {
        self.threads = max(threads, 1)
        self.kernel = kernel
    }

    /// Multiply-adds per second over all threads; nil when the kernel is the portable one.
    public func measure() -> Double? {
        guard kernel != .portable else { return nil }
        let iterations = self.iterations, kernel = self.kernel
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: threads)
        defer { counts.deallocate() }
        let seconds = elapsedSeconds {
            if threads == 1 {
                counts[0] = kernel.peakLoop(iterations: iterations)
            } else {
                WorkerPool.shared(threads: threads).run(threads) {
                    counts[$0] = kernel.peakLoop(iterations: iterations)
                }
            }
        }
        return Double((0..<threads).reduce(0) { $0 + counts[$1] }) / seconds
    }
}

/// The quantized panel kernel's own rate on a cache-resident matrix: the integer dots together
/// with their per-block float epilogue and the activation quantization, i.e. what a compute-bound
/// block of `tokens` rows can at best reach (the dot instruction's peak ignores the epilogue).
/// One matrix of 1024 x 576 in `type` (at most 612 KB, Q8_0) by `tokens` rows, 64 products per call.
public final class QuantizedKernelProbe {
    public let tokens: Int
    public let type: GGMLType
    let threads: Int
    let matrix: QuantizedMatrix
    let x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>
    let products = 64

    public init?(threads: Int, tokens: Int = 8, type: GGMLType = .q4_1, kernel: QuantizedKernel = .best) {
        guard kernel != .portable, kernel.isAvailable else { return nil }
        self.threads = max(threads, 1)
        self.tokens = tokens
        self.type = type
        let rows = 1024, columns = 576
        var generator = SeededGenerator(seed: 7)
        let weights = (0..<(rows * columns)).map { _ in generator.nextUnitFloat() - 0.5 }
        matrix = weights.withUnsafeBufferPointer {
            QuantizedMatrix(quantizing: $0.baseAddress!, rows: rows, columns: columns, type: type, kernel: kernel)
        }
        x = .allocate(capacity: tokens * columns)
        for i in 0..<(tokens * columns) { x[i] = generator.nextUnitFloat() - 0.5 }
        y = .allocate(capacity: tokens * rows)
    }

    deinit { x.deallocate(); y.deallocate() }

    /// Multiply-adds per second (weights x rows) over all threads.
    public func measure() -> Double {
        let seconds = elapsedSeconds {
            for _ in 0..<products {
                matrix.multiply(x, xStride: matrix.columns, tokens: tokens, into: y, yStride: matrix.rows,
                                accumulate: false, threads: threads)
            }
        }
        return Double(products * tokens * matrix.rows * matrix.columns) / seconds
    }
}

/// One OpenBLAS sgemm of 1536^3 (about 7 GFLOP, large enough to reach its peak) per call.
public final class FlopsProbe {
    let size = 1536
    let threads: Int
    let a, b, c: UnsafeMutablePointer<Float>

    public init(threads: Int) {
        self.threads = threads
        a = .allocate(capacity: size * size); b = .allocate(capacity: size * size); c = .allocate(capacity: size * size)
        for i in 0..<(size * size) { a[i] = Float(i % 13) * 0.01; b[i] = Float(i % 7) * 0.02; c[i] = 0 }
    }

    deinit { a.deallocate(); b.deallocate(); c.deallocate() }

    /// FLOP/s of one product.
    public func measure() -> Double {
        setBLASThreads(threads)
        let n = Int32(size)
        let seconds = elapsedSeconds {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n)
        }
        return 2 * Double(size * size * size) / seconds
    }
}

/// One read of a buffer of 512 MiB (16x the L3) per call, summed with SIMD (4 independent
/// accumulators per thread), split over the threads.
public final class BandwidthProbe {
    let count = 1 << 27 // floats
    let threads: Int
    let data: UnsafeMutablePointer<Float>
    private(set) var sink: Float = 0

    public init(threads: Int) {
        self.threads = threads
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
        data = raw.initializeMemory(as: Float.self, repeating: 1, count: count)
    }

    deinit { UnsafeMutableRawPointer(data).deallocate() }

    /// Bytes/s of one full read.
    public func measure() -> Double {
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: threads)
        defer { partials.deallocate() }
        let count = self.count, threads = self.threads, data = self.data
        let seconds = elapsedSeconds {
            let work = { (worker: Int) in
                let start = count / threads * worker
                let end = worker == threads - 1 ? count : count / threads * (worker + 1)
                partials[worker] = BandwidthProbe.sum(data + start, end - start)
            }
            WorkerPool.shared(threads: threads).run(threads, work)
        }
        for worker in 0..<threads { sink += partials[worker] } // keeps the reads alive
        return Double(count * 4) / seconds
    }

    // sum of x[n]; n a multiple of 32 except in the tail, which is summed scalar
    private static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = SIMD8<Float>(), b = a, c = a, d = a
        var i = 0
        let raw = UnsafeRawPointer(x)
        while i + 32 <= n {
            a += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            b += raw.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
            c += raw.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD8<Float>.self)
            d += raw.loadUnaligned(fromByteOffset: i * 4 + 96, as: SIMD8<Float>.self)
            i += 32
        }
        var total = (a + b + c + d).sum()
        while i < n { total += x[i]; i += 1 }
        return total
    }
}

/// Wall time of `body` from the monotonic clock, in seconds.
public func elapsedSeconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
