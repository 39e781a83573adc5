import Foundation
import Testing
import TandemEngine
import TandemModels

/// SmolLM2-135M loaded from its GGUF against an independent float64 numpy forward pass
/// (Tests/Fixtures/make_smollm2_reference.py: gguf-py's dequantization, llama.cpp's graph with
/// its adjacent-pair rotary mode on the permuted Q/K rows as stored, so the engine's
/// un-permutation is checked too).
@Suite(.serialized) struct SmolLM2ReferenceTests {
    struct Reference: Decodable {
        struct Position: Decodable {
            var top_ids: [Int]
            var top_logits: [Double]
            var logsumexp: Double
        }
        struct Prompt: Decodable {
            var text: String
            var ids: [Int]
            var positions: [Position]
        }
        struct Greedy: Decodable {
            var prompt: Int
            var ids: [Int]
        }
        var prompts: [Prompt]
        var greedy: Greedy
    }

    static let model: Transformer? = {
        guard let file = try? smolLM2(), let weights = try? GGUFLlama.weights(file) else { return nil }
        return Transformer(weights: weights, backend: .packed, threads: 1)
    }()

    func loadModel() throws -> Transformer {
        guard let model = Self.model else { throw MissingModel() }
        return model
    }

    /// Tolerance: 5e-4 absolute on logits of magnitude ~30 (float32 engine vs float64
    /// reference through 30 layers; measured worst 7.9e-5). Without the Q/K un-permutation
    /// the argmax is wrong at almost every position.
    @Test func logitsMatchNumpyAtEveryPosition() throws {
        let model = try loadModel()
        let reference = try loadJSON(Reference.self, "smollm2/reference.json")
        let tokenizer = try GGUFTokenizer.load(try smolLM2())
        var worst = 0.0, worstAt = "", worstLogSumExp = 0.0
        for prompt in reference.prompts {
            #expect(tokenizer.encode(prompt.text) == prompt.ids, "the prompt's tokens: \(prompt.text.debugDescription)")
            let state = model.makeState(maxTokens: prompt.ids.count, contextCapacity: 128)
            model.forward(prompt.ids, cache: model.makeCache(capacity: 128), state: state)
            for (row, position) in prompt.positions.enumerated() {
                let logits = state.logits(row)
                for (id, want) in zip(position.top_ids, position.top_logits) {
                    let difference = abs(Double(logits[id]) - want)
                    if difference > worst {
                        (worst, worstAt) = (difference, "\(prompt.text.debugDescription) row \(row) id \(id)")
                    }
                }
                let peak = Double(logits.max()!)
                let logSumExp = peak + log(logits.reduce(0.0) { $0 + exp(Double($1) - peak) })
                worstLogSumExp = max(worstLogSumExp, abs(logSumExp - position.logsumexp))
                #expect(logits.indices.max { logits[$0] < logits[$1] } == position.top_ids[0],
                        "argmax at \(prompt.text.debugDescription) row \(row)")
            }
        }
        print("SmolLM2 vs numpy: worst |logit difference| \(worst) at \(worstAt); logsumexp \(worstLogSumExp)")
        #expect(worst <= 5e-4, "worst |logit difference| \(worst) at \(worstAt)")
        #expect(worstLogSumExp <= 5e-4, "worst |logsumexp difference| \(worstLogSumExp)")
    }

    /// The whole last-position logit vector of the first prompt, all 49,152 entries.
    @Test func fullLogitVector() throws {
        let model = try loadModel()
        let reference = try loadJSON(Reference.self, "smollm2/reference.json")
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture("smollm2/last_logits.f32")))
        let expected = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let ids = reference.prompts[0].ids
        let state = model.makeState(maxTokens: ids.count, contextCapacity: 64)
        model.forward(ids, cache: model.makeCache(capacity: 64), state: state)
        let logits = state.logits(ids.count - 1)
        try #require(expected.count == logits.count)
        var worst: Float = 0, index = 0
        for i in 0..<logits.count where abs(logits[i] - expected[i]) > worst {
            (worst, index) = (abs(logits[i] - expected[i]), i)
        }
        #expect(worst <= 5e-4, "worst |difference| \(worst) at token \(index) of \(logits.count)")
    }

    /// Token-by-token greedy decoding (the incremental path) reproduces the reference's greedy ids.
    @Test func incrementalGreedyMatchesReference() throws {
        let model = try loadModel()
        let reference = try loadJSON(Reference.self, "smollm2/reference.json")
        var tokens = reference.prompts[reference.greedy.prompt].ids
        let cache = model.makeCache(capacity: 128)
        let state = model.makeState(maxTokens: tokens.count, contextCapacity: 128)
        model.forward(tokens, cache: cache, state: state)
        var generated: [Int] = []
        var last = state.logits(tokens.count - 1)
        for _ in reference.greedy.ids {
            let next = last.indices.max { last[$0] < last[$1] }!
            generated.append(next)
            tokens.append(next)
            model.forward([next], cache: cache, state: state)
            last = state.logits(0)
        }
        #expect(generated == reference.greedy.ids)
    }
}
