import Foundation
import TandemAnalysis
import TandemEngine
import TandemReport

/// The fitted costs of a scenario's models.
public struct CalibratedCosts {
    public var primary: BlockCostFit
    public var secondaries: [String: BlockCostFit]
    /// The secondaries' first draft step of a round (cold cache).
    public var secondariesCold: [String: BlockCostFit]
    /// T_P(n) = p0 + p1 n per tandem secondary.
    public var projections: [String: LinearFit]
    /// Mean and standard error of the per-round overhead per secondary, and of the per-token
    /// overhead of the primary-alone loop.
    public var roundOverheads: [String: (mean: Double, standardError: Double)]
    public var tokenOverhead: (mean: Double, standardError: Double)
    /// Per secondary and judging policy (confidence, router): mean and standard error of judging
    /// one candidate (empty for older profiles, which then price it at 0).
    public var judgeCosts: [String: [PolicyKind: (mean: Double, standardError: Double)]]
    /// The primary-alone loop's cost per token beyond the fitted decode step, from the profile's
    /// autoregressive runs (`profile_baseline.csv`; nil for older profiles), the median over its
    /// repeats (in the `mean` slot, the central value every cost draw uses). Negative when back-to-
    /// back steps run faster than isolated ones. The a-priori prediction prices baselines with it;
    /// the probed one has the measured baselines themselves.
    public var baselineLoopOverhead: (mean: Double, standardError: Double)?
    public var limits: MachineLimits
    /// Per secondary: its draft steps timed inside real rounds (empty for older profiles, whose
    /// a-priori drafting stays one cold plus warm steps).
    public var inRoundDraftSteps: [String: InRoundDraftSteps] = [:]

    /// Costs at context `c` for `secondary` (coefficients optionally drawn from their
    /// uncertainty by `random`). With `local` (a sweep point's costs: the primary-alone runs'
    /// decode step, i.e. at context `c`; at `localContext` the verify block of gamma + 1 and the
    /// secondary's cold and warm step), each curve is
    /// rescaled so it passes through the probe: the calibrated shape, the point's machine state.
    public func roundCosts(secondary: String, context c: Int, random: RandomSource? = nil,
                           local: LocalCosts? = nil, localContext: Int = 0, gamma: Int = 1,
                           policy: PolicyKind = .fixed) -> RoundCosts {
        let measured = local?.isValid == true
        let base = roundCostsFromFits(secondary: secondary, context: c, random: random, measuredBaseline: measured,
                                      policy: policy)
        guard let local, local.isValid else { return base }
        let fitted = roundCostsFromFits(secondary: secondary, context: localContext, random: nil)
        // The decode step is the one at the runs' mean context c; the others were probed at localContext.
        let fittedHere = roundCostsFromFits(secondary: secondary, context: c, random: nil)
        let decodeScale = local.decodeStep / fittedHere.primary(1)
        let blockScale = local.verifyBlock / fitted.primary(gamma + 1)
        let warmScale = local.secondaryWarmStep / fitted.secondaryStep
        let coldScale = local.secondaryColdStep / fitted.secondaryFirstStep
        let primary = base.primary
        // Blocks up to gamma + 1 interpolate between the two primary scales.
        let scaledPrimary: @Sendable (Int) -> Double = { n in
            let t = gamma > 0 ? min(1, Double(n - 1) / Double(gamma)) : 0
            return primary(n) * (decodeScale * (1 - t) + blockScale * t)
        }
        var scaled = base // projection, overheads and judging as fitted
        scaled.primary = scaledPrimary
        scaled.secondaryStep = base.secondaryStep * warmScale
        scaled.secondaryFirstStep = base.secondaryFirstStep * coldScale
        // With steps timed inside rounds, drafting keeps their shape through the probe: step 1
        // is the probe's cold step, step k >= 2 its warm (third) step times in-round k over 3.
        if let steps = inRoundDraftSteps[secondary]?.steps.map(\.mean), steps.count >= 3, steps[2] > 0 {
            scaled.draftSteps = [scaled.secondaryFirstStep]
                + steps.dropFirst().map { scaled.secondaryStep * $0 / steps[2] }
        }
        return scaled
    }

    /// The costs of the a-priori prediction at context `c`: the fits alone, no probe, and the
    /// baseline loop's excess.
    public func priorRoundCosts(secondary: String, context c: Int, policy: PolicyKind = .fixed,
                                random: RandomSource? = nil) -> RoundCosts {
        roundCostsFromFits(secondary: secondary, context: c, random: random, policy: policy)
    }

    /// `measuredBaseline`: the caller has the sweep's measured baselines (the probed prediction),
    /// so the primary-alone loop keeps the overhead the profile measured beside its compute;
    /// otherwise (a priori) it costs the fitted step plus `baselineLoopOverhead` when known.
    func roundCostsFromFits(secondary: String, context c: Int, random: RandomSource?,
                            measuredBaseline: Bool = false, policy: PolicyKind = .fixed) -> RoundCosts {
        func curve(_ fit: BlockCostFit) -> @Sendable (Int) -> Double {
            let beta = fit.monotone(random.map { $0.coefficients(of: fit.fit) } ?? fit.fit.coefficients)
            return { n in zip(fit.basis(tokens: n, context: c), beta).reduce(0) { $0 + $1.0 * $1.1 } }
        }
        func draw(_ value: (mean: Double, standardError: Double)) -> Double {
            value.mean + (random?.gaussian(sigma: value.standardError) ?? 0)
        }
        let primaryCurve = curve(primary)
        let secondaryStep = curve(secondaries[secondary]!)(1)
        let firstStep = secondariesCold[secondary].map { curve($0)(1) }
        var projection: @Sendable (Int) -> Double = { _ in 0 }
        if let fit = projections[secondary] {
            let beta = random.map { $0.coefficients(of: fit) } ?? fit.coefficients
            projection = { n in beta[0] + beta[1] * Double(n) }
        }
        var costs = RoundCosts(primary: primaryCurve, secondaryStep: secondaryStep, secondaryFirstStep: firstStep,
                               projection: projection, roundOverhead: draw(roundOverheads[secondary] ?? (0, 0)),
                               baselineOverhead: draw(measuredBaseline ? tokenOverhead
                                                      : baselineLoopOverhead ?? tokenOverhead))
        costs.judgeStep = judgeCosts[secondary]?[policy].map(draw) ?? 0
        // A priori, drafting is priced by the steps timed inside rounds: at c itself when the
        // profiled contexts span it (each sweep context is one), else the nearest level moved to
        // c by the fitted warm step. The probed prediction has its own probe.
        if !measuredBaseline, let inRound = inRoundDraftSteps[secondary] {
            if let steps = inRound.steps(at: c) {
                costs.draftSteps = steps.map(draw)
            } else {
                let warm = secondaries[secondary]!, beta = warm.monotone(warm.fit.coefficients)
                func fittedStep(_ context: Int) -> Double {
                    zip(warm.basis(tokens: 1, context: context), beta).reduce(0) { $0 + $1.0 * $1.1 }
                }
                let nearest = inRound.nearest(to: c)
                let scale = fittedStep(c) / fittedStep(nearest.context)
                costs.draftSteps = nearest.steps.map { draw($0) * (scale.isFinite && scale > 0 ? scale : 1) }
            }
        }
        return costs
    }
}

/// Calibrate: weighted least-squares fits (GSL) of the profiled costs, written to
/// calibration.csv; per-layer statistics to layers.csv; the block-cost curve against the
/// roofline to block_cost.csv.
public enum CalibrationStage {
    public static func run(_ context: RunContext) throws -> CalibratedCosts {
        guard let samples = try context.readRecords(ProfileSample.self, ProfileStage.samplesFile),
              let overheads = try context.readRecords(ProfileOverhead.self, ProfileStage.overheadsFile),
              let limitsRecord = try context.readRecords(MachineLimitsRecord.self, ProfileStage.limitsFile)?.first
        else {
            throw ScenarioError(file: context.path(ProfileStage.samplesFile), key: "",
                                expectation: "profile results missing: run the profile stage first")
        }
        let baselineRuns = try context.readRecords(ProfileBaselineRun.self, ProfileStage.baselineFile) ?? []
        let draftSteps = try context.readRecords(ProfileDraftSteps.self, ProfileStage.draftStepsFile) ?? []
        let (costs, table) = fit(samples: samples, overheads: overheads, baselineRuns: baselineRuns,
                                 draftSteps: draftSteps, limits: limitsRecord,
                                 secondaries: context.secondaries.map(\.name))
        try context.write(table, to: "calibration.csv")
        try writeLayers(context)
        try writeBlockCost(context, primary: costs.primary, observations: observations(samples, "primary", "forward"),
                           limits: costs.limits)
        return costs
    }

    /// A finished profile directory's costs, without models (for `tandem predict --profile`):
    /// the secondaries are the profiled models other than the primary.
    public static func load(directory: String) throws -> CalibratedCosts {
        func read<Record: CSVRecord>(_ type: Record.Type, _ file: String) throws -> [Record] {
            let path = directory + "/" + file
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw CSVFormatError(file: path, line: nil, column: nil,
                                     expectation: "present: point --profile at a finished run's results directory")
            }
            return try CSVTable.records(Record.self, text: text, file: path)
        }
        let samples = try read(ProfileSample.self, ProfileStage.samplesFile)
        guard let limits = try read(MachineLimitsRecord.self, ProfileStage.limitsFile).first else {
            throw CSVFormatError(file: directory + "/" + ProfileStage.limitsFile, line: nil, column: nil,
                                 expectation: "one row")
        }
        var names: [String] = []
        for sample in samples where sample.model != "primary" && !names.contains(sample.model) {
            names.append(sample.model)
        }
        let baselinePath = directory + "/" + ProfileStage.baselineFile
        let baselineRuns = FileManager.default.fileExists(atPath: baselinePath)
            ? try read(ProfileBaselineRun.self, ProfileStage.baselineFile) : []
        let draftSteps = FileManager.default.fileExists(atPath: directory + "/" + ProfileStage.draftStepsFile)
            ? try read(ProfileDraftSteps.self, ProfileStage.draftStepsFile) : []
        return fit(samples: samples, overheads: try read(ProfileOverhead.self, ProfileStage.overheadsFile),
                   baselineRuns: baselineRuns, draftSteps: draftSteps, limits: limits, secondaries: names).costs
    }

    static func observations(_ samples: [ProfileSample], _ model: String, _ quantity: String) -> [CostObservation] {
        var cells: [String: CostObservation] = [:]
        for sample in samples where sample.model == model && sample.quantity == quantity {
            let key = "\(sample.tokens)|\(sample.context)"
            var observation = cells[key] ?? CostObservation(tokens: sample.tokens, context: sample.context, samples: [])
            observation.samples.append(sample.nanoseconds)
            cells[key] = observation
        }
        return cells.values.sorted { ($0.tokens, $0.context) < ($1.tokens, $1.context) }
    }

    /// The weighted least-squares fits of the profiled costs and their calibration table.
    static func fit(samples: [ProfileSample], overheads: [ProfileOverhead], baselineRuns: [ProfileBaselineRun] = [],
                    draftSteps: [ProfileDraftSteps] = [],
                    limits limitsRecord: MachineLimitsRecord,
                    secondaries names: [String]) -> (costs: CalibratedCosts, table: CSVTable) {
        let limits = MachineLimits(peakFlops: limitsRecord.peakGigaflops * 1e9,
                                   bandwidth: limitsRecord.dramReadGigabytesPerSecond * 1e9,
                                   threads: limitsRecord.threads)
        func observations(_ model: String, _ quantity: String) -> [CostObservation] {
            Self.observations(samples, model, quantity)
        }
        var table = CSVTable(header: ["model", "quantity", "term", "estimate_ns", "std_error_ns", "r_squared",
                                      "observations", "degrees_of_freedom"])
        func record(_ model: String, _ quantity: String, _ fit: LinearFit) {
            for (index, name) in fit.termNames.enumerated() {
                table.append([.string(model), .string(quantity), .string(name), .real(fit.coefficients[index]),
                              .real(fit.standardErrors[index]),
                              .real(fit.rSquared), .integer(fit.observations), .integer(fit.degreesOfFreedom)])
            }
        }
        let primary = BlockCostFit(observations: observations("primary", "forward"))
        record("primary", "block_forward", primary.fit)
        var secondaries: [String: BlockCostFit] = [:], secondariesCold: [String: BlockCostFit] = [:]
        var projections: [String: LinearFit] = [:]
        var roundOverheads: [String: (Double, Double)] = [:]
        for name in names {
            let fit = BlockCostFit(observations: observations(name, "forward"))
            secondaries[name] = fit
            record(name, "block_forward", fit.fit)
            let cold = observations(name, "forward_cold")
            if !cold.isEmpty {
                let coldFit = BlockCostFit(observations: cold)
                secondariesCold[name] = coldFit
                record(name, "block_forward_cold", coldFit.fit)
            }
            let projection = observations(name, "projection")
            if !projection.isEmpty {
                let fit = LinearFit(termNames: ["p0", "p1_per_token"],
                                    design: projection.map { [1, Double($0.tokens)] },
                                    values: projection.map(\.value), weights: CostObservation.weights(projection))
                projections[name] = fit
                record(name, "tandem_projection", fit)
            }
        }
        // Mean, standard error and count of one (model, quantity) of profile_overheads.csv.
        func overhead(_ model: String, _ quantity: String) -> (mean: Double, error: Double, count: Int) {
            let values = overheads.filter { $0.model == model && $0.quantity == quantity }.map(\.nanoseconds)
            guard !values.isEmpty else { return (0, 0, 0) }
            let s = Statistics.summarize(values)
            return (s.mean, s.count > 1 ? s.standardDeviation / Double(s.count).squareRoot() : 0, s.count)
        }
        func recordOverhead(_ model: String, _ quantity: String) -> (Double, Double) {
            let value = overhead(model, quantity)
            table.append([.string(model), .string(quantity), "mean", .real(value.mean), .real(value.error), "",
                          .integer(value.count), ""])
            return (value.mean, value.error)
        }
        let tokenOverhead = recordOverhead("primary", "token_overhead")
        var judgeCosts: [String: [PolicyKind: (mean: Double, standardError: Double)]] = [:]
        for name in names {
            roundOverheads[name] = recordOverhead(name, "round_overhead")
            for policy in PolicyKind.allCases {
                guard let quantity = ProfileStage.judgeQuantity(policy), overhead(name, quantity).count > 0 else {
                    continue
                }
                let judge = recordOverhead(name, quantity)
                judgeCosts[name, default: [:]][policy] = (judge.0, judge.1)
            }
        }
        // The loop's per-token cost beyond an isolated decode step: paired with the isolated steps
        // timed beside each run when the profile has them, else against the fitted step at the
        // contexts it ran at (older profiles; machine drift since the grid then counts as excess,
        // and so does the gap between the runs' mean and the grid's medians).
        var baselineLoopOverhead: (mean: Double, standardError: Double)?
        if !baselineRuns.isEmpty {
            let beta = primary.monotone(primary.fit.coefficients)
            func step(_ c: Int) -> Double {
                zip(primary.basis(tokens: 1, context: c), beta).reduce(0) { $0 + $1.0 * $1.1 }
            }
            let paired = baselineRuns.allSatisfy { $0.isolatedNanosecondsPerToken != nil }
            let excess = baselineRuns.map { run -> Double in
                if paired, let isolated = run.isolatedNanosecondsPerToken { return run.nanosecondsPerToken - isolated }
                let contexts = run.firstContext...max(run.firstContext, run.lastContext)
                return run.nanosecondsPerToken - contexts.reduce(0) { $0 + step($1) } / Double(contexts.count)
            }
            // The median: one repeat in eight read +800 us (quickstart) and pulled the mean to 3x
            // the median. Its standard error is the normal-theory sqrt(pi / 2) sigma / sqrt(n), with
            // sigma from the MAD (the plain standard deviation would carry the slow repeat back in).
            let s = Statistics.summarize(excess)
            let standardError = s.count > 1 ? (Double.pi / 2).squareRoot()
                * Statistics.robustStandardDeviation(excess) / Double(s.count).squareRoot() : 0
            baselineLoopOverhead = (s.median, standardError)
            table.append(["primary", "baseline_loop_overhead", "median", .real(s.median), .real(standardError),
                          "", .integer(s.count), ""])
        }
        // Reported, not priced: anchoring the a-priori decode step on these steps fixed the trained
        // scenarios but broke oracle ones whose machine drifted between grid and steps (README).
        let isolated = baselineRuns.compactMap(\.isolatedNanosecondsPerToken)
        if !isolated.isEmpty && isolated.count == baselineRuns.count {
            let s = Statistics.summarize(isolated)
            let standardError = s.count > 1 ? s.standardDeviation / Double(s.count).squareRoot() : 0
            table.append(["primary", "decode_step_isolated", "mean", .real(s.mean), .real(standardError), "",
                          .integer(s.count), ""])
        }
        var costs = CalibratedCosts(primary: primary, secondaries: secondaries, secondariesCold: secondariesCold,
                                    projections: projections,
                                    roundOverheads: roundOverheads.mapValues { (mean: $0.0, standardError: $0.1) },
                                    tokenOverhead: (mean: tokenOverhead.0, standardError: tokenOverhead.1),
                                    judgeCosts: judgeCosts,
                                    baselineLoopOverhead: baselineLoopOverhead, limits: limits)
        costs.inRoundDraftSteps = InRoundDraftSteps.fit(draftSteps).filter { secondaries[$0.key] != nil }
        for name in names {
            for row in costs.inRoundDraftSteps[name]?.tableRows(secondary: name) ?? [] { table.append(row) }
        }
        return (costs, table)
    }

    /// layers.csv: per (model, layer, component, phase, tokens, context), statistics over repeats.
    static func writeLayers(_ context: RunContext) throws {
        guard let rows = try context.readRecords(ProfileLayerSample.self, ProfileStage.layersFile) else { return }
        var groups: [[String]: [Double]] = [:]
        var order: [[String]] = []
        for row in rows {
            let key = [row.model, row.layer.map(String.init) ?? "", row.component, row.phase, String(row.tokens),
                       String(row.context)]
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(row.nanoseconds)
        }
        var table = CSVTable(header: ["model", "layer", "component", "phase", "tokens", "context", "calls", "mean_ns",
                                      "median_ns", "sd_ns", "ci95_lo_ns", "ci95_hi_ns"])
        for key in order {
            let s = Statistics.summarize(groups[key]!)
            table.append(key.map { .string($0) } + [.integer(s.count), .real(s.mean), .real(s.median),
                                                     .real(s.standardDeviation), .real(s.confidenceLow),
                                                     .real(s.confidenceHigh)])
        }
        try context.write(table, to: "layers.csv")
    }

    /// block_cost.csv: the primary's T(n)/T(1) per context with the roofline ratio and the fit.
    static func writeBlockCost(_ context: RunContext, primary: BlockCostFit, observations: [CostObservation],
                               limits: MachineLimits) throws {
        let roofline = Roofline(config: context.primary.config)
        var table = CSVTable(header: ["model", "tokens", "context", "median_ns", "ci95_lo_ns", "ci95_hi_ns",
                                      "fitted_ns", "ratio_to_one_token", "roofline_ratio", "efficiency"])
        for c in Set(observations.map(\.context)).sorted() {
            let row = observations.filter { $0.context == c }
            guard let one = row.first(where: { $0.tokens == 1 })?.summary.median else { continue }
            let rooflineOne = roofline.time(tokens: 1, context: c, limits: limits)
            for o in row {
                let s = o.summary, r = roofline.time(tokens: o.tokens, context: c, limits: limits)
                table.append(["primary", .integer(o.tokens), .integer(c), .real(s.median), .real(s.confidenceLow),
                              .real(s.confidenceHigh),
                              .real(primary.predict(tokens: o.tokens, context: c).value), .real(s.median / one),
                              .real(r / rooflineOne), .real(r * 1e9 / s.median)])
            }
        }
        try context.write(table, to: "block_cost.csv")
    }
}
