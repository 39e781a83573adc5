import Foundation
import TandemEngine

/// The largest |a[i] - b[i]| and where it is, for failure messages.
func worstDifference(_ a: some Collection<Float>, _ b: some Collection<Float>) -> (value: Float, index: Int) {
    precondition(a.count == b.count, "lengths \(a.count) and \(b.count) differ")
    var worst: (Float, Int) = (0, -1)
    for (index, (x, y)) in zip(a, b).enumerated() where abs(x - y) > worst.0 || x.isNaN != y.isNaN {
        worst = (x.isNaN || y.isNaN ? .infinity : abs(x - y), index)
    }
    return worst
}

/// Softmax at T = 1 in Double: the probabilities, their entropy (nats) and the token order by
/// probability, largest first, ties to the lower id (the reference of the draft policies).
func doubleSoftmax(_ logits: [Float]) -> (p: [Double], entropy: Double, order: [Int]) {
    let maximum = Double(logits.max()!)
    let exps = logits.map { exp(Double($0) - maximum) }
    let total = exps.reduce(0, +)
    let p = exps.map { $0 / total }
    let entropy = -p.reduce(0) { $1 > 0 ? $0 + $1 * log($1) : $0 }
    let order = p.indices.sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }
    return (p, entropy, order)
}

/// Tests/Fixtures, located from this source file so tests run from any working directory.
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures")

func fixture(_ name: String) -> String { fixturesDirectory.appendingPathComponent(name).path }

/// A scratch directory removed when the test ends.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tandem-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// Runs `tokens` through `model` as one block and returns the logits of every position.
func blockLogits(_ model: Transformer, _ tokens: [Int]) -> [[Float]] {
    let cache = model.makeCache(capacity: 128)
    let state = model.makeState(maxTokens: tokens.count, contextCapacity: 128)
    model.forward(tokens, cache: cache, state: state)
    return (0..<tokens.count).map { Array(state.logits($0)) }
}

/// A small random config with grouped KV heads and sizes that are not multiples of 8 or 16.
let smallConfig = ModelConfig(vocabularySize: 53, width: 40, layerCount: 3, headCount: 4,
                              keyValueHeadCount: 2, feedForwardWidth: 70, maxContext: 128)
