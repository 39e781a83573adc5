/// Optimizer hyper-parameters: AdamW (decoupled weight decay), warm-up + cosine schedule,
/// global gradient-norm clipping.
public struct OptimizerSettings: Sendable, Equatable {
    public var learningRate: Double = 3e-3
    /// The schedule ends at learningRate * finalRatio.
    public var finalRatio: Double = 0.1
    public var warmupSteps: Int = 50
    public var weightDecay: Double = 0.1
    public var beta1: Double = 0.9
    public var beta2: Double = 0.95
    public var epsilon: Double = 1e-8
    /// Gradients are scaled so their global L2 norm is at most this (0: no clipping).
    public var clipNorm: Double = 1

    public init() {}

    /// Linear warm-up over `warmupSteps`, then cosine decay to finalRatio at `totalSteps`.
    public func learningRate(step: Int, totalSteps: Int) -> Double {
        if step < warmupSteps { return learningRate * Double(step + 1) / Double(warmupSteps) }
        let span = max(totalSteps - warmupSteps, 1)
        let progress = min(Double(step - warmupSteps) / Double(span), 1)
        let cosine = 0.5 * (1 + _cosine(Double.pi * progress))
        return learningRate * (finalRatio + (1 - finalRatio) * cosine)
    }
}

/// AdamW state: first and second moments laid out like the parameters (the blueprint's specs).
public final class AdamW {
    public let settings: OptimizerSettings
    public let firstMoment: Buffer<Float>, secondMoment: Buffer<Float>
    /// Per parameter: whether weight decay applies (matrices, not norm gains).
    let decayMask: [Bool]

    public convenience init(blueprint: TrainingBlueprint, settings: OptimizerSettings) {
        var mask = [Bool](repeating: false, count: blueprint.count)
        for spec in blueprint.specs where blueprint.decays(spec) {
            for i in spec.offset..<(spec.offset + spec.count) { mask[i] = true }
        }
        self.init(count: blueprint.count, decayMask: mask, settings: settings)
    }

    public init(count: Int, decayMask: [Bool], settings: OptimizerSettings) {
        precondition(decayMask.count == count)
        self.settings = settings
        firstMoment = Buffer(count)
        secondMoment = Buffer(count)
        self.decayMask = decayMask
    }

    /// The global L2 norm of `gradients`.
    public static func norm(_ gradients: Buffer<Float>) -> Double {
        var total = 0.0
        for i in 0..<gradients.count { total += Double(gradients[i]) * Double(gradients[i]) }
        return total.squareRoot()
    }

    /// One update at 0-based `step` with learning rate `rate`; clips `gradients` in place to
    /// `clipNorm` given their norm `gradientNorm`.
    public func update(_ parameters: Buffer<Float>, gradients: Buffer<Float>, gradientNorm: Double,
                       step: Int, rate: Double) {
        let s = settings
        let clip = s.clipNorm > 0 && gradientNorm > s.clipNorm ? Float(s.clipNorm / gradientNorm) : 1
        let beta1 = Float(s.beta1), beta2 = Float(s.beta2)
        let correction1 = Float(1 - _power(s.beta1, Double(step + 1)))
        let correction2 = Float(1 - _power(s.beta2, Double(step + 1)))
        let lr = Float(rate), decay = Float(1 - rate * s.weightDecay), epsilon = Float(s.epsilon)
        let p = parameters.pointer, g = gradients.pointer, m = firstMoment.pointer, v = secondMoment.pointer
        for i in 0..<parameters.count {
            let gradient = g[i] * clip
            m[i] = beta1 * m[i] + (1 - beta1) * gradient
            v[i] = beta2 * v[i] + (1 - beta2) * gradient * gradient
            let mHat = m[i] / correction1, vHat = v[i] / correction2
            if decayMask[i] { p[i] *= decay }
            p[i] -= lr * mHat / (vHat.squareRoot() + epsilon)
        }
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
@inline(__always) func _cosine(_ x: Double) -> Double { cos(x) }
@inline(__always) func _power(_ x: Double, _ y: Double) -> Double { pow(x, y) }
