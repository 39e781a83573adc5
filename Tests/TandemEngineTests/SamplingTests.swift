import Testing
import TandemEngine

@Suite struct SamplingTests {
    let logits: [Float] = [0.5, 2.0, -1.0, 1.5, 2.0, 0.0, -3.0, 1.0]

    /// The same seed draws the same sequence; a different seed a different one.
    @Test func samplingIsReproduciblePerSeed() {
        let parameters = SamplingParameters(temperature: 0.9, topK: 6, topP: 0.95)
        func draws(_ seed: UInt64) -> [Int] {
            var sampler = SeededSampler(parameters: parameters, seed: seed)
            return logits.withUnsafeBufferPointer { buffer in (0..<200).map { _ in sampler.sample(buffer) } }
        }
        #expect(draws(11) == draws(11))
        #expect(draws(11) != draws(12))
    }

    /// Greedy returns the first maximal logit.
    @Test func greedyIsArgmax() {
        var sampler = SeededSampler(parameters: .greedy, seed: 0)
        #expect(logits.withUnsafeBufferPointer { sampler.sample($0) } == 1)
    }

    /// Top-k keeps exactly k tokens, top-p the smallest prefix reaching p, both renormalized;
    /// temperature scales the logits (reference: direct softmax in Double, tolerance 1e-12).
    @Test func filtersKeepTheRightTokens() {
        logits.withUnsafeBufferPointer { buffer in
            let topK = SamplingParameters(temperature: 1, topK: 3).distribution(buffer)
            #expect(Set(topK.indices.filter { topK[$0] > 0 }) == [1, 3, 4])
            #expect(abs(topK.reduce(0, +) - 1) < 1e-12)
            let full = SamplingParameters(temperature: 0.5).distribution(buffer)
            let reference = logits.map { exp(Double($0) / 0.5) }
            let total = reference.reduce(0, +)
            #expect(zip(full, reference).allSatisfy { abs($0 - $1 / total) < 1e-12 })
            // Masses at T=1: tokens 1 and 4 hold about 0.27 each, 3 about 0.16: p = 0.6 keeps those three.
            let nucleus = SamplingParameters(temperature: 1, topP: 0.6).distribution(buffer)
            #expect(Set(nucleus.indices.filter { nucleus[$0] > 0 }) == [1, 3, 4])
        }
    }

    /// Draws follow the distribution: 40,000 draws, each frequency within 5 standard errors.
    @Test func drawsFollowTheDistribution() {
        let parameters = SamplingParameters(temperature: 1)
        let distribution = logits.withUnsafeBufferPointer { parameters.distribution($0) }
        var generator = SeededGenerator(seed: 5)
        var counts = [Int](repeating: 0, count: logits.count)
        let draws = 40_000
        for _ in 0..<draws { counts[SeededSampler.draw(from: distribution, using: &generator)] += 1 }
        for (index, p) in distribution.enumerated() {
            let standardError = (p * (1 - p) / Double(draws)).squareRoot()
            let observed = Double(counts[index]) / Double(draws)
            #expect(abs(observed - p) <= 5 * standardError + 1e-9,
                    "token \(index): observed \(observed), expected \(p)")
        }
    }
}

import Foundation
