import Testing
import TandemEngine

/// The transformer against the independent numpy float64 reference in
/// Tests/Fixtures/make_reference.py (fixtures committed beside it).
@Suite struct ReferenceTests {
    /// Logits and the residual stream after every layer, full-sequence forward; tolerance
    /// 2e-4 absolute (float32 engine vs float64 reference, logits of magnitude up to ~14).
    @Test(arguments: ["tiny_gqa", "tiny_tied"], [KernelBackend.packed, .openblas, .auto])
    func forwardMatchesNumpy(name: String, backend: KernelBackend) throws {
        let weights = try ModelWeights.load(path: fixture("\(name).safetensors"))
        let (expected, _) = try Safetensors.read(path: fixture("\(name).expected.safetensors"))
        let tokens = expected["tokens"]!.values.map { Int($0) }
        let model = Transformer(weights: weights, backend: backend, threads: 1)
        let state = model.makeState(maxTokens: tokens.count, contextCapacity: 64)
        for point in 1...weights.config.layerCount { state.capture(point: point) }
        model.forward(tokens, cache: model.makeCache(capacity: 64), state: state)

        let logits = (0..<tokens.count).flatMap { Array(state.logits($0)) }
        let worst = worstDifference(logits, expected["logits"]!.values)
        #expect(worst.value <= 2e-4, "\(name) \(backend): logits worst |diff| \(worst.value) at \(worst.index)")
        for point in 1...weights.config.layerCount {
            let hidden = (0..<tokens.count).flatMap { Array(state.hidden(point: point, row: $0)) }
            let worstHidden = worstDifference(hidden, expected["hidden.\(point)"]!.values)
            #expect(worstHidden.value <= 2e-4,
                    "\(name) \(backend): hidden after layer \(point) worst |diff| \(worstHidden.value)")
        }
    }
}
