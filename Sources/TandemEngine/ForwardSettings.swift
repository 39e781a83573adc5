/// How one run drives a model's forward passes: the threads of its products and attention
/// heads, and the per-layer timers (nil: not profiled) with the model's index in them.
///
/// Settings belong to a run and travel with its scratch state (`ForwardState.settings`), not
/// with the shared `Transformer`: a sweep's baseline and strategy runs, a profile and a probe
/// may use one model with different threads or timers without one leaking into the other.
public struct ForwardSettings {
    public var threads: Int
    public var profiler: LayerProfiler?
    public var profilerModel: Int

    public init(threads: Int = 1, profiler: LayerProfiler? = nil, profilerModel: Int = 0) {
        precondition(threads >= 1, "threads must be at least 1, got \(threads)")
        self.threads = threads
        self.profiler = profiler
        self.profilerModel = profilerModel
    }
}

/// The settings of one decoding run: one per model role (the primary; the secondary, whose
/// timers are model 1 of a shared profiler).
public struct DecodingSettings {
    public var primary: ForwardSettings
    public var secondary: ForwardSettings

    /// `threads` for both models; with `profiler`, the primary is its model 0, the secondary 1.
    public init(threads: Int, profiler: LayerProfiler? = nil) {
        primary = ForwardSettings(threads: threads, profiler: profiler, profilerModel: 0)
        secondary = ForwardSettings(threads: threads, profiler: profiler, profilerModel: 1)
    }
}
