import TandemEngine
import TandemTraining

/// Central finite differences in double precision: for every index of `values`,
/// (loss(v + h) - loss(v - h)) / 2h, restoring the value afterwards.
func numericGradient(_ values: Buffer<Double>, step: Double = 1e-5, indices: [Int]? = nil,
                     _ loss: () -> Double) -> [Int: Double] {
    var result: [Int: Double] = [:]
    for i in indices ?? Array(0..<values.count) {
        let saved = values[i]
        values[i] = saved + step
        let plus = loss()
        values[i] = saved - step
        let minus = loss()
        values[i] = saved
        result[i] = (plus - minus) / (2 * step)
    }
    return result
}

/// The worst relative difference |a - n| / max(1, |n|) between analytic and numeric gradients.
func worstRelativeDifference(analytic: Buffer<Double>, numeric: [Int: Double]) -> (value: Double, index: Int) {
    var worst = (0.0, -1)
    for (i, n) in numeric {
        let difference = abs(analytic[i] - n) / max(1, abs(n))
        if difference > worst.0 || difference.isNaN { worst = (difference.isNaN ? .infinity : difference, i) }
    }
    return worst
}

/// A buffer of seeded uniform values in [-scale, scale].
func randomBuffer(_ count: Int, seed: UInt64, scale: Double = 1) -> Buffer<Double> {
    var generator = SeededGenerator(seed: seed)
    let buffer = Buffer<Double>(count)
    for i in 0..<count { buffer[i] = (2 * generator.nextUnitDouble() - 1) * scale }
    return buffer
}

/// sum(out * dOut), the scalar whose gradient a backward pass given dOut computes.
func weightedSum(_ out: Buffer<Double>, _ dOut: Buffer<Double>) -> Double {
    (0..<out.count).reduce(0) { $0 + out[$1] * dOut[$1] }
}

/// Gradient-check tolerance: relative 1e-6 (float64, step 1e-5: truncation ~1e-10, rounding ~1e-11).
let gradientTolerance = 1e-6
