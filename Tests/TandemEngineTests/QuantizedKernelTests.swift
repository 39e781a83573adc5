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

    /// Activation blocks spread over 2^-120...2^60 in magnitude (scale exponents clamped at
    /// -100, tiny and large ones, every power in between) and some all-zero blocks.
    func spreadActivations(_ count: Int, seed: UInt64) -> [Float] {
        var x = randomValues(count, seed: seed)
        for block in 0..<(count / 32) {
            let power = block % 7 == 3 ? -120 : block % 7 == 5 ? 60 : Int(block * 13 % 41) - 20
            for k in (32 * block)..<(32 * block + 32) { x[k] = block % 11 == 4 ? 0 : x[k] * Float(sign: .plus,
                exponent: power, significand: 1) }
        }
        return x
    }

    /// Every kernel this CPU has gives the portable Swift kernel's bits, for 1-40 rows, with
    /// activation scales from 2^-100 to 2^60 and zero weight blocks (d = 0, stored as 2^-14 with
    /// neutral quants so the kernels' unmasked exponent add is safe).
    @Test(arguments: types)
    func kernelsMatchPortableBitForBit(type: GGMLType) {
        let kernels = QuantizedKernel.allCases.filter { $0 != .portable && $0.isAvailable }
        for shape in Self.shapes {
            var w = randomValues(shape.0 * shape.1, seed: UInt64(shape.0 * 7 + shape.1))
            for block in stride(from: 1, to: w.count / 32, by: 5) { for k in 0..<32 { w[32 * block + k] = 0 } }
            let oracle = matrix(w, shape, type, .portable)
            for kernel in kernels {
                let fast = matrix(w, shape, type, kernel)
                for tokens in 1...40 {
                    let x = spreadActivations(tokens * shape.1, seed: UInt64(100 + tokens))
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
    /// rounding, at most scale / 2 per input (scale the smallest power of two >= amax / 127), so per
    /// output the error is bounded by sum over blocks of (scale_b / 2) * sum |w| (+ 1e-6 of
    /// sum |x w| for float rounding).
    @Test(arguments: types)
    func withinActivationRoundingOfDequantizedReference(type: GGMLType) {
        var worstRelativeRMS = 0.0
        for shape in Self.shapes {
            let (outputs, inputs) = shape
            var w = randomValues(outputs * inputs, seed: UInt64(outputs + inputs))
            // Blocks whose scale d is 0: all zero, and constant (Q4_1: d = 0, minimum m = 0.37).
            for block in stride(from: 2, to: w.count / 32, by: 7) { for k in 0..<32 { w[32 * block + k] = 0 } }
            for block in stride(from: 4, to: w.count / 32, by: 9) { for k in 0..<32 { w[32 * block + k] = 0.37 } }
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
                            bound += Double(Self.powerOfTwoScale(Float(amax))) / 2 * weightSum
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
        // The accuracy cost, documented in QuantizedMatrix: worst 1.5-1.6% relative RMS here (one row of
        // one block at worst; llama.cpp's amax / 127 scale: 1.4-1.6x less).
        #expect(worstRelativeRMS < 0.02, "\(type): relative RMS error \(worstRelativeRMS) against F32 activations")
    }

    /// The activation scale's contract, stated independently of the C code: the smallest power of
    /// two 2^e >= amax / 127, e clamped to [-100, 100].
    static func powerOfTwoScale(_ amax: Float) -> Float {
        var e = -100
        while e < 100, Float(sign: .plus, exponent: e, significand: 1) < amax / 127 { e += 1 }
        return Float(sign: .plus, exponent: e, significand: 1)
    }

    /// Activations that int8 holds exactly (integers with 127 in every block, so scale 1): the
    /// product must equal the dequantized reference to float rounding (relative 2e-6 of sum |x w|).
    /// Independent of the portable kernel, so a layout error shared by both kernels fails here.
    /// Largest |y - x . reference^T| / sum |x w| over all outputs (Double; a zero sum counts as 1).
    func worstRelativeDifference(_ y: [Float], _ x: [Float], _ reference: [Float], tokens: Int, outputs: Int,
                                 inputs: Int) -> Double {
        var worst = 0.0
        for r in 0..<tokens {
            for o in 0..<outputs {
                var exact = 0.0, magnitude = 0.0
                for k in 0..<inputs {
                    exact += Double(x[r * inputs + k]) * Double(reference[o * inputs + k])
                    magnitude += abs(Double(x[r * inputs + k]) * Double(reference[o * inputs + k]))
                }
                worst = max(worst, abs(Double(y[r * outputs + o]) - exact) / max(magnitude, 1))
            }
        }
        return worst
    }

    /// GGUF blocks whose scale d is +0 or -0 but whose quants are not neutral (a file may hold
    /// them; ggml's own quantizer writes neutral ones): their d * q terms are 0 and a Q4_1 block
    /// keeps its minimum m. Packing must substitute neutral quants for them; reference: ggml's
    /// dequantization in Double, integer activations, relative tolerance 2e-6 of sum |x w|.
    @Test(arguments: types)
    func zeroScaleBlocksWithStrayQuants(type: GGMLType) {
        let outputs = 37, inputs = 96, blockBytes = type.blockBytes!, blocks = outputs * inputs / 32
        var generator = SeededGenerator(seed: 11)
        var bytes = GGMLQuantize.bytes(type, randomValues(outputs * inputs, seed: 12))
        for block in stride(from: 1, to: blocks, by: 3) {
            let zero: UInt16 = block % 2 == 0 ? 0x0000 : 0x8000, at = block * blockBytes
            bytes[at] = UInt8(zero & 0xFF)
            bytes[at + 1] = UInt8(zero >> 8)
            let quants = type == .q4_1 ? 4 : 2 // Q4_1 keeps its minimum (bytes 2-3)
            for k in quants..<blockBytes { bytes[at + k] = UInt8(truncatingIfNeeded: generator.next()) }
        }
        var reference = [Float](repeating: 0, count: outputs * inputs)
        bytes.withUnsafeBytes { raw in
            reference.withUnsafeMutableBufferPointer {
                GGMLDequantize.run(type, raw.baseAddress!, count: outputs * inputs, into: $0.baseAddress!)
            }
        }
        let tokens = 5
        let x = (0..<(tokens * inputs)).map { _ in Float(Int(generator.next() % 255) - 127) }
        for kernel in QuantizedKernel.allCases where kernel.isAvailable {
            let matrix = bytes.withUnsafeBytes { raw in
                QuantizedMatrix(parts: [QuantizedTensor(type: type, rows: outputs, columns: inputs,
                                                        data: raw.baseAddress!)], kernel: kernel)
            }
            let worst = worstRelativeDifference(product(matrix, x, tokens: tokens), x, reference, tokens: tokens,
                                                outputs: outputs, inputs: inputs)
            #expect(worst <= 2e-6, "\(kernel) \(type): worst relative difference \(worst), tolerance 2e-6")
        }
    }

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
                    let worst = worstRelativeDifference(product(quantized, x, tokens: tokens), x, reference,
                                                        tokens: tokens, outputs: outputs, inputs: inputs)
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

    func quantize(_ x: [Float], rows: Int, columns: Int, stride: Int, offset: Int32, simd: Int32) -> Quantized {
        let blocks = columns / 32
        var result = Quantized(quants: .init(repeating: 0, count: rows * columns),
                               scales: .init(repeating: 0, count: rows * blocks),
                               offsetSums: .init(repeating: 0, count: rows * blocks),
                               scaledSums: .init(repeating: 0, count: rows * blocks))
        tandem_quantize_rows(x, Int64(stride), Int32(rows), Int32(columns), offset, &result.quants, &result.scales,
                             &result.offsetSums, &result.scaledSums, simd)
        return result
    }

    /// Random rows plus exact ties (k + 0.5 after scaling: to even), zeros, a NaN, and blocks
    /// beyond the exponent clamp; all paths give the same bytes, and the contract holds: scale
    /// 2^e = QuantizedKernelTests.powerOfTwoScale(amax), q = x / 2^e rounded to
    /// nearest even (exact division) and clipped to [-127, 127], NaN -> 0, the sums as stated.
    @Test func pathsAgreeAndFollowContract() {
        let rows = 6, columns = 96, stride = 100
        var generator = SeededGenerator(seed: 77)
        var x = (0..<(rows * stride)).map { _ in generator.nextUnitFloat() * 6 - 3 }
        for k in 0..<32 { x[stride + k] = 0 }                                  // an all-zero block: 2^-100
        x[2 * stride] = 127; x[2 * stride + 1] = 2.5; x[2 * stride + 2] = -3.5 // scale 1: ties to 2 and -4
        x[3 * stride + 40] = .nan
        // maxps keeps a NaN when it is the second operand: a NaN in the same 8-lane (AVX2) or
        // 16-lane (AVX-512) as the block's maximum (elements 32, 40 and 48), and one in the block's
        // last lane, must not change the scale.
        x[4 * stride + 32] = 5; x[4 * stride + 40] = .nan; x[4 * stride + 48] = .nan; x[4 * stride + 95] = .nan
        for k in 0..<32 { x[5 * stride + k] *= 1e-33; x[5 * stride + 32 + k] *= 1e33 } // clamped: 2^-100, 2^100
        x[5 * stride + 64] = .infinity
        let scalar = quantize(x, rows: rows, columns: columns, stride: stride, offset: 8, simd: 0)
        let paths: [(name: String, simd: Int32, available: Bool)] = [
            ("AVX2", 1, QuantizedKernel.avx2.isAvailable), ("AVX-512", 2, QuantizedKernel.avx512vnni.isAvailable)]
        for path in paths where path.available {
            let fast = quantize(x, rows: rows, columns: columns, stride: stride, offset: 8, simd: path.simd)
            #expect(fast == scalar, "\(path.name) and scalar activation quantization differ")
        }
        #expect(scalar.quants[2 * columns + 1] == 2 && scalar.quants[2 * columns + 2] == -4, "ties to even")
        #expect(scalar.quants[3 * columns + 40] == 0, "NaN counts as 0")
        #expect(scalar.scales[4 * 3 + 1] == 0.0625 && scalar.quants[4 * columns + 32] == 80, "NaN beside the maximum")
        #expect(scalar.scales[5 * 3] == 0x1p-100 && scalar.scales[5 * 3 + 1] == 0x1p100, "exponent clamped")
        #expect(scalar.quants[5 * columns + 64] == 127, "infinity saturates")
        var worst: Float = 0
        for r in 0..<rows {
            for b in 0..<(columns / 32) {
                let values = (0..<32).map { x[r * stride + 32 * b + $0] }
                let amax = values.reduce(Float(0)) { $1.isNaN ? $0 : max($0, abs($1)) }
                let scale = scalar.scales[r * 3 + b], want = QuantizedKernelTests.powerOfTwoScale(amax)
                #expect(scale == want, "row \(r) block \(b): scale \(scale), expected \(want) (amax \(amax))")
                var sum: Int32 = 0
                for k in 0..<32 {
                    let q = scalar.quants[r * columns + 32 * b + k]
                    sum += Int32(q)
                    guard !values[k].isNaN else { continue }
                    let wanted = min(max((values[k] / scale).rounded(.toNearestOrEven), -127), 127)
                    worst = max(worst, abs(Float(q) - wanted))
                }
                #expect(scalar.offsetSums[r * 3 + b] == 8 * sum)
                #expect(scalar.scaledSums[r * 3 + b] == scale * Float(sum))
            }
        }
        #expect(worst == 0, "worst |q - round(x / 2^e)| \(worst)")
    }
}
