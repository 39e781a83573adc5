/// How logits become a token: temperature, then top-k, then top-p (nucleus), as llama.cpp and
/// Hugging Face order them. Temperature 0 means greedy (argmax).
public struct SamplingParameters: Equatable, Sendable, Codable {
    public var temperature: Float
    public var topK: Int      // 0 = off
    public var topP: Float    // 1 = off

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    public static let greedy = SamplingParameters()
    public var isGreedy: Bool { temperature == 0 }

    /// The distribution the sampler draws from: softmax(logits / T) restricted to the top-k
    /// tokens and to the smallest set whose mass reaches top-p, renormalized (Double, so
    /// acceptance ratios p/q of speculative sampling are exact to float precision). Greedy
    /// gives a one-hot distribution on the argmax.
    public func distribution(_ logits: UnsafeBufferPointer<Float>) -> [Double] {
        var probabilities = [Double](repeating: 0, count: logits.count)
        if isGreedy {
            probabilities[Self.argmax(logits)] = 1
            return probabilities
        }
        let maximum = Double(logits.max() ?? 0)
        var total = 0.0
        for i in 0..<logits.count {
            let p = _exp((Double(logits[i]) - maximum) / Double(temperature))
            probabilities[i] = p
            total += p
        }
        for i in 0..<probabilities.count { probabilities[i] /= total }
        guard topK > 0 || topP < 1 else { return probabilities }
        // Ties broken by index so the kept set is deterministic.
        var order = Array(0..<probabilities.count)
        order.sort { probabilities[$0] != probabilities[$1] ? probabilities[$0] > probabilities[$1] : $0 < $1 }
        var keep = topK > 0 ? min(topK, order.count) : order.count
        if topP < 1 {
            var mass = 0.0
            for (rank, index) in order.prefix(keep).enumerated() {
                mass += probabilities[index]
                if mass >= Double(topP) { keep = rank + 1; break }
            }
        }
        var kept = [Double](repeating: 0, count: probabilities.count)
        var keptMass = 0.0
        for index in order.prefix(keep) { kept[index] = probabilities[index]; keptMass += probabilities[index] }
        for i in 0..<kept.count { kept[i] /= keptMass }
        return kept
    }

    /// The first index of the largest logit.
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in 1..<logits.count where logits[i] > logits[best] { best = i }
        return best
    }
}

/// Draws tokens. Swappable: strategies take any sampler.
public protocol Sampler {
    mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int
}

/// Samples from `parameters.distribution` with an explicit seeded generator.
public struct SeededSampler: Sampler {
    public var parameters: SamplingParameters
    public var generator: SeededGenerator

    public init(parameters: SamplingParameters, seed: UInt64) {
        self.parameters = parameters
        generator = SeededGenerator(seed: seed)
    }

    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int {
        if parameters.isGreedy { return SamplingParameters.argmax(logits) }
        return Self.draw(from: parameters.distribution(logits), using: &generator)
    }

    /// Inverse-CDF draw from a distribution summing to 1 (the last nonzero index absorbs
    /// rounding).
    public static func draw(from distribution: [Double], using generator: inout SeededGenerator) -> Int {
        let u = generator.nextUnitDouble()
        var cumulative = 0.0
        var last = 0
        for (index, p) in distribution.enumerated() where p > 0 {
            cumulative += p
            last = index
            if u < cumulative { return index }
        }
        return last
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#else
import Darwin
@inline(__always) func _exp(_ x: Double) -> Double { Darwin.exp(x) }
#endif
