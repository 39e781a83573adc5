import Foundation
import Testing
import TandemEngine

/// Decoding up to the context limit. Contract (Transformer.forward): positions
/// 0 ..< max_context are valid, so a cache of max_context entries fills to its last position;
/// one more token is a precondition failure naming the context. Strategies check
/// prompt + max_tokens + lookahead + 1 <= their capacity up front (`contextCapacity`,
/// `SpeculativeDecoding.generate`) and refuse a generation beyond it before any work.
@Suite struct ContextLimitTests {
    static let maxContext = 24
    static var config: ModelConfig {
        var config = smallConfig
        config.maxContext = maxContext
        return config
    }

    static func model() throws -> Transformer {
        Transformer(weights: try ModelWeights.random(config: config, seed: 13), backend: .packed)
    }

    static let tokens = (0..<maxContext).map { ($0 * 7 + 3) % 53 }

    /// Token by token up to position max_context - 1 (the last): each step's logits equal one
    /// full block of max_context tokens bit for bit (packed kernels, same summation order:
    /// tolerance 0), and the cache is exactly full.
    @Test func decodesUpToTheLastPosition() throws {
        let model = try Self.model()
        let cache = model.makeCache(), state = model.makeState(maxTokens: Self.maxContext)
        #expect(cache.capacity == Self.maxContext)
        model.forward(Self.tokens, cache: cache, state: state)
        let full = (0..<Self.maxContext).map { Array(state.logits($0)) }
        cache.truncate(to: 0)
        var worst: Float = 0
        for (position, token) in Self.tokens.enumerated() {
            model.forward([token], cache: cache, state: state)
            worst = max(worst, worstDifference(Array(state.logits(0)), full[position]).value)
        }
        #expect(worst == 0, "incremental vs block logits up to position \(Self.maxContext - 1): worst |diff| \(worst)")
        #expect(cache.length == Self.maxContext)
        // The last position's logits are finite and not those of the position before.
        let last = full[Self.maxContext - 1]
        #expect(last.allSatisfy(\.isFinite) && last != full[Self.maxContext - 2])
    }

    /// One token past the last position stops with an error naming the context.
    @Test func oneTokenPastTheLimitFails() async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let model = try ContextLimitTests.model()
            let cache = model.makeCache(), state = model.makeState(maxTokens: ContextLimitTests.maxContext)
            model.forward(ContextLimitTests.tokens, cache: cache, state: state)
            model.forward([1], cache: cache, state: state) // position max_context: must fail
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("context 25 exceeds capacity 24"), "stderr: \(stderr)")
    }

    /// The primary alone at its contract's limit (prompt + max_tokens + 1 == max_context)
    /// generates every token; its output equals the greedy argmax chain of full recomputation.
    @Test func autoregressiveAtTheLimitWorks() throws {
        let model = try Self.model(), prompt = [5, 9, 2]
        let count = Self.maxContext - prompt.count - 1
        var strategy = AutoregressiveDecoding(name: "primary", model: model, parameters: .greedy, seed: 0)
        let output = strategy.generate(prompt: prompt, maxTokens: count)
        #expect(output.count == count)
        var reference = prompt
        for _ in 0..<count {
            reference.append(blockLogits(model, reference).last!.withUnsafeBufferPointer(SamplingParameters.argmax))
        }
        #expect(output == Array(reference.dropFirst(prompt.count)))
    }

    /// One token more than the contract allows is refused with a message naming max_context.
    @Test func autoregressivePastTheLimitFails() async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var strategy = AutoregressiveDecoding(name: "primary", model: try ContextLimitTests.model(),
                                                  parameters: .greedy, seed: 0)
            _ = strategy.generate(prompt: [5, 9, 2], maxTokens: ContextLimitTests.maxContext - 3)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("exceeds max_context 24"), "stderr: \(stderr)")
    }

    /// tandem-speed with capacity = max_context (2048) and prompt + max_tokens + gamma + 1 ==
    /// capacity: output equals the primary's greedy output; one token more is refused.
    @Test func speculativeAtTheLimitWorks() throws {
        let fixture = try DecodingFixture(seed: 6)
        let capacity = fixture.primaryConfig.maxContext, prompt = [3, 1, 4], gamma = 4
        let count = capacity - prompt.count - gamma - 1
        var strategy = fixture.speculative(tandem: true, policy: FixedPolicy(gamma: gamma), rule: GreedyAcceptance(),
                                           capacity: capacity)
        let output = strategy.generate(prompt: prompt, maxTokens: count)
        let expected = fixture.primaryGreedy(prompt, count)
        let firstDifference = zip(output, expected).enumerated().first { $1.0 != $1.1 }?.offset
        #expect(output == expected, "first difference at token \(firstDifference ?? -1) of \(count)")
    }

    @Test func speculativePastTheLimitFails() async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let fixture = try DecodingFixture(seed: 6)
            let capacity = fixture.primaryConfig.maxContext
            var strategy = fixture.speculative(tandem: true, policy: FixedPolicy(gamma: 4), rule: GreedyAcceptance(),
                                               capacity: capacity)
            _ = strategy.generate(prompt: [3, 1, 4], maxTokens: capacity - 3 - 4 - 1 + 1)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("exceeds the context capacity 2048"), "stderr: \(stderr)")
    }
}
