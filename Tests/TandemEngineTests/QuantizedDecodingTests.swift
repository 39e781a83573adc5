import Testing
import TandemEngine

/// Whole models on quantized weights: speculative decoding stays lossless, blocks equal
/// incremental decoding, and the only departure from the dequantized-F32 model is the int8
/// rounding of activations.
@Suite struct QuantizedDecodingTests {
    static let types: [GGMLType] = [.q8_0, .q4_0, .q4_1]
    let prompts = [[1, 5, 7], [3], [11, 0, 4, 4, 9, 2, 6, 8]]

    /// Greedy SPEED on a quantized primary equals the quantized primary's own greedy output
    /// token for token, with the noisy copy and with the tandem secondary as drafters, and the
    /// drafts are both accepted and rejected.
    @Test(arguments: types)
    func greedySpeculativeEqualsPrimary(type: GGMLType) throws {
        let fixture = try DecodingFixture(seed: 3, quantization: .quantize(type))
        #expect(fixture.primary.kernelPlan.allSatisfy { $0.choices.hasPrefix(type.name) },
                "every matrix quantized: \(fixture.primary.kernelPlan)")
        var accepted = 0, rejected = 0
        for tandem in [false, true] {
            for gamma in [3, 6] {
                for prompt in prompts {
                    let expected = fixture.primaryGreedy(prompt, 40)
                    var strategy = fixture.speculative(tandem: tandem, policy: FixedPolicy(gamma: gamma),
                                                       rule: GreedyAcceptance())
                    let output = strategy.generate(prompt: prompt, maxTokens: 40)
                    let firstDifference = zip(output, expected).enumerated().first { $1.0 != $1.1 }?.offset
                    let message = "\(type) \(strategy.name) gamma=\(gamma) prompt=\(prompt): "
                        + "first difference at token \(firstDifference ?? -1)"
                    #expect(output == expected, "\(message)")
                    accepted += strategy.telemetry.accepted
                    rejected += strategy.telemetry.drafted - strategy.telemetry.accepted
                }
            }
        }
        #expect(accepted > 0 && rejected > 0, "\(type): accepted \(accepted), rejected \(rejected)")
    }

    /// One block of 11 tokens gives the same logits, bit for bit, as the same tokens one at a
    /// time on one thread (rows are quantized and multiplied independently of the block they travel
    /// in; at two threads the block's norms, SwiGLU and quantization run split over the threads).
    @Test(arguments: types, [1, 2])
    func blockEqualsIncremental(type: GGMLType, threads: Int) throws {
        let fixture = try DecodingFixture(seed: 4, quantization: .quantize(type))
        let model = fixture.primary, tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
        let blockState = model.makeState(maxTokens: tokens.count, contextCapacity: 32,
                                          settings: ForwardSettings(threads: threads))
        model.forward(tokens, cache: model.makeCache(capacity: 32), state: blockState)
        let cache = model.makeCache(capacity: 32), state = model.makeState(maxTokens: 1, contextCapacity: 32)
        var mismatches = 0, worst: Float = 0
        for (row, token) in tokens.enumerated() {
            model.forward([token], cache: cache, state: state)
            let single = Array(state.logits(0)), block = Array(blockState.logits(row))
            mismatches += zip(single, block).filter { $0.bitPattern != $1.bitPattern }.count
            worst = max(worst, worstDifference(single, block).value)
        }
        #expect(mismatches == 0, "\(type), \(threads) threads: \(mismatches) logits differ, worst \(worst)")
    }

    /// Against the F32 model whose matrices are the dequantized quantized ones (what llama.cpp's
    /// weights mean): logits within 3% relative RMS and the same argmax at 90% of positions or
    /// more. A layout or scale error gives unrelated logits (relative RMS near 1.4).
    @Test(arguments: types)
    func nearDequantizedFloatModel(type: GGMLType) throws {
        let config = ModelConfig(vocabularySize: 64, width: 64, layerCount: 3, headCount: 4, keyValueHeadCount: 2,
                                 feedForwardWidth: 96, maxContext: 128)
        let weights = try ModelWeights.random(config: config, seed: 21)
        let dequantized = try ModelWeights.random(config: config, seed: 21)
        for spec in dequantized.table.specs where spec.shape.count == 2 && spec.name != ParameterTable.embedding {
            let values = Array(dequantized.tensor(spec.name))
            let bytes = GGMLQuantize.bytes(type, values)
            bytes.withUnsafeBytes {
                GGMLDequantize.run(type, $0.baseAddress!, count: values.count,
                                   into: dequantized.tensor(spec.name).baseAddress!)
            }
        }
        let quantized = Transformer(weights: weights, backend: .packed, quantization: .quantize(type))
        let reference = Transformer(weights: dequantized, backend: .packed)
        var generator = SeededGenerator(seed: 5)
        let tokens = (0..<40).map { _ in Int(generator.next() % 64) }
        func logits(_ model: Transformer) -> [[Float]] {
            let state = model.makeState(maxTokens: tokens.count, contextCapacity: 64)
            model.forward(tokens, cache: model.makeCache(capacity: 64), state: state)
            return (0..<tokens.count).map { Array(state.logits($0)) }
        }
        let got = logits(quantized), want = logits(reference)
        var squaredError = 0.0, squaredValue = 0.0, sameArgmax = 0
        for (a, b) in zip(got, want) {
            for (x, y) in zip(a, b) {
                squaredError += Double(x - y) * Double(x - y)
                squaredValue += Double(y) * Double(y)
            }
            if a.indices.max(by: { a[$0] < a[$1] }) == b.indices.max(by: { b[$0] < b[$1] }) { sameArgmax += 1 }
        }
        let relativeRMS = (squaredError / squaredValue).squareRoot()
        print("\(type) model vs dequantized F32 model: relative RMS \(relativeRMS), same argmax \(sameArgmax)/40")
        #expect(relativeRMS <= 0.03, "\(type): relative RMS \(relativeRMS), tolerance 0.03")
        #expect(sameArgmax >= 36, "\(type): same argmax at \(sameArgmax) of 40 positions")
    }
}
