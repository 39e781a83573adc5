import CQuantKernels
import Testing
import TandemEngine

/// Quantized products (Q8_0, Q4_0, Q4_1 weights; int8 activations) against the dequantized-F32
/// reference in Double, over odd shapes and 1-40 rows; every CPU kernel against the portable one.
@Suite struct QuantizedKernelTests {
    static let types: [GGMLType] = [.q8_0, .q4_0, .q4_1]
    // (N, K): a partial last panel, one exact panel, odd block counts, a single output row.
    static let shapes = [(37, 96), (16, 32), (50, 160), (1, 64)]

    func randomValues(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in generator.nextUnitFloat() * 2 - 1 }
    }

    /// The weights as llama.cpp would see them: quantized by ggml's rounding, dequantized by ggml's rule.
    func dequantized(_ w: [Float], type: GGMLType) -> [Float] {
        let bytes = GGMLQuantize.bytes(type, w)
        var values = [Float](repeating: 0, count: w.count)
        bytes.withUnsafeBytes { raw in
            values.withUnsafeMutableBufferPointer {
                GGMLDequantize.run(type, raw.baseAddress!, count: w.count, into: $0.baseAddress!)
            }
        }
        return values
    }

    func product(_ matrix: QuantizedMatrix, _ x: [Float], tokens: Int, xStride: Int? = nil, yStride: Int? = nil,
                 start: [Float]? = nil, threads: Int = 1) -> [Float] {
        let xs = xStride ?? matrix.columns, ys = yStride ?? matrix.rows
        var y = start ?? [Float](repeating: .nan, count: tokens * ys)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                matrix.multiply(xp.baseAddress!, xStride: xs, tokens: tokens, into: yp.baseAddress!, yStride: ys,
                                accumulate: start != nil, threads: threads)
            }
        }
        return y
    }

    func matrix(_ w: [Float], _ shape: (Int, Int), _ type: GGMLType, _ kernel: QuantizedKernel) -> QuantizedMatrix {
        w.withUnsafeBufferPointer {
            QuantizedMatrix(quantizing: $0.baseAddress!, rows: shape.0, columns: shape.1, type: type, kernel: kernel)
        }
    }

    /// Every kernel this CPU has gives the portable Swift kernel's bits, for 1-40 rows.
    @Test(arguments: types)
    func kernelsMatchPortableBitForBit(type: GGMLType) {
        let kernels = QuantizedKernel.allCases.filter { $0 != .portable && $0.isAvailable }
        for shape in Self.shapes {
            let w = randomValues(shape.0 * shape.1, seed: UInt64(shape.0 * 7 + shape.1))
            let oracle = matrix(w, shape, type, .portable)
            for kernel in kernels {
                let fast = matrix(w, shape, type, kernel)
                for tokens in 1...40 {
                    let x = randomValues(tokens * shape.1, seed: UInt64(100 + tokens))
                    let expected = product(oracle, x, tokens: tokens), got = product(fast, x, tokens: tokens)
                    let mismatches = zip(expected, got).filter { $0.bitPattern != $1.bitPattern }.count
                    let message = "\(kernel) \(type) N=\(shape.0) K=\(shape.1) n=\(tokens): \(mismatches) "
                        + "outputs differ from portable; worst \(worstDifference(got, expected).value)"
                    #expect(mismatches == 0, "\(message)")
                }
            }
        }
        #expect(QuantizedKernel.best.isAvailable)
    }

    /// Against y = x . dequant(W)^T in Double with F32 x. The only approximation is x's int8
    /// rounding, at most scale / 2 = amax / 254 per input, so per output the error is bounded by
    /// sum over blocks of (amax_b / 254) * sum |w| (+ 1e-6 of sum |x w| for float rounding).
    @Test(arguments: types)
    func withinActivationRoundingOfDequantizedReference(type: GGMLType) {
        var worstRelativeRMS = 0.0
        for shape in Self.shapes {
            let (outputs, inputs) = shape
            let w = randomValues(outputs * inputs, seed: UInt64(outputs + inputs))
            let reference = dequantized(w, type: type), quantized = matrix(w, shape, type, .best)
            for tokens in 1...40 {
                let x = randomValues(tokens * inputs, seed: UInt64(tokens * 31))
                let y = product(quantized, x, tokens: tokens)
                var worstExcess = -Double.infinity, squaredError = 0.0, squaredValue = 0.0
                for r in 0..<tokens {
                    for o in 0..<outputs {
                        var exact = 0.0, bound = 0.0, magnitude = 0.0
                        for b in 0..<(inputs / 32) {
                            var amax = 0.0, weightSum = 0.0
                            for k in (32 * b)..<(32 * b + 32) {
                                let xv = Double(x[r * inputs + k]), wv = Double(reference[o * inputs + k])
                                exact += xv * wv
                                magnitude += abs(xv * wv)
                                amax = max(amax, abs(xv))
                                weightSum += abs(wv)
                            }
                            bound += amax / 254 * weightSum
                        }
                        let error = abs(Double(y[r * outputs + o]) - exact)
                        worstExcess = max(worstExcess, error - (bound * 1.0001 + 1e-6 * magnitude))
                        squaredError += error * error
                        squaredValue += exact * exact
                    }
                }
                worstRelativeRMS = max(worstRelativeRMS, (squaredError / squaredValue).squareRoot())
                let message = "\(type) N=\(outputs) K=\(inputs) n=\(tokens): error exceeds the "
                    + "activation-rounding bound by \(worstExcess)"
                #expect(worstExcess <= 0, "\(message)")
            }
        }
        // The accuracy cost, documented in QuantizedMatrix: about 0.3-0.5% relative RMS on random data.
        #expect(worstRelativeRMS < 0.01, "\(type): relative RMS error \(worstRelativeRMS) against F32 activations")
    }

    /// Activations that int8 holds exactly (integers with 127 in every block, so scale 1): the
    /// product must equal the dequantized reference to float rounding (relative 2e-6 of sum |x w|).
    /// Independent of the portable kernel, so a layout error shared by both kernels fails here.
    @Test(arguments: types)
    func exactActivationsGiveDequantizedProduct(type: GGMLType) {
        for shape in Self.shapes {
            let (outputs, inputs) = shape
            let w = randomValues(outputs * inputs, seed: UInt64(3 * outputs + inputs))
            let reference = dequantized(w, type: type)
            for kernel in QuantizedKernel.allCases where kernel.isAvailable {
                let quantized = matrix(w, shape, type, kernel)
                for tokens in [1, 2, 5, 8, 9, 17, 40] {
                    var generator = SeededGenerator(seed: UInt64(tokens))
                    let x = (0..<(tokens * inputs)).map { i -> Float in
                        i % 32 == 5 ? 127 : Float(Int(generator.next() % 255) - 127)
                    }
                    let y = product(quantized, x, tokens: tokens)
                    var worst = 0.0
                    for r in 0..<tokens {
                        for o in 0..<outputs {
                            var exact = 0.0, magnitude = 0.0
                            for k in 0..<inputs {
                                exact += Double(x[r * inputs + k]) * Double(reference[o * inputs + k])
                                magnitude += abs(Double(x[r * inputs + k]) * Double(reference[o * inputs + k]))
                            }
                            worst = max(worst, abs(Double(y[r * outputs + o]) - exact) / magnitude)
                        }
                    }
                    let message = "\(kernel) \(type) N=\(outputs) K=\(inputs) n=\(tokens): worst relative "
                        + "difference \(worst), tolerance 2e-6"
                    #expect(worst <= 2e-6, "\(message)")
                }
            }
        }
    }

    /// A row's result does not depend on the block it is in, the thread count, strides or
    /// accumulation: what makes greedy speculative decoding on quantized weights exact.
    @Test(arguments: types)
    func rowsIndependentOfBlockThreadsAndStrides(type: GGMLType) {
        let shape = (70, 128), tokens = 13, xStride = 131, yStride = 75
        let w = randomValues(shape.0 * shape.1, seed: 11)
        let quantized = matrix(w, shape, type, .best)
        let x = randomValues(tokens * xStride, seed: 12)
        let start = randomValues(tokens * yStride, seed: 13)
        let block = product(quantized, x, tokens: tokens, xStride: xStride, yStride: yStride, start: start,
                            threads: 2)
        for r in 0..<tokens {
            let single = product(quantized, Array(x[(r * xStride)..<(r * xStride + shape.1)]), tokens: 1)
            for o in 0..<shape.0 {
                let fromBlock = block[r * yStride + o], expected = start[r * yStride + o] + single[o]
                #expect(fromBlock.bitPattern == expected.bitPattern,
                        "\(type) row \(r) output \(o): block \(fromBlock), single row + start \(expected)")
            }
            for gap in shape.0..<yStride {
                #expect(block[r * yStride + gap] == start[r * yStride + gap], "gap column \(gap) of row \(r) written")
            }
        }
    }
}

/// The activation quantizer (C, AVX2 and scalar paths) against a Swift statement of its contract.
@Suite struct ActivationQuantizationTests {
    struct Quantized: Equatable {
        var quants: [Int8], scales: [Float], offsetSums: [Int32], scaledSums: [Float]
    }

    func quantize(_ x: [Float], rows: Int, columns: Int, stride: Int, offset: Int32, avx2: Bool) -> Quantized {
        let blocks = columns / 32
        var result = Quantized(quants: .init(repeating: 0, count: rows * columns),
                               scales: .init(repeating: 0, count: rows * blocks),
                               offsetSums: .init(repeating: 0, count: rows * blocks),
                               scaledSums: .init(repeating: 0, count: rows * blocks))
        tandem_quantize_rows(x, Int64(stride), Int32(rows), Int32(columns), offset, &result.quants, &result.scales,
                             &result.offsetSums, &result.scaledSums, avx2 ? 1 : 0)
        return result
    }

    /// Random rows plus exact ties (k + 0.5 after scaling: to even), zeros and a NaN; both paths
    /// give the same bytes, and the contract holds: scale = amax / 127, q = x / scale rounded to
    /// nearest even, NaN -> 0, the sums as stated.
    @Test func pathsAgreeAndFollowContract() {
        let rows = 5, columns = 96, stride = 100
        var generator = SeededGenerator(seed: 77)
        var x = (0..<(rows * stride)).map { _ in generator.nextUnitFloat() * 6 - 3 }
        for k in 0..<32 { x[stride + k] = 0 }                                  // an all-zero block: scale 0
        x[2 * stride] = 127; x[2 * stride + 1] = 2.5; x[2 * stride + 2] = -3.5 // scale 1: ties to 2 and -4
        x[3 * stride + 40] = .nan
        // maxps keeps a NaN when it is the second operand: a NaN in the same 8-lane as the block's
        // maximum (elements 32 and 40), and one in the block's last lane, must not change the scale.
        x[4 * stride + 32] = 5; x[4 * stride + 40] = .nan; x[4 * stride + 95] = .nan
        let scalar = quantize(x, rows: rows, columns: columns, stride: stride, offset: 8, avx2: false)
        if QuantizedKernel.avx2.isAvailable {
            let fast = quantize(x, rows: rows, columns: columns, stride: stride, offset: 8, avx2: true)
            #expect(fast == scalar, "AVX2 and scalar activation quantization differ")
        }
        #expect(scalar.quants[2 * columns + 1] == 2 && scalar.quants[2 * columns + 2] == -4, "ties to even")
        #expect(scalar.quants[3 * columns + 40] == 0, "NaN counts as 0")
        #expect(scalar.scales[4 * 3 + 1] == 5 / 127 && scalar.quants[4 * columns + 32] == 127, "NaN beside the maximum")
        var worst: Float = 0
        for r in 0..<rows {
            for b in 0..<(columns / 32) {
                let values = (0..<32).map { x[r * stride + 32 * b + $0] }
                let amax = values.reduce(Float(0)) { $1.isNaN ? $0 : max($0, abs($1)) }
                let scale = scalar.scales[r * 3 + b]
                #expect(scale == amax / 127, "row \(r) block \(b): scale \(scale), amax / 127 = \(amax / 127)")
                var sum: Int32 = 0
                for k in 0..<32 {
                    let q = scalar.quants[r * columns + 32 * b + k]
                    sum += Int32(q)
                    guard scale > 0, !values[k].isNaN else { continue }
                    let want = (values[k] / scale).rounded(.toNearestOrEven)
                    worst = max(worst, abs(Float(q) - want))
                }
                #expect(scalar.offsetSums[r * 3 + b] == 8 * sum)
                #expect(scalar.scaledSums[r * 3 + b] == scale * Float(sum))
            }
        }
        // x * (1 / scale) may differ from x / scale in the last bit, moving a value across a tie.
        #expect(worst <= 1, "worst |q - round(x / scale)| \(worst)")
    }
}
