import Foundation
import Testing
import TandemEngine

/// The training-free draft-length policies, step by step against the rules their sources
/// document: `ConfidencePolicy` (llama.cpp `--draft-p-min`: keep a candidate iff its top
/// probability at T = 1 is >= p_min, at most gamma_max drafts) and `HeuristicPolicy` (Hugging
/// Face "heuristic": +2 after a fully accepted round, -1 otherwise, within 1...gamma_max).
@Suite struct BlockPolicyTests {
    /// Logits over `vocabulary` tokens whose top probability (T = 1) is `p`: one logit
    /// log(p (v - 1) / (1 - p)), the rest 0.
    func logits(topProbability p: Double, vocabulary: Int = 12) -> [Float] {
        [Float(log(p * Double(vocabulary - 1) / (1 - p)))] + [Float](repeating: 0, count: vocabulary - 1)
    }

    /// A known sequence of candidates' top probabilities: each decision equals p >= p_min; the
    /// policy neither learns from rounds nor changes its cap.
    @Test func confidenceDecisionsFollowTheRule() throws {
        let fixture = try DecodingFixture(seed: 1)
        var policy = ConfidencePolicy(minimumProbability: 0.3, gammaMax: 5)
        let sequence = [0.9, 0.31, 0.6, 0.29, 0.1, 0.3 + 1e-6, 0.3 - 1e-6, 0.99, 0.12]
        for (step, p) in sequence.enumerated() {
            let values = logits(topProbability: p)
            values.withUnsafeBufferPointer { buffer in
                let actual = topProbability(buffer)
                let keep = policy.keepsDraft(position: step % 5 + 1, logits: buffer, drafter: fixture.secondary)
                #expect(keep == (actual >= 0.3), "step \(step): top probability \(actual), p_min 0.3, keep \(keep)")
                #expect(abs(actual - p) < 1e-6, "step \(step): built \(p), got \(actual)")
            }
            policy.update(drafted: step % 3, accepted: step % 2)
            #expect(policy.maxDrafts == 5 && policy.gammaMax == 5)
        }
        // Two equal logits give exactly 0.5: p_min 0.5 keeps it (>=), the next float up stops.
        [Float](repeating: 1, count: 2).withUnsafeBufferPointer { buffer in
            #expect(ConfidencePolicy(minimumProbability: 0.5, gammaMax: 3)
                .keepsDraft(position: 1, logits: buffer, drafter: fixture.secondary))
            #expect(!ConfidencePolicy(minimumProbability: 0.5.nextUp, gammaMax: 3)
                .keepsDraft(position: 1, logits: buffer, drafter: fixture.secondary))
        }
    }

    /// The heuristic's length after each outcome of a known sequence, from initial 3 and
    /// gamma_max 6 (and the clamping of the initial value).
    @Test func heuristicScheduleStepByStep() {
        var policy = HeuristicPolicy(initial: 3, gammaMax: 6)
        // (drafted, accepted) -> the length expected next, by +2 on full acceptance, else -1.
        let events: [(drafted: Int, accepted: Int, next: Int)] = [
            (3, 3, 5), (5, 5, 6), (6, 6, 6), (6, 5, 5), (5, 0, 4), (4, 4, 6), (6, 2, 5),
            (0, 0, 4), // an empty round (no budget left) is not a full acceptance
            (4, 3, 3), (3, 1, 2), (2, 0, 1), (1, 0, 1), (1, 1, 3), (2, 2, 5),
        ]
        #expect(policy.maxDrafts == 3)
        for (step, event) in events.enumerated() {
            policy.update(drafted: event.drafted, accepted: event.accepted)
            let message = "step \(step): after \(event.accepted)/\(event.drafted) accepted, "
                + "length \(policy.maxDrafts), expected \(event.next)"
            #expect(policy.maxDrafts == event.next && policy.current == event.next, "\(message)")
            #expect(policy.gammaMax == 6)
        }
        #expect(HeuristicPolicy(initial: 0, gammaMax: 4).maxDrafts == 1)
        #expect(HeuristicPolicy(initial: 9, gammaMax: 4).maxDrafts == 4)
    }

    /// In the decoding loop: each round's cap is the heuristic rule applied to the previous
    /// round's outcome, the round drafts min(cap, budget) tokens; with confidence, each round
    /// drafts exactly the candidates before the first whose top probability is below p_min.
    @Test(arguments: [false, true])
    func policiesDriveTheDecodingLoop(tandem: Bool) throws {
        let fixture = try DecodingFixture(seed: 1)
        let prompt = [5, 2, 9], count = 150
        let expected = fixture.primaryGreedy(prompt, count)

        var heuristic = fixture.speculative(tandem: tandem, policy: RecordingPolicy(HeuristicPolicy(initial: 2,
                                                                                                     gammaMax: 7)),
                                            rule: GreedyAcceptance())
        #expect(heuristic.generate(prompt: prompt, maxTokens: count) == expected)
        let heuristicRounds = try #require(heuristic.policy as? RecordingPolicy).rounds
        var cap = 2, grew = 0, shrank = 0, generated = 1 // the prefill's token
        for (index, round) in heuristicRounds.enumerated() {
            let budget = min(cap, count - generated - 1) // tokens still wanted, minus the primary's own
            #expect(round.maxDrafts == cap, "round \(index): cap \(round.maxDrafts), rule says \(cap)")
            #expect(round.drafted == budget, "round \(index): drafted \(round.drafted), cap \(cap), budget \(budget)")
            generated += round.accepted + 1
            let next = round.drafted > 0 && round.accepted == round.drafted ? min(cap + 2, 7) : max(1, cap - 1)
            if next > cap { grew += 1 } else if next < cap { shrank += 1 }
            cap = next
        }
        #expect(grew > 0 && shrank > 0, "the schedule grew \(grew) and shrank \(shrank) times")

        let recording = RecordingPolicy(ConfidencePolicy(minimumProbability: 0.45, gammaMax: 5)) { logits, _ in
            topProbability(logits)
        }
        var confidence = fixture.speculative(tandem: tandem, policy: recording, rule: GreedyAcceptance())
        #expect(confidence.generate(prompt: prompt, maxTokens: count) == expected)
        let rounds = try #require(confidence.policy as? RecordingPolicy).rounds
        var stopped = 0, full = 0
        for (index, round) in rounds.enumerated() {
            let leading = round.decisions.prefix { $0.keep }.count
            let message = "round \(index): top probabilities \(round.decisions.map(\.probe)), drafted \(round.drafted)"
            #expect(round.decisions.allSatisfy { $0.keep == ($0.probe >= 0.45) }, "\(message)")
            #expect(round.drafted == leading, "\(message)")
            if round.decisions.last?.keep == false {
                stopped += 1
                #expect(round.decisions.count == leading + 1, "drafting went on after a stop: \(message)")
            } else {
                full += 1
            }
        }
        #expect(stopped > 0 && full > 0, "rounds stopped by p_min: \(stopped), not stopped: \(full)")
    }
}
