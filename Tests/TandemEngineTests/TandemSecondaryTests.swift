import Foundation
import Testing
import TandemEngine

@Suite struct TandemSecondaryTests {
    /// The tandem secondary's next-token logits equal a direct, slow Double-precision
    /// computation: keys/values of processed positions from P_j x_p^(l(j)) through the
    /// secondary's own attention norm and K/V projections, its own states for the pending
    /// token, queries from the secondary. Tolerance 1e-4 (float32 engine vs Double reference).
    @Test(arguments: TandemLayerMap.allCases)
    func attentionOverProjectedStatesMatchesReference(layerMap: TandemLayerMap) throws {
        let fixture = try DecodingFixture(seed: 4, layerMap: layerMap)
        let prompt = [3, 1, 4, 1, 5, 9, 2, 6], pending = 7
        let primary = fixture.primary, tandem = fixture.tandem
        let state = primary.makeState(maxTokens: 16, contextCapacity: 32)
        tandem.requestCaptures(state)
        primary.forward(prompt, cache: primary.makeCache(capacity: 32), state: state)
        let drafter = TandemDrafter(tandem: tandem, contextCapacity: 32, maxTokens: 4)
        drafter.prefill(prompt: prompt, primaryState: state)
        let logits = Array(drafter.advance(prompt + [pending]))

        let hidden = { (point: Int, row: Int) in state.hidden(point: point, row: row).map(Double.init) }
        let reference = naiveTandemLogits(secondary: fixture.secondary.weights, tandem: tandem,
                                          primaryHidden: hidden, processed: prompt.count, pending: pending)
        let worst = worstDifference(logits, reference.map(Float.init))
        #expect(worst.value <= 1e-4, "\(layerMap): worst |diff| \(worst.value) at \(worst.index)")
        // The map itself: output reads after round((j+1) L_L / L_S), input the input of floor(j L_L / L_S).
        // group: primary layers floor(j L_L / L_S) ..< floor((j + 1) L_L / L_S), i.e. [1] and [2, 3].
        let expected: [[Int]] = switch layerMap {
        case .output: [[2], [3]]
        case .input: [[0], [1]]
        case .group: [[1], [2, 3]]
        }
        #expect(tandem.primaryPoints == expected, "points \(tandem.primaryPoints)")
    }

    /// After any accept/reject pattern, both caches hold exactly (bit for bit) what a fresh run
    /// over the committed tokens gives, for plain and tandem drafters.
    @Test(arguments: [false, true])
    func cachesEqualAFreshRunAfterRollback(tandem useTandem: Bool) throws {
        let fixture = try DecodingFixture(seed: 5)
        for (seed, alpha) in [(UInt64(1), 0.3), (2, 0.7), (3, 0.95)] {
            var strategy = fixture.speculative(tandem: useTandem, policy: FixedPolicy(gamma: 5),
                                               rule: OracleAcceptance(alphas: [alpha], parameters: .greedy, seed: seed,
                                                                      sampling: .independent))
            let prompt = [2, 7, 1]
            let committed = prompt + strategy.generate(prompt: prompt, maxTokens: 60)
            let primaryCache = strategy.primaryCache!
            #expect(primaryCache.length == committed.count - 1,
                    "primary cache \(primaryCache.length) for \(committed.count) committed tokens")
            #expect(strategy.telemetry.accepted > 0 && strategy.telemetry.accepted < strategy.telemetry.drafted)

            // Fresh primary run, in blocks of 8 so the same kernels run.
            let primary = fixture.primary
            let freshPrimary = primary.makeCache(capacity: 200)
            let state = primary.makeState(maxTokens: 8, contextCapacity: 200)
            fixture.tandem.requestCaptures(state)
            let freshDrafter = fixture.secondary.makeCache(capacity: 200)
            let drafterLength = strategy.drafter.cache.length
            var start = 0
            while start < primaryCache.length {
                let end = min(start + 8, primaryCache.length)
                primary.forward(committed[start..<end], cache: freshPrimary, state: state)
                if useTandem && start < drafterLength {
                    fixture.tandem.writeProjectedEntries(from: state, rows: 0..<(min(end, drafterLength) - start),
                                                         at: start, cache: freshDrafter)
                }
                start = end
            }
            if !useTandem {
                let plainState = fixture.noisyCopy.makeState(maxTokens: 8, contextCapacity: 200)
                let plainFresh = fixture.noisyCopy.makeCache(capacity: 200)
                var position = 0
                while position < drafterLength {
                    let end = min(position + 8, drafterLength)
                    fixture.noisyCopy.forward(committed[position..<end], cache: plainFresh, state: plainState)
                    position = end
                }
                expectSameEntries(strategy.drafter.cache, plainFresh, config: fixture.primaryConfig,
                                  length: drafterLength, label: "plain drafter seed \(seed)")
            } else {
                #expect(drafterLength == primaryCache.length,
                        "tandem drafter cache \(drafterLength), primary \(primaryCache.length)")
                expectSameEntries(strategy.drafter.cache, freshDrafter, config: fixture.secondaryConfig,
                                  length: drafterLength, label: "tandem drafter seed \(seed)")
            }
            expectSameEntries(primaryCache, freshPrimary, config: fixture.primaryConfig, length: primaryCache.length,
                              label: "primary seed \(seed)")
        }
    }

    func expectSameEntries(_ a: KeyValueCache, _ b: KeyValueCache, config: ModelConfig, length: Int, label: String) {
        let hd = config.headDimension
        var worst: Float = 0
        for layer in 0..<config.layerCount {
            for head in 0..<config.keyValueHeadCount {
                for (x, y) in [(a.keys(layer: layer, head: head), b.keys(layer: layer, head: head)),
                               (a.values(layer: layer, head: head), b.values(layer: layer, head: head))] {
                    for i in 0..<(length * hd) { worst = max(worst, abs(x[i] - y[i])) }
                }
            }
        }
        #expect(worst == 0, "\(label): cache differs from a fresh run by up to \(worst)")
    }
}

/// Double-precision reference of one tandem secondary step for the token at position
/// `processed`, the positions before it taken from the primary's residual streams.
func naiveTandemLogits(secondary: ModelWeights, tandem: TandemSecondary, primaryHidden: (Int, Int) -> [Double],
                       processed: Int, pending: Int) -> [Double] {
    let c = secondary.config, d = c.width, hd = c.headDimension
    func matrix(_ name: String) -> [Double] { secondary.tensor(name).map(Double.init) }
    func multiply(_ w: [Double], _ x: [Double], rows: Int) -> [Double] {
        (0..<rows).map { r in (0..<x.count).reduce(0.0) { $0 + w[r * x.count + $1] * x[$1] } }
    }
    func norm(_ x: [Double], _ w: [Double]) -> [Double] {
        let scale = 1 / (x.reduce(0) { $0 + $1 * $1 } / Double(x.count) + Double(c.normEpsilon)).squareRoot()
        return zip(x, w).map { $0 * scale * $1 }
    }
    func rotate(_ v: [Double], _ position: Int) -> [Double] {
        var out = v
        let half = hd / 2
        for head in 0..<(v.count / hd) {
            for i in 0..<half {
                let angle = Double(position) * pow(Double(c.ropeTheta), -2 * Double(i) / Double(hd))
                let a = v[head * hd + i], b = v[head * hd + i + half]
                out[head * hd + i] = a * cos(angle) - b * sin(angle)
                out[head * hd + i + half] = b * cos(angle) + a * sin(angle)
            }
        }
        return out
    }
    var x = Array(secondary.tensor(ParameterTable.embedding)[(pending * d)..<((pending + 1) * d)]).map(Double.init)
    for layer in 0..<c.layerCount {
        let name = { (t: ParameterTable.LayerTensor) in ParameterTable.name(layer, t) }
        let attentionNorm = matrix(name(.attentionNorm)), wq = matrix(name(.query))
        let wk = matrix(name(.key)), wv = matrix(name(.value))
        let projection = UnsafeBufferPointer(start: tandem.projections.projection(layer),
                                             count: d * tandem.projections.inputWidth(layer)).map(Double.init)
        var keys: [[Double]] = [], values: [[Double]] = []
        for t in 0..<processed {
            let input = tandem.primaryPoints[layer].flatMap { primaryHidden($0, t) } // concatenated (group)
            let yhat = multiply(projection, input, rows: d)
            let n = norm(yhat, attentionNorm)
            keys.append(rotate(multiply(wk, n, rows: c.keyValueWidth), t))
            values.append(multiply(wv, n, rows: c.keyValueWidth))
        }
        let h = norm(x, attentionNorm)
        let q = rotate(multiply(wq, h, rows: c.queryWidth), processed)
        keys.append(rotate(multiply(wk, h, rows: c.keyValueWidth), processed))
        values.append(multiply(wv, h, rows: c.keyValueWidth))
        var attention = [Double](repeating: 0, count: c.queryWidth)
        let group = c.headCount / c.keyValueHeadCount
        for head in 0..<c.headCount {
            let kv = head / group
            let scores = keys.map { k in
                (0..<hd).reduce(0.0) { $0 + q[head * hd + $1] * k[kv * hd + $1] } / Double(hd).squareRoot()
            }
            let m = scores.max()!
            let e = scores.map { exp($0 - m) }, total = e.reduce(0, +)
            for (t, v) in values.enumerated() {
                for i in 0..<hd { attention[head * hd + i] += e[t] / total * v[kv * hd + i] }
            }
        }
        x = zip(x, multiply(matrix(name(.output)), attention, rows: d)).map(+)
        let h2 = norm(x, matrix(name(.feedForwardNorm)))
        let gate = multiply(matrix(name(.gate)), h2, rows: c.feedForwardWidth)
        let up = multiply(matrix(name(.up)), h2, rows: c.feedForwardWidth)
        let act = zip(gate, up).map { $0 / (1 + exp(-$0)) * $1 }
        x = zip(x, multiply(matrix(name(.down)), act, rows: d)).map(+)
    }
    let head = c.tiedEmbeddings ? matrix(ParameterTable.embedding) : matrix(ParameterTable.head)
    return multiply(head, norm(x, matrix(ParameterTable.finalNorm)), rows: c.vocabularySize)
}
