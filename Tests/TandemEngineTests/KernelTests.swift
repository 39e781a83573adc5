import Testing
import TandemEngine

/// Kernels against naive Double-precision oracles, over odd shapes.
@Suite struct KernelTests {
    // y[n x N] = x[n x K] . W^T in Double
    func naiveProduct(_ x: [Float], _ w: [Float], tokens: Int, outputs: Int, inputs: Int) -> [Float] {
        var y = [Float](repeating: 0, count: tokens * outputs)
        for r in 0..<tokens {
            for o in 0..<outputs {
                var sum = 0.0
                for i in 0..<inputs { sum += Double(x[r * inputs + i]) * Double(w[o * inputs + i]) }
                y[r * outputs + o] = Float(sum)
            }
        }
        return y
    }

    func randomValues(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in generator.nextUnitFloat() * 2 - 1 }
    }

    /// Packed skinny kernel and OpenBLAS against the oracle; tolerance 1e-5 * K (float32
    /// accumulation of K products of magnitude <= 1).
    @Test(arguments: [KernelBackend.packed, .openblas])
    func linearMatchesNaiveProduct(backend: KernelBackend) {
        for (outputs, inputs) in [(1, 1), (15, 7), (16, 16), (17, 33), (50, 100), (33, 129), (64, 20), (131, 40)] {
            let w = randomValues(outputs * inputs, seed: UInt64(outputs * 1000 + inputs))
            let linear = w.withUnsafeBufferPointer {
                Linear(canonical: $0.baseAddress!, outputs: outputs, inputs: inputs, backend: backend)
            }
            for tokens in [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 16, 19, 33, 40] {
                for threads in [1, 2] {
                    for accumulate in [false, true] {
                        let x = randomValues(tokens * inputs, seed: UInt64(tokens))
                        let start = randomValues(tokens * outputs, seed: 99)
                        var y = start
                        x.withUnsafeBufferPointer { xs in
                            y.withUnsafeMutableBufferPointer { ys in
                                linear.apply(xs.baseAddress!, xStride: inputs, tokens: tokens, into: ys.baseAddress!,
                                             yStride: outputs, accumulate: accumulate, threads: threads)
                            }
                        }
                        var expected = naiveProduct(x, w, tokens: tokens, outputs: outputs, inputs: inputs)
                        if accumulate { for i in 0..<expected.count { expected[i] += start[i] } }
                        let worst = worstDifference(y, expected)
                        let message = "\(backend) N=\(outputs) K=\(inputs) n=\(tokens) threads=\(threads) "
                            + "accumulate=\(accumulate): worst |diff| \(worst.value) at \(worst.index)"
                        #expect(worst.value <= 1e-5 * Float(inputs), "\(message)")
                    }
                }
            }
        }
    }

    /// Each row's result is bit-identical whatever the block size, including the one- and
    /// two-row paths that group whole panels (64 and 32 columns) and leave the rest to the
    /// single-panel kernel: shapes with 4-9 panels, the last partial or not.
    /// The streaming loop (1-6 rows in the 6-row loop, spare rows unstored) gives the cache-
    /// resident loops' bits too.
    @Test(arguments: [SkinnyLoop.cacheResident, .streaming])
    func packedRowsAgreeAcrossBlockSizes(loop: SkinnyLoop) {
        for (outputs, inputs) in [(64, 9), (100, 37), (144, 16), (130, 5)] {
            let w = randomValues(outputs * inputs, seed: UInt64(outputs + inputs))
            let packed = w.withUnsafeBufferPointer {
                PackedMatrix(source: $0.baseAddress!, rows: outputs, columns: inputs)
            }
            let x = randomValues(9 * inputs, seed: 12)
            func product(rows: Range<Int>, threads: Int, rowLoop: SkinnyLoop = loop) -> [Float] {
                var y = [Float](repeating: 0.5, count: rows.count * outputs)
                x.withUnsafeBufferPointer { xs in
                    y.withUnsafeMutableBufferPointer {
                        packed.multiply(xs.baseAddress! + rows.lowerBound * inputs, xStride: inputs,
                                        tokens: rows.count, into: $0.baseAddress!, yStride: outputs,
                                        accumulate: true, threads: threads, loop: rowLoop)
                    }
                }
                return y
            }
            let single = (0..<9).flatMap { product(rows: $0..<($0 + 1), threads: 1, rowLoop: .cacheResident) }
            for tokens in 1...9 {
                for threads in [1, 2] {
                    let block = product(rows: 0..<tokens, threads: threads)
                    let worst = worstDifference(block, Array(single.prefix(tokens * outputs)))
                    let message = "\(loop) N=\(outputs) K=\(inputs) n=\(tokens) threads=\(threads): rows "
                        + "differ from one-row calls by \(worst.value) at \(worst.index)"
                    #expect(worst.value == 0, "\(message)")
                }
            }
            let pairs = (0..<4).flatMap { product(rows: (2 * $0)..<(2 * $0 + 2), threads: 1) }
            let worst = worstDifference(pairs, Array(single.prefix(8 * outputs)))
            #expect(worst.value == 0, "N=\(outputs) K=\(inputs): two-row calls differ by \(worst.value)")
        }
    }

    /// Strided rows: the kernel reads and writes rows `stride` apart, leaving the gaps alone.
    @Test(arguments: [SkinnyLoop.cacheResident, .streaming])
    func packedKernelHonoursStrides(loop: SkinnyLoop) {
        let outputs = 20, inputs = 9, xStride = 12, yStride = 23, guardRows = 6
        let w = randomValues(outputs * inputs, seed: 5)
        let packed = w.withUnsafeBufferPointer { PackedMatrix(source: $0.baseAddress!, rows: outputs, columns: inputs) }
        for tokens in 1...7 {
            let x = randomValues((tokens + guardRows) * xStride, seed: 6)
            // Rows past `tokens` guard against a stored spare row (the streaming loop's).
            var y = [Float](repeating: 42, count: (tokens + guardRows) * yStride)
            y.withUnsafeMutableBufferPointer {
                packed.multiply(x, xStride: xStride, tokens: tokens, into: $0.baseAddress!, yStride: yStride,
                                accumulate: false, loop: loop)
            }
            let dense = (0..<tokens).flatMap { r in x[(r * xStride)..<(r * xStride + inputs)] }
            let expected = naiveProduct(dense, w, tokens: tokens, outputs: outputs, inputs: inputs)
            let got = (0..<tokens).flatMap { r in y[(r * yStride)..<(r * yStride + outputs)] }
            let worst = worstDifference(got, expected)
            #expect(worst.value <= 1e-5 * Float(inputs),
                    "\(loop) n=\(tokens): worst |diff| \(worst.value) at \(worst.index)")
            #expect((0..<tokens).allSatisfy { r in
                y[(r * yStride + outputs)..<(r * yStride + yStride)].allSatisfy { $0 == 42 }
            }, "\(loop) n=\(tokens): the kernel wrote between its rows")
            #expect(y[(tokens * yStride)...].allSatisfy { $0 == 42 }, "\(loop) n=\(tokens): wrote past its rows")
        }
    }

    /// The loop follows the footprint: weights beyond the last-level cache stream.
    @Test func skinnyLoopFollowsFootprint() {
        #expect(SkinnyLoop.forWeights(bytes: 154 << 20, lastLevelCache: 32 << 20) == .streaming)
        #expect(SkinnyLoop.forWeights(bytes: 8 << 20, lastLevelCache: 32 << 20) == .cacheResident)
        #expect(CacheHierarchy.parseSize("32768K") == 32 << 20)
        #expect(CacheHierarchy.parseSize("1M") == 1 << 20)
        #expect(CacheHierarchy.parseSize("512") == 512)
        #expect(CacheHierarchy.parseSize("x") == nil)
        #expect(CacheHierarchy.lastLevelBytes >= 1 << 20, "sysfs: \(CacheHierarchy.lastLevelBytes) bytes")
    }

    /// SIMD exp against libm over [-90, 90]: relative error below 1e-6, exact 0 below -87.
    @Test func vectorExpMatchesLibm() {
        var worst: Float = 0, worstAt: Float = 0
        var x: Float = -87
        while x < 88 {
            let v = VectorMath.exp(SIMD8<Float>(repeating: x))[3]
            let reference = Float(exp(Double(x)))
            let relative = abs(v - reference) / reference
            if relative > worst { worst = relative; worstAt = x }
            x += 0.0137
        }
        #expect(worst < 1e-6, "worst relative error \(worst) at x = \(worstAt)")
        #expect(VectorMath.exp(SIMD8<Float>(repeating: -100))[0] == 0)
    }

    /// Softmax, RMSNorm, SwiGLU and dot against scalar Double references (tolerance 1e-6
    /// relative, lengths covering SIMD body and tail).
    @Test(arguments: [1, 5, 8, 13, 16, 31, 64])
    func vectorOpsMatchScalarReferences(length n: Int) {
        let a = randomValues(n, seed: UInt64(n)), b = randomValues(n, seed: UInt64(n + 100))
        let dot = a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { VectorMath.dot(x.baseAddress!, $0.baseAddress!, n) }
        }
        let dotReference = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(Double(dot) - dotReference) <= 1e-6 * Double(n), "dot: \(dot) vs \(dotReference)")

        var soft = a.map { $0 * 10 }
        soft.withUnsafeMutableBufferPointer { VectorMath.softmax($0.baseAddress!, n) }
        let m = a.map { Double($0) * 10 }.max()!
        let exps = a.map { exp(Double($0) * 10 - m) }
        let softReference = exps.map { Float($0 / exps.reduce(0, +)) }
        let softWorst = worstDifference(soft, softReference)
        #expect(softWorst.value <= 1e-6, "softmax worst |diff| \(softWorst.value)")

        var normed = [Float](repeating: 0, count: n)
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { w in normed.withUnsafeMutableBufferPointer {
            VectorMath.rmsNorm(x.baseAddress!, w.baseAddress!, $0.baseAddress!, n, epsilon: 1e-5)
        } } }
        let rms = (a.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n) + 1e-5).squareRoot()
        let normReference = (0..<n).map { Float(Double(a[$0]) / rms * Double(b[$0])) }
        let normWorst = worstDifference(normed, normReference)
        #expect(normWorst.value <= 1e-5, "rmsNorm worst |diff| \(normWorst.value)")

        var swish = [Float](repeating: 0, count: n)
        let gate = a.map { $0 * 8 }
        gate.withUnsafeBufferPointer { g in b.withUnsafeBufferPointer { u in swish.withUnsafeMutableBufferPointer {
            VectorMath.swiGLU(g.baseAddress!, u.baseAddress!, $0.baseAddress!, n)
        } } }
        let swishReference = (0..<n).map { Float(Double(gate[$0]) / (1 + exp(-Double(gate[$0]))) * Double(b[$0])) }
        let swishWorst = worstDifference(swish, swishReference)
        #expect(swishWorst.value <= 1e-5, "swiGLU worst |diff| \(swishWorst.value)")
    }
}

import Foundation
