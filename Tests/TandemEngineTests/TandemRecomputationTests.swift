import Testing
import TandemEngine

/// The tandem secondary's state equals a direct recomputation after the two paths that
/// rewrite it in pieces: the chunked projection of long prompts (`TandemSecondary` projects
/// at most 64 rows per chunk, its `maxTokens`) and the rollback of a verification round.
@Suite struct TandemRecomputationTests {
    static let chunk = 64 // TandemSecondary's default maxTokens: rows projected per chunk

    func seededPrompt(_ count: Int, seed: UInt64) -> [Int] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Int(generator.next() % 12) }
    }

    /// Primary hidden states of `tokens` from one fresh pass (the points the tandem reads).
    func freshPrimaryState(_ fixture: DecodingFixture, _ tokens: [Int]) -> ForwardState {
        let state = fixture.primary.makeState(maxTokens: tokens.count, contextCapacity: 400)
        fixture.tandem.requestCaptures(state)
        fixture.primary.forward(tokens, cache: fixture.primary.makeCache(capacity: 400), state: state)
        return state
    }

    /// Greedy tandem-speed with prompts of 65, 100 and 150 tokens (two and three projection
    /// chunks) equals the primary's greedy output token for token. Output identity holds
    /// whatever the drafter proposes, so the drafts themselves are checked too: the same
    /// tandem secondary projecting the whole prompt in one chunk (maxTokens 256) proposes the
    /// same draft candidates, round by round.
    @Test(arguments: [65, 100, 150])
    func longPromptGreedyEqualsPrimary(promptLength: Int) throws {
        let fixture = try DecodingFixture(seed: 8)
        let prompt = seededPrompt(promptLength, seed: UInt64(promptLength))
        #expect(promptLength > Self.chunk)
        let expected = fixture.primaryGreedy(prompt, 40)
        let oneChunk = TandemSecondary(model: fixture.secondary, projections: fixture.tandem.projections,
                                       layerMap: fixture.tandem.layerMap, primaryConfig: fixture.primaryConfig,
                                       maxTokens: 256)
        func candidates(_ strategy: SpeculativeDecoding) throws -> [[Double]] {
            try #require(strategy.policy as? RecordingPolicy).rounds.map { $0.decisions.map(\.probe) }
        }
        for policy: BlockPolicy in [FixedPolicy(gamma: 4), HeuristicPolicy(initial: 2, gammaMax: 6)] {
            // Each candidate's argmax, recorded as the policy sees it.
            let recording = RecordingPolicy(policy) { logits, _ in Double(SamplingParameters.argmax(logits)) }
            var strategy = fixture.speculative(tandem: true, policy: recording, rule: GreedyAcceptance(),
                                               capacity: 400)
            let output = strategy.generate(prompt: prompt, maxTokens: 40)
            let firstDifference = zip(output, expected).enumerated().first { $1.0 != $1.1 }?.offset
            #expect(output == expected,
                    "prompt \(promptLength) \(policy.name): first difference at token \(firstDifference ?? -1)")
            var unchunked = SpeculativeDecoding(primary: fixture.primary,
                                                drafter: TandemDrafter(tandem: oneChunk, contextCapacity: 400,
                                                                       maxTokens: 64),
                                                policy: recording, rule: GreedyAcceptance(), parameters: .greedy,
                                                seed: 1)
            #expect(unchunked.generate(prompt: prompt, maxTokens: 40) == expected)
            let (chunked, whole) = (try candidates(strategy), try candidates(unchunked))
            #expect(chunked == whole && !chunked.isEmpty,
                    "prompt \(promptLength) \(policy.name): drafts \(chunked) with chunks, \(whole) in one chunk")
        }
    }

    /// After prefilling 150 prompt tokens (chunks of 64, 64, 22), the drafter's cache equals
    /// projecting the rows one at a time within 1e-5 absolute (blocks over 32 rows go to
    /// OpenBLAS sgemm, single rows to the packed kernel: another summation order; measured
    /// 6e-7), and its next-token logits equal the Double reference `naiveTandemLogits` over all
    /// 150 projected positions within 1e-5 (float32 vs Double; measured 3e-7).
    @Test func chunkedPrefillEqualsRecomputation() throws {
        let fixture = try DecodingFixture(seed: 8)
        let prompt = seededPrompt(150, seed: 150), pending = 5
        let state = freshPrimaryState(fixture, prompt)
        let drafter = TandemDrafter(tandem: fixture.tandem, contextCapacity: 400, maxTokens: 8)
        drafter.prefill(prompt: prompt, primaryState: state)
        #expect(drafter.cache.length == prompt.count)

        let rowByRow = fixture.secondary.makeCache(capacity: 400)
        for row in 0..<prompt.count {
            fixture.tandem.writeProjectedEntries(from: state, rows: row..<(row + 1), at: row, cache: rowByRow)
        }
        let worstEntry = worstCacheDifference(drafter.cache, rowByRow, config: fixture.secondaryConfig,
                                              length: prompt.count)
        let message = "chunked vs row-by-row projection: worst |diff| \(worstEntry.value) "
            + "at position \(worstEntry.position) (tolerance 1e-5)"
        #expect(worstEntry.value <= 1e-5, "\(message)")

        let logits = Array(drafter.advance(prompt + [pending]))
        let reference = naiveTandemLogits(secondary: fixture.secondary.weights, tandem: fixture.tandem,
                                          primaryHidden: { state.hidden(point: $0, row: $1).map(Double.init) },
                                          processed: prompt.count, pending: pending)
        let worst = worstDifference(logits, reference.map(Float.init))
        #expect(worst.value <= 1e-5, "logits after 150 projected positions: worst |diff| \(worst.value) (tol 1e-5)")
    }

    /// A round at position 8: the pending token and 3 greedy drafts, verified by the primary in
    /// one pass, the first `kept` positions (1: every draft rejected ... 4: all accepted) kept,
    /// the cache rolled back and rewritten from the primary's states, then a correction token
    /// decoded. Its logits equal (a) the Double reference over the kept positions within 1e-5
    /// (float32 vs Double; measured <= 5e-7) and (b) a fresh drafter prefilled with the same
    /// tokens, bit for bit (tolerance 0: the same packed kernels, blocks of at most 32 rows).
    @Test(arguments: 1...4)
    func logitsAfterRollbackEqualRecomputation(kept: Int) throws {
        let fixture = try DecodingFixture(seed: 9)
        let prompt = [3, 1, 4, 1, 5, 9, 2, 6], pending = 7
        let primary = fixture.primary
        let cache = primary.makeCache(capacity: 64)
        let state = primary.makeState(maxTokens: 16, contextCapacity: 64)
        fixture.tandem.requestCaptures(state)
        primary.forward(prompt, cache: cache, state: state)
        let drafter = TandemDrafter(tandem: fixture.tandem, contextCapacity: 64, maxTokens: 8)
        drafter.prefill(prompt: prompt, primaryState: state)

        // Draft as the engine does: the last draft is not stepped.
        var logits = drafter.advance(prompt + [pending])
        var drafts: [Int] = []
        for position in 1...3 {
            drafts.append(SamplingParameters.argmax(logits))
            if position < 3 { logits = drafter.step(drafts.last!) }
        }
        primary.forward([pending] + drafts, cache: cache, state: state)
        cache.truncate(to: prompt.count + kept)
        drafter.commit(kept: kept, verifiedAt: prompt.count, primaryState: state)
        let committed = prompt + Array(([pending] + drafts).prefix(kept))
        #expect(drafter.cache.length == committed.count)
        let correction = (committed.last! + 5) % 12
        let afterRollback = Array(drafter.advance(committed + [correction]))

        let fresh = freshPrimaryState(fixture, committed)
        let reference = naiveTandemLogits(secondary: fixture.secondary.weights, tandem: fixture.tandem,
                                          primaryHidden: { fresh.hidden(point: $0, row: $1).map(Double.init) },
                                          processed: committed.count, pending: correction)
        let worst = worstDifference(afterRollback, reference.map(Float.init))
        #expect(worst.value <= 1e-5, "kept \(kept): vs Double reference worst |diff| \(worst.value) (tolerance 1e-5)")

        let freshDrafter = TandemDrafter(tandem: fixture.tandem, contextCapacity: 64, maxTokens: 8)
        freshDrafter.prefill(prompt: committed, primaryState: fresh)
        let recomputed = Array(freshDrafter.advance(committed + [correction]))
        let worstFresh = worstDifference(afterRollback, recomputed)
        #expect(worstFresh.value == 0, "kept \(kept): vs a fresh drafter worst |diff| \(worstFresh.value)")
    }

    /// The largest |difference| between the first `length` key and value entries of two caches.
    func worstCacheDifference(_ a: KeyValueCache, _ b: KeyValueCache, config: ModelConfig,
                              length: Int) -> (value: Float, position: Int) {
        let hd = config.headDimension
        var worst: (Float, Int) = (0, -1)
        for layer in 0..<config.layerCount {
            for head in 0..<config.keyValueHeadCount {
                for (x, y) in [(a.keys(layer: layer, head: head), b.keys(layer: layer, head: head)),
                               (a.values(layer: layer, head: head), b.values(layer: layer, head: head))] {
                    for i in 0..<(length * hd) where abs(x[i] - y[i]) > worst.0 || x[i].isNaN != y[i].isNaN {
                        worst = (x[i].isNaN || y[i].isNaN ? .infinity : abs(x[i] - y[i]), i / hd)
                    }
                }
            }
        }
        return worst
    }
}
