/// A sweep point's own cost probe (medians of its samples, ns): what `CostProbe` measures
/// before and between the point's runs, and what `sweep_runs.csv` stores per run.
public struct ProbeCosts: Sendable, Equatable {
    /// The primary's decode step (one token) at the point's prompt context.
    public var decodeStep: Double
    /// The verify block (gamma + 1 tokens) over the decode step, timed back to back.
    public var blockRatio: Double
    /// The secondary's first step after a primary pass (cold) and its third consecutive (warm).
    public var secondaryColdStep: Double
    public var secondaryWarmStep: Double

    public init(decodeStep: Double, blockRatio: Double, secondaryColdStep: Double, secondaryWarmStep: Double) {
        self.decodeStep = decodeStep
        self.blockRatio = blockRatio
        self.secondaryColdStep = secondaryColdStep
        self.secondaryWarmStep = secondaryWarmStep
    }

    var isValid: Bool {
        [decodeStep, blockRatio, secondaryColdStep, secondaryWarmStep].allSatisfy { $0 > 0 && $0.isFinite }
    }
}

/// The costs a prediction rescales its calibrated curves through, from a probe and the point's
/// own primary-alone runs.
public struct LocalCosts: Sendable, Equatable {
    /// The primary's decode step at the runs' mean context (from the primary-alone runs).
    public var decodeStep: Double
    /// The verify block of gamma + 1 tokens at the probe's context, absolute.
    public var verifyBlock: Double
    public var secondaryColdStep: Double
    public var secondaryWarmStep: Double

    /// `baselineStep`: the primary-alone runs' step (their mean context); `stepAtProbe`: that
    /// step moved to the probe's context by the fitted attention term. The verify block is the
    /// probe's ratio times its own decode step, but never less than `stepAtProbe`: a probe step
    /// that reads slow (the first pass after a run, on a cache-resident primary) deflates the
    /// ratio by as much as it inflates itself, so their product stays right; a probe step
    /// that reads fast is drift, and the warm step at that context is the better base.
    public init(probe: ProbeCosts, baselineStep: Double, stepAtProbe: Double) {
        decodeStep = baselineStep
        verifyBlock = probe.blockRatio * max(probe.decodeStep, stepAtProbe)
        secondaryColdStep = probe.secondaryColdStep
        secondaryWarmStep = probe.secondaryWarmStep
    }

    var isValid: Bool {
        [decodeStep, verifyBlock, secondaryColdStep, secondaryWarmStep].allSatisfy { $0 > 0 && $0.isFinite }
    }
}
