/// The outcome of verifying one draft token against the primary.
public enum Verdict: Equatable, Sendable {
    case accept
    /// Rejected: commit `correction` instead and stop the round.
    case reject(correction: Int)
}

/// How a draft is judged against the primary's logits at its position. Swappable: greedy,
/// speculative sampling, the simulation oracle, or (in tests) a deliberately wrong rule.
public protocol AcceptanceRule {
    /// Judges draft `token`, drawn from `draftDistribution` (q), at draft position `position`
    /// (0-based) against the primary's logits there.
    mutating func verify(token: Int, draftDistribution: [Double], primaryLogits: UnsafeBufferPointer<Float>,
                         position: Int) -> Verdict
    /// The primary's own token where it is not judging a draft (after the prompt, and the bonus
    /// token after a fully accepted round).
    mutating func primaryToken(primaryLogits: UnsafeBufferPointer<Float>) -> Int
}

/// Lossless greedy: accept iff the draft is the primary's argmax; otherwise commit the argmax.
public struct GreedyAcceptance: AcceptanceRule {
    public init() {}

    public mutating func verify(token: Int, draftDistribution: [Double], primaryLogits: UnsafeBufferPointer<Float>,
                                position: Int) -> Verdict {
        let best = SamplingParameters.argmax(primaryLogits)
        return token == best ? .accept : .reject(correction: best)
    }

    public mutating func primaryToken(primaryLogits: UnsafeBufferPointer<Float>) -> Int {
        SamplingParameters.argmax(primaryLogits)
    }
}

/// Lossless speculative sampling (Leviathan et al. 2023, Chen et al. 2023): accept with
/// probability min(1, p(x)/q(x)); on rejection draw from norm(max(0, p - q)). The same
/// temperature, top-k and top-p shape p here and q in the drafter, so the output has exactly
/// the primary's (filtered) distribution.
public struct SpeculativeSampling: AcceptanceRule {
    public var parameters: SamplingParameters
    public var generator: SeededGenerator

    public init(parameters: SamplingParameters, seed: UInt64) {
        self.parameters = parameters
        generator = SeededGenerator(seed: seed)
    }

    public mutating func verify(token: Int, draftDistribution q: [Double], primaryLogits: UnsafeBufferPointer<Float>,
                                position: Int) -> Verdict {
        let p = parameters.distribution(primaryLogits)
        if q[token] > 0, generator.nextUnitDouble() < min(1, p[token] / q[token]) { return .accept }
        var residual = zip(p, q).map { max(0, $0 - $1) }
        let mass = residual.reduce(0, +)
        // p == q leaves no residual mass; the rejection then had probability 0 except by rounding.
        if mass <= 0 { return .reject(correction: SeededSampler.draw(from: p, using: &generator)) }
        for i in residual.indices { residual[i] /= mass }
        return .reject(correction: SeededSampler.draw(from: residual, using: &generator))
    }

    public mutating func primaryToken(primaryLogits: UnsafeBufferPointer<Float>) -> Int {
        SeededSampler.draw(from: parameters.distribution(primaryLogits), using: &generator)
    }
}

/// Simulation: draft position k is accepted with probability alpha_k from a seeded generator,
/// whatever the models say; every forward pass still runs, so timing is real. Rejections and
/// bonus tokens are the primary's own choice (argmax, or a draw at temperature > 0).
///
/// `independent` draws a fresh uniform per decision. `stratified` (quasi-Monte Carlo) gives
/// position k a Kronecker sequence u_j = frac(o_k + j / phi) over its j-th decision, from a seeded
/// random offset o_k: every decision is still accepted with probability alpha_k (u_j is uniform
/// over the offset, and independent of the other positions' decisions), but the share accepted
/// at each position stays within a few decisions of alpha_k instead of wandering by sqrt(n), so
/// a short run's acceptance is the nominal one and its speedup the expected one. Positions past
/// the 64th (gamma > 64, which scenarios refuse) draw independently.
public struct OracleAcceptance: AcceptanceRule {
    /// How the decisions' uniforms are drawn.
    public enum Sampling: String, CaseIterable, Sendable {
        case independent, stratified
    }

    /// alpha per draft position; the last value repeats for later positions.
    public var alphas: [Double]
    public var parameters: SamplingParameters
    public var generator: SeededGenerator
    public let sampling: Sampling
    // stratified: per position, the sequence's offset and the decisions made so far
    private var offsets: [Double] = []
    private var decisions: [Int] = []
    private static let inverseGoldenRatio = 0.618_033_988_749_894_9

    public init(alphas: [Double], parameters: SamplingParameters, seed: UInt64, sampling: Sampling) {
        precondition(!alphas.isEmpty && alphas.allSatisfy { (0...1).contains($0) }, "oracle alphas must lie in [0, 1]")
        self.alphas = alphas
        self.parameters = parameters
        self.sampling = sampling
        generator = SeededGenerator(seed: seed)
        if sampling == .stratified {
            // Offsets come from their own stream, so temperature draws stay those of `independent`.
            var offsetGenerator = SeededGenerator(seed: seed ^ 0x5DEE_CE66_D1CE_4E5B)
            offsets = (0..<64).map { _ in offsetGenerator.nextUnitDouble() }
            decisions = Array(repeating: 0, count: offsets.count)
        }
    }

    public func alpha(position: Int) -> Double { alphas[min(position, alphas.count - 1)] }

    public mutating func verify(token: Int, draftDistribution: [Double], primaryLogits: UnsafeBufferPointer<Float>,
                                position: Int) -> Verdict {
        uniform(position: position) < alpha(position: position)
            ? .accept : .reject(correction: primaryToken(primaryLogits: primaryLogits))
    }

    private mutating func uniform(position: Int) -> Double {
        guard sampling == .stratified, position < offsets.count else { return generator.nextUnitDouble() }
        let u = offsets[position] + Double(decisions[position]) * Self.inverseGoldenRatio
        decisions[position] += 1
        return u - u.rounded(.down)
    }

    public mutating func primaryToken(primaryLogits: UnsafeBufferPointer<Float>) -> Int {
        parameters.isGreedy ? SamplingParameters.argmax(primaryLogits)
            : SeededSampler.draw(from: parameters.distribution(primaryLogits), using: &generator)
    }
}
