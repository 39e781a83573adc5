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

    /// Measures both limits with `threads` threads, `repeats` times each after one warm-up.
    public static func measure(threads: Int, repeats: Int = 5) -> MachineLimits {
        MachineLimits(peakFlops: measurePeakFlops(threads: threads, repeats: repeats),
                      bandwidth: measureBandwidth(threads: threads, repeats: repeats), threads: threads)
    }

    /// OpenBLAS sgemm on 1536^3 (about 7 GFLOP; large enough to reach its peak).
    public static func measurePeakFlops(threads: Int, repeats: Int) -> Double {
        setBLASThreads(threads)
        let size = 1536
        let a = UnsafeMutablePointer<Float>.allocate(capacity: size * size)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: size * size)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: size * size)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        for i in 0..<(size * size) { a[i] = Float(i % 13) * 0.01; b[i] = Float(i % 7) * 0.02 }
        var rates: [Double] = []
        for round in 0...repeats {
            let seconds = elapsedSeconds {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(size), Int32(size), Int32(size),
                            1, a, Int32(size), b, Int32(size), 0, c, Int32(size))
            }
            if round > 0 { rates.append(2 * Double(size * size * size) / seconds) }
        }
        return Statistics.summarize(rates).median
    }

    /// Sums a 1 GiB buffer with SIMD (4 independent accumulators per thread), split over threads.
    public static func measureBandwidth(threads: Int, repeats: Int) -> Double {
        let count = 1 << 28 // floats: 1 GiB, 32x the L3
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
        defer { raw.deallocate() }
        let data = raw.initializeMemory(as: Float.self, repeating: 1, count: count)
        var rates: [Double] = []
        var sink: Float = 0
        for round in 0...repeats {
            let partials = UnsafeMutablePointer<Float>.allocate(capacity: threads)
            let seconds = elapsedSeconds {
                let work = { (worker: Int) in
                    let start = count / threads * worker, end = worker == threads - 1 ? count : count / threads * (worker + 1)
                    partials[worker] = sumVectors(data + start, end - start)
                }
                if threads > 1 { DispatchQueue.concurrentPerform(iterations: threads, execute: work) } else { work(0) }
            }
            for worker in 0..<threads { sink += partials[worker] }
            partials.deallocate()
            if round > 0 { rates.append(Double(count * 4) / seconds) }
        }
        precondition(sink > 0) // keeps the reads alive
        return Statistics.summarize(rates).median
    }

    // sum of x[n], n a multiple of 32
    private static func sumVectors(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var a = SIMD8<Float>(), b = a, c = a, d = a
        var i = 0
        let raw = UnsafeRawPointer(x)
        while i + 32 <= n {
            a += raw.load(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            b += raw.load(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
            c += raw.load(fromByteOffset: i * 4 + 64, as: SIMD8<Float>.self)
            d += raw.load(fromByteOffset: i * 4 + 96, as: SIMD8<Float>.self)
            i += 32
        }
        return (a + b + c + d).sum()
    }
}

/// Wall time of `body` from the monotonic clock, in seconds.
public func elapsedSeconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
