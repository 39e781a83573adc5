import Testing
import TandemEngine
import TandemTraining

/// The router MLP: backward against central finite differences (float64), the training
/// forward against the engine's `Router.predict`, and training recovers a learnable rule.
@Suite struct RouterTrainingTests {
    @Test func backwardMatchesFiniteDifferences() {
        let shape = RouterOps.Shape(inputs: 7, hidden: 5), rows = 4
        let x = randomBuffer(rows * shape.inputs, seed: 1), p = randomBuffer(shape.count, seed: 2)
        let dOut = randomBuffer(rows, seed: 3)
        let z = Buffer<Double>(rows * shape.hidden), out = Buffer<Double>(rows)
        func loss() -> Double {
            RouterOps.forward(x.pointer, rows: rows, p.pointer, shape: shape, preActivation: z.pointer, out.pointer)
            return weightedSum(out, dOut)
        }
        _ = loss()
        let gradients = Buffer<Double>(shape.count), scratch = Buffer<Double>(rows * shape.hidden)
        RouterOps.backward(x.pointer, rows: rows, p.pointer, shape: shape, preActivation: z.pointer, dOut.pointer,
                           gradients: gradients.pointer, scratch: scratch.pointer)
        let worst = worstRelativeDifference(analytic: gradients, numeric: numericGradient(p, loss))
        #expect(worst.value <= gradientTolerance, "router: worst \(worst.value) at \(worst.index)")
    }

    /// Tolerance 1e-5 on probabilities (float32 on both sides, different summation order).
    @Test func forwardMatchesTheEngine() {
        let router = Router.random(topK: 3, hiddenWidth: 6, embeddingWidth: 4, seed: 4, outputBias: 0.5)
        let shape = RouterOps.Shape(inputs: router.inputWidth, hidden: router.hiddenWidth)
        let x = Buffer<Float>(2 * shape.inputs)
        var generator = SeededGenerator(seed: 5)
        for i in 0..<x.count { x[i] = 2 * generator.nextUnitFloat() - 1 }
        let z = Buffer<Float>(2 * shape.hidden), out = Buffer<Float>(2)
        RouterOps.forward(x.pointer, rows: 2, router.storage, shape: shape, preActivation: z.pointer, out.pointer)
        for row in 0..<2 {
            let engine = router.predict(features: x.pointer + row * shape.inputs)
            let training = 1 / (1 + Float.exponential(-out[row]))
            #expect(abs(engine - training) <= 1e-5, "row \(row): engine \(engine), training \(training)")
        }
    }

    /// Labels sigmoid(3 x0 - 1) of the first feature: the trained router's mean absolute error
    /// falls below 0.05 (an untrained one is far off).
    @Test func trainingRecoversARule() {
        let router = Router.random(topK: 2, hiddenWidth: 16, embeddingWidth: 3, seed: 6, outputBias: 0)
        var data = RouterDataset(inputWidth: router.inputWidth)
        var generator = SeededGenerator(seed: 7)
        func label(_ x0: Float) -> Float { 1 / (1 + Float.exponential(-(3 * x0 - 1))) }
        for _ in 0..<2000 {
            let row = (0..<router.inputWidth).map { _ in 2 * generator.nextUnitFloat() - 1 }
            data.features += row
            data.labels.append(label(row[0]))
            data.greedyAccepted.append(row[0] > 0)
        }
        func meanError() -> Float {
            var total: Float = 0
            for i in 0..<200 {
                let prediction = data.features.withUnsafeBufferPointer {
                    router.predict(features: $0.baseAddress! + i * router.inputWidth)
                }
                total += abs(prediction - data.labels[i])
            }
            return total / 200
        }
        let before = meanError()
        _ = RouterTrainer.train(router, on: data, steps: 400, batch: 64, learningRate: 1e-2, seed: 8)
        let after = meanError()
        #expect(after < 0.05 && after < before / 2, "mean |prediction - label| \(before) -> \(after)")
    }
}
