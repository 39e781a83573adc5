import Testing
import TandemEngine

/// One thread and two threads give bit-identical logits (blocks of 1..9 tokens) and greedy
/// output: every output element, norm row and attention row of a head is computed whole by one
/// thread, so the split must not change a single rounding. Reference: the one-thread run;
/// tolerance: exact. Packed F32 and quantized passes at two threads (blocks and decode steps) run
/// as one parallel region (`forwardInRegion`), OpenBLAS ones per call: a missing barrier or a
/// wrong share shows here.
@Suite struct ThreadIdentityTests {
    static let weightForms: [(KernelBackend, WeightQuantization, String)] = [
        (.packed, .none, "packed F32"), (.openblas, .none, "OpenBLAS"),
        (.packed, .quantize(.q4_1), "Q4_1"), (.packed, .quantize(.q8_0), "Q8_0"),
    ]

    @Test(arguments: 0..<weightForms.count)
    func twoThreadsMatchOneBitForBit(form: Int) throws {
        let (backend, quantization, label) = Self.weightForms[form]
        let config = ModelConfig(vocabularySize: 64, width: 96, layerCount: 3, headCount: 6, keyValueHeadCount: 2,
                                 feedForwardWidth: 160, maxContext: 128)
        let weights = try ModelWeights.random(config: config, seed: 77)
        let one = Transformer(weights: weights, backend: backend, threads: 1, quantization: quantization)
        let two = Transformer(weights: weights, backend: backend, threads: 2, quantization: quantization)
        #expect(one.hasQuantizedMatrices == (label.first == "Q"), "\(label): quantized matrices as asked")
        let prompt = (0..<20).map { ($0 * 7 + 3) % 64 }
        for n in [1, 2, 5, 9] {
            // The path under test: packed F32 or quantized products at two threads run as one
            // parallel region, decode steps included; OpenBLAS products per call.
            #expect(two.runsInRegion(tokens: n, threads: 2) == (label != "OpenBLAS"),
                    "\(label) block of \(n): region path \(two.runsInRegion(tokens: n, threads: 2))")
            var logits: [[Float]] = []
            for model in [one, two] {
                let cache = model.makeCache(capacity: 64), state = model.makeState(maxTokens: 20, contextCapacity: 64)
                model.forward(prompt, cache: cache, state: state)
                model.forward(Array(prompt.prefix(n)), cache: cache, state: state)
                logits.append((0..<n).flatMap { Array(state.logits($0)) })
            }
            let differing = zip(logits[0], logits[1]).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(label) block of \(n): \(differing) of \(logits[0].count) logits differ")
        }
        var outputs: [[Int]] = []
        for model in [one, two] {
            var decoding = AutoregressiveDecoding(name: "primary", model: model, parameters: .greedy, seed: 0)
            outputs.append(decoding.generate(prompt: prompt, maxTokens: 30))
        }
        #expect(outputs[0] == outputs[1], "\(label): greedy outputs differ")
    }

    /// Threads and timers are settings of a run (its state), not of the shared model: one model
    /// serves, interleaved, a one-thread profiled run and a two-thread unprofiled run; the
    /// second's passes never reach the first's timers, and their logits agree bit for bit.
    @Test func settingsArePerRun() throws {
        let config = ModelConfig(vocabularySize: 64, width: 96, layerCount: 2, headCount: 6, keyValueHeadCount: 2,
                                 feedForwardWidth: 160, maxContext: 64)
        let model = Transformer(weights: try ModelWeights.random(config: config, seed: 5), backend: .packed)
        let profiler = LayerProfiler(models: [("primary", config.layerCount)])
        let profiled = model.makeState(maxTokens: 4, contextCapacity: 32,
                                       settings: ForwardSettings(threads: 1, profiler: profiler))
        let plain = model.makeState(maxTokens: 4, contextCapacity: 32, settings: ForwardSettings(threads: 2))
        let profiledCache = model.makeCache(capacity: 32), plainCache = model.makeCache(capacity: 32)
        for step in 0..<5 {
            model.forward([step, step + 1], cache: profiledCache, state: profiled)
            model.forward([step, step + 1], cache: plainCache, state: plain)
            let differing = (0..<2).flatMap { row in zip(profiled.logits(row), plain.logits(row)) }
                .filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "step \(step): \(differing) logits differ between the two runs")
            // An extra pass of the unprofiled run, rolled back: still not the profiled run's.
            model.forward([step + 2], cache: plainCache, state: plain)
            plainCache.truncate(to: plainCache.length - 1)
        }
        let head = profiler.records.filter { $0.component == .lmHead }
        #expect(head.count == 1 && head.first?.slot.calls == 5,
                "the profiled run made 5 passes; its timers saw \(head.first?.slot.calls ?? 0)")
        #expect(model.plannedThreads == 1 && plain.settings.threads == 2 && profiled.settings.threads == 1)
    }
}
