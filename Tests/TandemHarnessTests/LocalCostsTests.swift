import Testing
import TandemHarness

/// How a sweep point's probe becomes the costs its prediction is rescaled through (exact
/// arithmetic, so exact equality).
@Suite struct LocalCostsTests {
    /// A probe whose decode step read slow (cold after a run: 1.4x the warm step) deflated its
    /// block ratio by the same factor; ratio x its own step recovers the true verify block.
    @Test func slowProbeStepKeepsTheAbsoluteBlock() {
        let warm = 1000.0, block = 2400.0, slow = 1.4 * warm
        let probe = ProbeCosts(decodeStep: slow, blockRatio: block / slow, secondaryColdStep: 90, secondaryWarmStep: 60)
        let local = LocalCosts(probe: probe, baselineStep: 1100, stepAtProbe: warm)
        #expect(abs(local.verifyBlock - block) < 1e-9, "verify block \(local.verifyBlock), expected \(block)")
        #expect(local.decodeStep == 1100 && local.secondaryColdStep == 90 && local.secondaryWarmStep == 60)
    }

    /// A probe step faster than the warm step at its context is drift of the probe's moment:
    /// the ratio is applied to the runs' step moved to the probe's context.
    @Test func fastProbeStepUsesTheRunsStep() {
        let probe = ProbeCosts(decodeStep: 800, blockRatio: 2, secondaryColdStep: 90, secondaryWarmStep: 60)
        let local = LocalCosts(probe: probe, baselineStep: 1100, stepAtProbe: 1000)
        #expect(local.verifyBlock == 2000, "verify block \(local.verifyBlock), expected 2 x 1000")
    }
}
