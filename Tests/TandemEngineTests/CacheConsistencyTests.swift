import Testing
import TandemEngine

/// Incremental decoding, blocks and rollback all agree with full recomputation.
@Suite struct CacheConsistencyTests {
    let tokens = [3, 17, 52, 0, 8, 8, 41, 29, 11, 5, 36, 19, 2, 47, 30, 9, 23]
    /// The packed kernel computes each row identically whatever the block size (same summation
    /// order), so blocks and single steps agree bit for bit; OpenBLAS's sgemv (one token) and
    /// sgemm (blocks) sum in different orders: 1e-4 absolute.
    func tolerance(_ backend: KernelBackend) -> Float { backend == .packed ? 0 : 1e-4 }

    func model(_ backend: KernelBackend, threads: Int = 1) throws -> Transformer {
        Transformer(weights: try ModelWeights.random(config: smallConfig, seed: 7), backend: backend, threads: threads)
    }

    /// Token-by-token decoding with the cache equals one full-sequence pass, position by position.
    @Test(arguments: [KernelBackend.packed, .openblas])
    func incrementalEqualsFullRecomputation(backend: KernelBackend) throws {
        let model = try model(backend)
        let full = blockLogits(model, tokens)
        let cache = model.makeCache(capacity: 128)
        let state = model.makeState(maxTokens: 1, contextCapacity: 128)
        for (position, token) in tokens.enumerated() {
            model.forward([token], cache: cache, state: state)
            let worst = worstDifference(Array(state.logits(0)), full[position])
            #expect(worst.value <= tolerance(backend), "\(backend) position \(position): worst |diff| \(worst.value)")
        }
        #expect(cache.length == tokens.count)
    }

    /// The model's loop follows its footprint unless forced, and a whole forward pass gives the same
    /// logits, bit for bit, with either loop (the small model is cache-resident: streaming is forced).
    @Test func forcedSkinnyLoopGivesTheSameLogits() throws {
        let weights = try ModelWeights.random(config: smallConfig, seed: 7)
        let resident = Transformer(weights: weights, backend: .packed)
        let streaming = Transformer(weights: weights, backend: .packed, skinnyLoop: .streaming)
        #expect(resident.skinnyLoop == .cacheResident && streaming.skinnyLoop == .streaming)
        // Blocks of 1-6 tokens (the loops differ only there), each position's logits compared.
        func logits(_ model: Transformer) -> [[Float]] {
            let cache = model.makeCache(capacity: 128), state = model.makeState(maxTokens: 6, contextCapacity: 128)
            var result: [[Float]] = [], start = 0, size = 1
            while start < tokens.count {
                let block = Array(tokens[start..<min(start + size, tokens.count)])
                model.forward(block, cache: cache, state: state)
                result += block.indices.map { Array(state.logits($0)) }
                start += block.count
                size = size % 6 + 1
            }
            return result
        }
        let a = logits(resident), b = logits(streaming)
        for position in tokens.indices {
            let worst = worstDifference(b[position], a[position])
            #expect(worst.value == 0, "position \(position): the loops differ by \(worst.value)")
        }
    }

    /// After a prefix, a block of n tokens equals n single-token steps, for n = 1...16 and with
    /// two threads.
    @Test(arguments: [1, 2])
    func blockEqualsSingleSteps(threads: Int) throws {
        let model = try model(.packed, threads: threads)
        let prefix = Array(tokens.prefix(5))
        for n in 1...12 {
            let block = Array(tokens.dropFirst(5).prefix(n))
            let cacheA = model.makeCache(capacity: 128), stateA = model.makeState(maxTokens: 16, contextCapacity: 128)
            model.forward(prefix, cache: cacheA, state: stateA)
            model.forward(block, cache: cacheA, state: stateA)
            let blockResult = (0..<n).map { Array(stateA.logits($0)) }
            let cacheB = model.makeCache(capacity: 128), stateB = model.makeState(maxTokens: 16, contextCapacity: 128)
            model.forward(prefix, cache: cacheB, state: stateB)
            for (row, token) in block.enumerated() {
                model.forward([token], cache: cacheB, state: stateB)
                let worst = worstDifference(blockResult[row], Array(stateB.logits(0)))
                #expect(worst.value <= tolerance(.packed),
                        "n=\(n) row \(row) threads=\(threads): worst |diff| \(worst.value)")
            }
        }
    }

    /// Truncating the cache and decoding different tokens gives exactly what a fresh run over
    /// the surviving prefix plus the new tokens gives (bit for bit: same kernels, same order).
    @Test func truncateAndRedecodeReproduces() throws {
        let model = try model(.packed)
        let cache = model.makeCache(capacity: 128), state = model.makeState(maxTokens: 8, contextCapacity: 128)
        model.forward(Array(tokens.prefix(6)), cache: cache, state: state)
        model.forward([1, 2, 3, 4, 5], cache: cache, state: state) // to be rolled back
        cache.truncate(to: 6)
        model.forward(Array(tokens[6..<10]), cache: cache, state: state)
        let afterRollback = (0..<4).map { Array(state.logits($0)) }

        let freshCache = model.makeCache(capacity: 128)
        model.forward(Array(tokens.prefix(6)), cache: freshCache, state: state)
        model.forward(Array(tokens[6..<10]), cache: freshCache, state: state)
        for row in 0..<4 {
            let worst = worstDifference(afterRollback[row], Array(state.logits(row)))
            #expect(worst.value == 0, "row \(row): worst |diff| \(worst.value) after rollback")
        }
        #expect(cache.length == 10)
    }

    /// The same seed gives bit-identical weights and logits; another seed does not.
    @Test func seededWeightsReproduce() throws {
        let a = blockLogits(try model(.packed), tokens)
        let b = blockLogits(try model(.packed), tokens)
        #expect(a == b)
        let other = Transformer(weights: try ModelWeights.random(config: smallConfig, seed: 8), backend: .packed)
        #expect(blockLogits(other, tokens) != a)
    }
}
