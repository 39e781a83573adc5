import Foundation
import Testing
import TandemEngine

/// The engine's router MLP (`Router`): its forward pass against a direct Double computation,
/// its stop rule at tau inside the decoding loop, and its safetensors round trip.
@Suite struct RouterTests {
    /// Double reference of `Router.predict(logits:embeddings:)`: features [entropy, top-k
    /// probabilities (ties to the lower id), their embedding rows], then
    /// sigmoid(b2 + w2 . relu(W1 x + b1)), every weight read from the router's tensors.
    func referencePrediction(_ router: Router, logits: [Float], embeddings: [Float]) -> Double {
        let (p, entropy, order) = doubleSoftmax(logits)
        let width = router.embeddingWidth
        var x = [entropy] + order.prefix(router.topK).map { p[$0] }
        for token in order.prefix(router.topK) {
            x += embeddings[(token * width)..<((token + 1) * width)].map(Double.init)
        }
        let inputs = router.inputWidth
        let w1 = router.tensor("router.fc1.weight"), b1 = router.tensor("router.fc1.bias")
        let w2 = router.tensor("router.fc2.weight"), b2 = router.tensor("router.fc2.bias")
        var output = Double(b2[0])
        for h in 0..<router.hiddenWidth {
            let z = (0..<inputs).reduce(Double(b1[h])) { $0 + Double(w1[h * inputs + $1]) * x[$1] }
            output += Double(w2[h]) * max(0, z)
        }
        return 1 / (1 + exp(-output))
    }

    func randomValues(_ count: Int, scale: Float, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in (2 * generator.nextUnitFloat() - 1) * scale }
    }

    /// 200 random logit vectors (vocabulary 17, top-k 3, hidden 12, embedding width 10):
    /// the engine's prediction (float32 MLP on features computed in Double) equals the Double
    /// reference within 1e-6 absolute on the probability (float32 rounding of 52-term dot
    /// products; measured 6e-8).
    @Test func forwardMatchesDoubleReference() {
        let vocabulary = 17, width = 10
        let router = Router.random(topK: 3, hiddenWidth: 12, embeddingWidth: width, seed: 21, outputBias: 0.3)
        let embeddings = randomValues(vocabulary * width, scale: 1, seed: 22)
        var worst = 0.0, predictions: [Double] = []
        for trial in 0..<200 {
            // Scales 0.5 ... 8 give flat and peaked distributions; trial 0 has ties (all zero).
            let logits = trial == 0 ? [Float](repeating: 0, count: vocabulary)
                : randomValues(vocabulary, scale: 0.5 + Float(trial % 16) / 2, seed: 100 + UInt64(trial))
            let engine = logits.withUnsafeBufferPointer { buffer in
                embeddings.withUnsafeBufferPointer { router.predict(logits: buffer, embeddings: $0.baseAddress!) }
            }
            let reference = referencePrediction(router, logits: logits, embeddings: embeddings)
            worst = max(worst, abs(Double(engine) - reference))
            predictions.append(reference)
        }
        #expect(worst <= 1e-6, "router forward vs Double reference: worst |diff| \(worst) (tolerance 1e-6)")
        // The predictions must vary, or the comparison proves little.
        #expect(predictions.max()! - predictions.min()! > 0.1,
                "predictions span only [\(predictions.min()!), \(predictions.max()!)]")
    }

    /// A router whose output we control: one hidden unit reading the top-1 probability p1,
    /// prediction sigmoid(slope (p1 - pivot)), so it is at least tau = 0.5 exactly when p1 >= pivot.
    func controlledRouter(embeddingWidth: Int, pivot: Float, slope: Float = 40) -> Router {
        let router = Router(topK: 2, hiddenWidth: 1, embeddingWidth: embeddingWidth) // all weights zero
        router.tensor("router.fc1.weight")[1] = 1 // feature 1: the top-1 probability
        router.tensor("router.fc2.weight")[0] = slope
        router.tensor("router.fc2.bias")[0] = -slope * pivot
        return router
    }

    /// Unit level: on logits whose top probability we set, `keepsDraft` is true iff the
    /// prediction is at least tau (equality keeps), and the prediction is the sigmoid we built.
    @Test func keepsDraftIffPredictionAtLeastTau() throws {
        let fixture = try DecodingFixture(seed: 2)
        let drafter = fixture.secondary, vocabulary = fixture.secondaryConfig.vocabularySize
        let router = controlledRouter(embeddingWidth: drafter.config.width, pivot: 0.4)
        let embeddings = drafter.weights.tensor(ParameterTable.embedding).baseAddress!
        for top: Float in [0, 0.5, 1, 1.5, 2, 2.5, 3, 4, 6] {
            let logits = [top] + [Float](repeating: 0, count: vocabulary - 1)
            logits.withUnsafeBufferPointer { buffer in
                let p1 = topProbability(buffer)
                let prediction = router.predict(logits: buffer, embeddings: embeddings)
                let expected = 1 / (1 + exp(-40 * (p1 - 0.4)))
                #expect(abs(Double(prediction) - expected) <= 1e-5,
                        "p1 \(p1): prediction \(prediction), sigmoid reference \(expected) (tolerance 1e-5)")
                for tau: Float in [0.5, prediction, prediction.nextUp] {
                    let policy = RouterPolicy(router: router, threshold: tau, gammaMax: 4)
                    let keep = policy.keepsDraft(position: 1, logits: buffer, drafter: drafter)
                    #expect(keep == (prediction >= tau),
                            "p1 \(p1), prediction \(prediction), tau \(tau): keep \(keep)")
                }
            }
        }
    }

    /// In the decoding loop: every round drafts exactly the candidates before the first whose
    /// prediction is below tau (or up to its budget), never one after it, and the telemetry
    /// agrees. Both outcomes must occur, so the test sees rounds cut by the router.
    @Test(arguments: [false, true])
    func draftingStopsAtTheFirstPredictionBelowTau(tandem: Bool) throws {
        let fixture = try DecodingFixture(seed: 2)
        let drafter = tandem ? fixture.secondary : fixture.noisyCopy
        let router = controlledRouter(embeddingWidth: drafter.config.width, pivot: 0.35)
        let tau: Float = 0.5
        let recording = RecordingPolicy(RouterPolicy(router: router, threshold: tau, gammaMax: 6)) { logits, model in
            let embeddings = model.weights.tensor(ParameterTable.embedding).baseAddress!
            return Double(router.predict(logits: logits, embeddings: embeddings))
        }
        var strategy = fixture.speculative(tandem: tandem, policy: recording, rule: GreedyAcceptance())
        let output = strategy.generate(prompt: [4, 1, 7, 3], maxTokens: 120)
        #expect(output == fixture.primaryGreedy([4, 1, 7, 3], 120))
        let rounds = try #require(strategy.policy as? RecordingPolicy).rounds
        var stopped = 0, full = 0
        for (index, round) in rounds.enumerated() {
            let leading = round.decisions.prefix { $0.keep }.count
            let message = "round \(index): decisions \(round.decisions.map { ($0.keep, $0.probe) }), "
                + "drafted \(round.drafted)"
            #expect(round.drafted == leading, "\(message)")
            #expect(round.decisions.allSatisfy { $0.keep == (Float($0.probe) >= tau) }, "\(message)")
            if let last = round.decisions.last, !last.keep {
                stopped += 1
                #expect(round.decisions.count == leading + 1, "drafting went on after a stop: \(message)")
            } else {
                full += 1
                #expect(round.drafted <= 6, "\(message)")
            }
        }
        #expect(strategy.telemetry.drafted == rounds.reduce(0) { $0 + $1.drafted })
        #expect(stopped > 0 && full > 0, "rounds stopped by the router: \(stopped), not stopped: \(full)")
    }

    /// Save then load through the safetensors checkpoint: the same shape, bit-identical
    /// weights and bit-identical predictions on 50 random feature vectors.
    @Test func saveLoadRoundTripIsBitIdentical() throws {
        let router = Router.random(topK: 4, hiddenWidth: 9, embeddingWidth: 7, seed: 31, outputBias: -0.7)
        try withTemporaryDirectory { directory in
            let path = directory + "/router.safetensors"
            try router.save(to: path)
            let loaded = try Router.load(path: path)
            #expect(loaded.topK == 4 && loaded.hiddenWidth == 9 && loaded.embeddingWidth == 7)
            #expect(loaded.specs == router.specs)
            let original = Array(UnsafeBufferPointer(start: router.storage, count: router.count))
            let reloaded = Array(UnsafeBufferPointer(start: loaded.storage, count: loaded.count))
            let worst = worstDifference(original, reloaded)
            #expect(original.map(\.bitPattern) == reloaded.map(\.bitPattern),
                    "weights differ after the round trip: worst |diff| \(worst.value) at \(worst.index)")
            for trial in 0..<50 {
                let x = randomValues(router.inputWidth, scale: 2, seed: 300 + UInt64(trial))
                let (a, b) = x.withUnsafeBufferPointer {
                    (router.predict(features: $0.baseAddress!), loaded.predict(features: $0.baseAddress!))
                }
                #expect(a.bitPattern == b.bitPattern, "trial \(trial): prediction \(a) before, \(b) after")
            }
        }
    }
}
