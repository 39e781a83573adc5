import Dispatch

/// What a decoding strategy is doing when time is spent.
public enum Phase: Int, CaseIterable, Sendable {
    case prefill, decode, draft, verify, commit
    public var name: String { ["prefill", "decode", "draft", "verify", "commit"][rawValue] }
}

/// Where time goes inside a model (or around it).
public enum Component: Int, CaseIterable, Sendable {
    case embedding
    case norm                // RMS norms (a block's at 2+ threads run inside the next product, timed there)
    case attentionProjection // q, k, v and output products
    case attentionScores     // rotary, cache writes, scores, softmax, values
    case feedForward         // gate/up products, SwiGLU, down product
    case tandemProjection    // P_j x and the secondary's K/V of it
    case lmHead
    case sampling            // distributions, draws, acceptance decisions
    case cache               // truncation and rollback bookkeeping

    /// The snake_case name used in CSV files.
    public var name: String {
        ["embedding", "norm", "attention_projection", "attention_scores", "feed_forward",
         "tandem_projection", "lm_head", "sampling", "cache"][rawValue]
    }
}

/// Per model, phase, layer and component: total nanoseconds, calls and tokens, from the
/// monotonic clock. Laps: each `lap` charges the time since the previous mark to one slot, so a
/// forward pass costs one clock read per component. Disabled profilers cost one branch.
public final class LayerProfiler: @unchecked Sendable {
    public struct Slot: Sendable { public var nanoseconds: UInt64 = 0; public var calls = 0; public var tokens = 0 }

    public let modelNames: [String]
    let layerCounts: [Int]
    public var enabled = true
    /// The phase charged by laps; strategies set it.
    public var phase: Phase = .prefill
    private var slots: [Slot]
    private var last: UInt64 = 0
    private let layerStride: Int
    private static let phases = Phase.allCases.count, components = Component.allCases.count

    /// `models`: (name, layer count) of every model that will report to this profiler.
    public init(models: [(name: String, layers: Int)]) {
        modelNames = models.map(\.name)
        layerCounts = models.map(\.layers)
        layerStride = (models.map(\.layers).max() ?? 0) + 1 // slot 0 = outside any layer
        slots = Array(repeating: Slot(), count: models.count * Self.phases * layerStride * Self.components)
    }

    @inline(__always)
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Starts timing from now (the next lap measures from here).
    @inline(__always)
    public func mark() { if enabled { last = Self.now() } }

    /// Charges the time since the last mark to (model, current phase, layer, component);
    /// `layer` -1 means outside any layer.
    @inline(__always)
    public func lap(model: Int, layer: Int, _ component: Component, tokens: Int) {
        guard enabled else { return }
        let time = Self.now()
        let index = ((model * Self.phases + phase.rawValue) * layerStride + layer + 1) * Self.components
            + component.rawValue
        slots[index].nanoseconds &+= time &- last
        slots[index].calls += 1
        slots[index].tokens += tokens
        last = time
    }

    public func reset() { for i in slots.indices { slots[i] = Slot() } }

    /// Every nonempty slot.
    public var records: [(model: String, phase: Phase, layer: Int?, component: Component, slot: Slot)] {
        var result: [(String, Phase, Int?, Component, Slot)] = []
        for (m, name) in modelNames.enumerated() {
            for (p, phase) in Phase.allCases.enumerated() {
                for layer in -1..<layerCounts[m] {
                    for (c, component) in Component.allCases.enumerated() {
                        let slot = slots[((m * Self.phases + p) * layerStride + layer + 1) * Self.components + c]
                        if slot.calls > 0 { result.append((name, phase, layer < 0 ? nil : layer, component, slot)) }
                    }
                }
            }
        }
        return result
    }

    /// Total nanoseconds per phase over all models.
    public var nanosecondsByPhase: [Phase: UInt64] {
        var totals: [Phase: UInt64] = [:]
        for record in records { totals[record.phase, default: 0] += record.slot.nanoseconds }
        return totals
    }
}
