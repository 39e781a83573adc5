/// The training losses on logits: cross-entropy against the next token and distillation
/// (cross-entropy against the primary's soft targets), mixed with weights, mean over rows.
public struct LossWeights: Sendable, Equatable {
    public var hard: Double
    public var soft: Double
    public init(hard: Double, soft: Double) { self.hard = hard; self.soft = soft }
    public static let crossEntropy = LossWeights(hard: 1, soft: 0)
    /// The paper's Tandem-Distil stage 2: 0.5 CE(ground truth) + 0.5 CE(primary logits).
    public static let distillation = LossWeights(hard: 0.5, soft: 0.5)
}

/// Sums of one batch's per-row quantities (divide by `rows` for means).
public struct LossTotals: Sendable {
    public var rows = 0
    /// Sum of -log q(target).
    public var crossEntropy: Double = 0
    /// Sum of -sum_v p(v) log q(v) (0 without soft targets).
    public var distillation: Double = 0
    /// Rows whose argmax is the target.
    public var correct = 0
    /// The objective actually minimised: (hard CE + soft distillation) / rows.
    public var objective: Double = 0

    public init() {}
    public var meanCrossEntropy: Double { crossEntropy / Double(max(rows, 1)) }
    public var accuracy: Double { Double(correct) / Double(max(rows, 1)) }
}

public enum LossOps {
    // loss = mean_rows(hard * -log q[target] + soft * -sum p log q), q = softmax(logits[rows x V]);
    // dLogits[rows x V] = d loss / d logits (written); softTargets [rows x V] probabilities or nil
    public static func forwardBackward<S: TrainingScalar>(
        _ logits: UnsafePointer<S>, rows: Int, vocabulary V: Int, targets: UnsafePointer<Int32>,
        softTargets: UnsafePointer<S>?, weights: LossWeights, dLogits: UnsafeMutablePointer<S>?
    ) -> LossTotals {
        var totals = LossTotals()
        totals.rows = rows
        let inverseRows = 1 / S(rows), hard = S(weights.hard), soft = S(weights.soft)
        for row in 0..<rows {
            let z = logits + row * V, target = Int(targets[row])
            var maximum = z[0], best = 0
            for v in 1..<V where z[v] > maximum { maximum = z[v]; best = v }
            var total: S = 0
            for v in 0..<V { total += S.exponential(z[v] - maximum) }
            let logTotal = S.logarithm(total) + maximum // log sum exp
            let crossEntropy = logTotal - z[target]
            totals.crossEntropy += Double(crossEntropy)
            if best == target { totals.correct += 1 }
            var distillation: S = 0
            if let softTargets {
                let p = softTargets + row * V
                for v in 0..<V where p[v] > 0 { distillation += p[v] * (logTotal - z[v]) }
                totals.distillation += Double(distillation)
            }
            totals.objective += Double(hard * crossEntropy + soft * distillation)
            guard let dLogits else { continue }
            let g = dLogits + row * V
            // d/dz of CE = q - onehot; of soft CE = q - p (p sums to 1)
            let mass = hard + (softTargets == nil ? 0 : soft)
            for v in 0..<V { g[v] = S.exponential(z[v] - logTotal) * mass * inverseRows }
            g[target] -= hard * inverseRows
            if let softTargets {
                let p = softTargets + row * V
                for v in 0..<V { g[v] -= soft * p[v] * inverseRows }
            }
        }
        totals.objective /= Double(max(rows, 1))
        return totals
    }

    // probabilities[rows x V] = softmax(logits[rows x V])
    public static func softmax<S: TrainingScalar>(_ logits: UnsafePointer<S>, rows: Int, vocabulary V: Int,
                                                  into probabilities: UnsafeMutablePointer<S>) {
        for row in 0..<rows {
            let z = logits + row * V, p = probabilities + row * V
            var maximum = z[0]
            for v in 1..<V { maximum = max(maximum, z[v]) }
            var total: S = 0
            for v in 0..<V { p[v] = S.exponential(z[v] - maximum); total += p[v] }
            let inverse = 1 / total
            for v in 0..<V { p[v] *= inverse }
        }
    }

    /// How a secondary's next-token distribution q compares with the primary's p at one
    /// position: TV distance 0.5 sum |p - q| and whether their argmaxes agree (ties to the
    /// lower token). `scratch` holds 2 V values.
    public static func compare<S: TrainingScalar>(primary: UnsafePointer<S>, secondary: UnsafePointer<S>,
                                                  vocabulary V: Int, scratch: UnsafeMutablePointer<S>)
        -> (tvDistance: S, argmaxAgrees: Bool) {
        let p = scratch, q = scratch + V
        softmax(primary, rows: 1, vocabulary: V, into: p)
        softmax(secondary, rows: 1, vocabulary: V, into: q)
        var distance: S = 0, bestP = 0, bestQ = 0
        for v in 0..<V {
            distance += abs(p[v] - q[v])
            if p[v] > p[bestP] { bestP = v }
            if q[v] > q[bestQ] { bestQ = v }
        }
        return (distance / 2, bestP == bestQ)
    }
}
