import Testing
import TandemEngine

/// One thread and two threads give bit-identical logits (blocks of 1..9 tokens) and greedy
/// output: every output row and attention head is computed whole by one thread, so the split
/// must not change a single rounding. Reference: the one-thread run; tolerance: exact.
@Suite struct ThreadIdentityTests {
    @Test(arguments: [KernelBackend.packed, .openblas])
    func twoThreadsMatchOneBitForBit(backend: KernelBackend) throws {
        let config = ModelConfig(vocabularySize: 64, width: 96, layerCount: 3, headCount: 6, keyValueHeadCount: 2,
                                 feedForwardWidth: 160, maxContext: 128)
        let weights = try ModelWeights.random(config: config, seed: 77)
        let one = Transformer(weights: weights, backend: backend, threads: 1)
        let two = Transformer(weights: weights, backend: backend, threads: 2)
        let prompt = (0..<20).map { ($0 * 7 + 3) % 64 }
        for n in [1, 2, 5, 9] {
            var logits: [[Float]] = []
            for model in [one, two] {
                let cache = model.makeCache(capacity: 64), state = model.makeState(maxTokens: 20, contextCapacity: 64)
                model.forward(prompt, cache: cache, state: state)
                model.forward(Array(prompt.prefix(n)), cache: cache, state: state)
                logits.append((0..<n).flatMap { Array(state.logits($0)) })
            }
            let differing = zip(logits[0], logits[1]).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(backend) block of \(n): \(differing) of \(logits[0].count) logits differ")
        }
        var outputs: [[Int]] = []
        for model in [one, two] {
            var decoding = AutoregressiveDecoding(name: "primary", model: model, parameters: .greedy, seed: 0)
            outputs.append(decoding.generate(prompt: prompt, maxTokens: 30))
        }
        #expect(outputs[0] == outputs[1])
    }
}
