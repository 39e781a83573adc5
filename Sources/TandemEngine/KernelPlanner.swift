import Dispatch
import CPrefetch

/// Chooses, per weight shape and block size, between the packed skinny kernel and OpenBLAS by
/// timing both on the model's own matrices (all layers of a shape in turn; for a model that
/// streams its weights from DRAM, blocks of 1-6 rows after evicting the cache, so a role that
/// would fit the cache alone is timed as a real pass reads it). The fastest of a few repeats
/// decides.
struct KernelPlanner {
    var threads: Int
    var repeats = 3

    func plan(layers: [LayerLinears], head: Linear) {
        // Quantized layers use their own kernel at every block size: nothing to choose.
        let roles: [[Linear]] = [layers.map(\.queryKeyValue), layers.map(\.output),
                                 layers.map(\.gateUp), layers.map(\.down), [head]]
            .map { $0.filter { $0.packed != nil } }.filter { !$0.isEmpty }
        let maxTokens = Linear.maxPackedTokens
        let maxWidth = roles.flatMap { $0 }.map { max($0.inputs, $0.outputs) }.max() ?? 1
        let x = UnsafeMutablePointer<Float>.allocate(capacity: maxTokens * maxWidth)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: maxTokens * maxWidth)
        defer { x.deallocate(); y.deallocate() }
        for i in 0..<(maxTokens * maxWidth) { x[i] = Float(i % 7) * 0.25 - 0.75 }
        // packedBest[role][n - 1], blasBest[role][n - 1]: the fastest of `repeats` passes. Every
        // packed timing comes before any OpenBLAS call: OpenBLAS's threads busy-wait for a while
        // after each call, and with several threads they would slow the packed kernel timed next
        // (that bias once handed n = 1 to OpenBLAS at two threads, and made decoding 1.4x slower).
        // A streaming model reads every matrix from DRAM in a pass, but a role's matrices timed
        // alone may fit the last-level cache (P150's attn_output): its blocks of 1-6 rows are
        // timed after evicting the cache, or the streaming loop loses to sgemv on resident weights
        // that a real pass never has (which sent attn_output and lm_head at n = 1-2 to OpenBLAS and
        // made a decode step 5-25% slower). Blocks of 7-32 rows stay warm (compute-bound there).
        // Each eviction reads 2x the last-level cache (64 MB here): up to 180 of them, about a
        // second of planning.
        let streaming = roles.joined().contains { $0.loop == .streaming }
        let evictor = streaming ? CacheEvictor(bytes: 2 * CacheHierarchy.lastLevelBytes) : nil
        func best(_ product: (Linear, Int) -> Void) -> [[UInt64]] {
            roles.map { linears in
                (1...maxTokens).map { tokens in
                    (0..<repeats).map { _ in
                        if tokens <= SkinnyKernel.maxRows { evictor?.evict() }
                        return time { for linear in linears { product(linear, tokens) } }
                    }.min()!
                }
            }
        }
        let packedBest = best { linear, tokens in
            linear.packed!.multiply(x, xStride: linear.inputs, tokens: tokens, into: y, yStride: linear.outputs,
                                    accumulate: false, threads: threads, loop: linear.loop)
        }
        let blasBest = best { linear, tokens in
            linear.applyBLAS(x, xStride: linear.inputs, tokens: tokens, into: y, yStride: linear.outputs,
                             accumulate: false)
        }
        // Near-ties go to the packed kernel: noise should not flip a shape to OpenBLAS, whose sgemm
        // repacks the weights on every call (3% margin). With several threads the margin is 10%:
        // inside a forward pass OpenBLAS's busy-waiting threads take cores from the worker pool's
        // next products, a cost this per-shape timing does not see.
        let margin = threads > 1 ? 1.10 : 1.03
        for (role, linears) in roles.enumerated() {
            for tokens in 1...maxTokens {
                let packed = Double(packedBest[role][tokens - 1]), blas = Double(blasBest[role][tokens - 1])
                for linear in linears { linear.usePacked[tokens - 1] = packed <= blas * margin }
            }
        }
    }

    /// Reads a buffer larger than the last-level cache, so the next timing finds the weights in DRAM.
    final class CacheEvictor {
        let buffer: UnsafeMutablePointer<SIMD8<Float>>, count: Int

        init(bytes: Int) {
            count = max(bytes / 32, 1)
            buffer = .allocate(capacity: count)
            buffer.initialize(repeating: SIMD8(repeating: 1), count: count)
        }

        deinit { buffer.deallocate() }

        func evict() {
            var sum = SIMD8<Float>()
            for i in 0..<count { sum += buffer[i] }
            tandem_keep(sum.sum()) // the sum is otherwise dead, and so would the scan be
        }
    }

    private func time(_ body: () -> Void) -> UInt64 {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return DispatchTime.now().uptimeNanoseconds - start
    }
}

extension Transformer {
    /// The packed kernel's loop for blocks of 1-6 rows (nil when no matrix is packed F32).
    public var skinnyLoop: SkinnyLoop? {
        ([head] + layers.flatMap(\.all)).first { $0.packed != nil }?.loop
    }

    /// The kernel chosen for each weight shape and block size: role -> "P" (packed) or "B"
    /// (OpenBLAS) per n = 1...maxPackedTokens, for reports.
    public var kernelPlan: [(role: String, choices: String)] {
        guard let layer = layers.first else { return [] }
        let roles = [("qkv", layer.queryKeyValue), ("attn_output", layer.output), ("gate_up", layer.gateUp),
                     ("down", layer.down), ("lm_head", head)]
        return roles.map { name, linear in
            if let quantized = linear.quantized { return (name, quantized.type.name + " " + quantized.kernel.rawValue) }
            return (name, linear.packed == nil ? "openblas" : String(linear.usePacked.map { $0 ? "P" : "B" }))
        }
    }

}
