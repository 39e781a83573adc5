import Foundation
import TandemAnalysis
import TandemEngine
import TandemReport

/// Report: speedup.csv, acceptance.csv, iid_tests.csv, layer_breakdown.csv and summary.md.
public enum ReportStage {
    public struct Quality {
        public var medianRelativeError: Double
        public var maxRelativeError: Double
        public var points: Int
        /// The a-priori prediction's errors (nil when no point has one).
        public var priorMedianRelativeError: Double?
        public var priorMaxRelativeError: Double?
        public var priorPoints: Int
        /// Share of points whose prediction lies inside the measured 95% interval.
        public var coverage: Double?
        public var priorCoverage: Double?
        /// Groups whose a-priori optimal gamma agrees with the measured one, of `optima.count`.
        public var priorOptimaAgreeing: Int
        /// (group label, measured best gamma, predicted best gamma, agrees)
        public var optima: [(group: String, measured: Int, predicted: Int, agrees: Bool)]
    }

    @discardableResult
    public static func run(_ context: RunContext, costs: CalibratedCosts, results: [PointResult]) throws -> Quality {
        let scenario = context.scenario
        var speedup = CSVTable(header: ["strategy", "drafter", "secondary", "policy", "gamma", "alpha", "alpha_index",
                                        "context", "threads", "tokens", "rounds", "mean_accepted", "measured_speedup",
                                        "measured_ci95_lo", "measured_ci95_hi", "measured_t_lo", "measured_t_hi",
                                        "predicted_speedup", "predicted_ci95_lo", "predicted_ci95_hi",
                                        "predicted_alpha_speedup", "leviathan_speedup", "relative_error", "covered",
                                        "prior_speedup", "prior_ci95_lo", "prior_ci95_hi", "prior_relative_error",
                                        "prior_covered"])
        var acceptance = CSVTable(header: ["strategy", "drafter", "secondary", "policy", "gamma", "alpha",
                                           "alpha_index", "context", "position", "drafted", "judged", "accepted",
                                           "rate", "ci95_lo", "ci95_hi"])
        var iid = CSVTable(header: ["strategy", "secondary", "gamma", "alpha", "context", "full_rounds", "alpha_hat",
                                    "chi_square", "degrees_of_freedom", "p_value"])
        func optional(_ x: Double?) -> CSVValue { x.map { .real($0) } ?? "" }
        func flag(_ x: Bool?) -> CSVValue { x.map { .integer($0 ? 1 : 0) } ?? "" }
        var rejectedTests = 0
        for r in results {
            let p = r.point
            let drafter = p.strategy == .speed ? "plain" : "tandem"
            let alphaIndex = p.alphas.flatMap { a in scenario.sweep.alphas.firstIndex(of: a) } ?? -1
            speedup.append([.string(p.strategy.rawValue), .string(drafter), .string(p.secondary),
                            .string(p.policy.rawValue), .integer(p.gamma), .string(p.alphaLabel), .integer(alphaIndex),
                            .integer(p.context), .integer(p.threads), .integer(r.tokens), .integer(r.rounds),
                            .real(r.meanAccepted), .real(r.measuredSpeedup), .real(r.measuredInterval.low),
                            .real(r.measuredInterval.high), .real(r.measured.confidenceLow),
                            .real(r.measured.confidenceHigh), optional(r.predicted), optional(r.predictedInterval?.low),
                            optional(r.predictedInterval?.high), optional(r.predictedFromAlpha), optional(r.leviathan),
                            optional(r.relativeError), flag(r.covers(r.predicted)), optional(r.prior),
                            optional(r.priorInterval?.low), optional(r.priorInterval?.high),
                            optional(r.priorRelativeError), flag(r.covers(r.prior))])
            for position in r.judged.indices where p.strategy.isSpeculative {
                let interval = Inference.wilsonInterval(successes: r.accepted[position], trials: r.judged[position])
                acceptance.append([.string(p.strategy.rawValue), .string(drafter), .string(p.secondary),
                                   .string(p.policy.rawValue), .integer(p.gamma), .string(p.alphaLabel),
                                   .integer(alphaIndex), .integer(p.context), .integer(position + 1),
                                   .integer(r.drafted[position]), .integer(r.judged[position]),
                                   .integer(r.accepted[position]), .real(r.acceptance[position]), .real(interval.low),
                                   .real(interval.high)])
            }
            if let test = SweepAnalysis.iidTest(r) {
                if test.pValue < 0.01 { rejectedTests += 1 }
                iid.append([.string(p.strategy.rawValue), .string(p.secondary), .integer(p.gamma),
                            .string(p.alphaLabel), .integer(p.context), .integer(r.fullRoundHistogram.reduce(0, +)),
                            .real(test.alpha), .real(test.statistic), .integer(test.degreesOfFreedom),
                            .real(test.pValue)])
            }
        }
        let runsByPoint = Dictionary(grouping: try context.readRecords(SweepRun.self, SweepStage.runsFile) ?? [],
                                     by: \.point.key)
        let roundCosts = results.compactMap { r in
            RoundCostComparison(point: r.point, runs: runsByPoint[r.point.key] ?? [], costs: costs)
        }
        try context.write(CSVTable(records: roundCosts), to: roundCostsFile)
        try context.write(speedup, to: "speedup.csv")
        try context.write(acceptance, to: "acceptance.csv")
        try context.write(iid, to: "iid_tests.csv")
        try writeLayerBreakdown(context)
        try PaperTables.write(context, results: results)
        let quality = assess(results, scenario: scenario)
        try AtomicFile.write(summary(context, costs: costs, results: results, quality: quality,
                                     iid: (rejected: rejectedTests, tests: iid.rows.count), roundCosts: roundCosts),
                             to: context.path("summary.md"))
        return quality
    }

    /// Prediction quality: relative errors, and measured vs predicted optimal gamma per group.
    public static func assess(_ results: [PointResult], scenario: Scenario) -> Quality {
        var optima: [(String, Int, Int, Bool)] = []
        var priorAgreeing = 0
        var groups: [String: [PointResult]] = [:]
        var order: [String] = []
        for r in results where r.predicted != nil && r.point.policy == .fixed {
            let p = r.point
            let label = "\(p.strategy.rawValue) \(p.secondary) alpha=\(p.alphaLabel) context=\(p.context) "
                + "threads=\(p.threads)"
            if groups[label] == nil { order.append(label) }
            groups[label, default: []].append(r)
        }
        for label in order {
            let group = groups[label]!
            guard group.count > 1 else { continue }
            let best = group.max { $0.measuredSpeedup < $1.measuredSpeedup }!
            // Agrees: the same gamma, or the chosen gamma's measured interval reaches the best's.
            func agrees(_ chosen: PointResult) -> Bool {
                best.point.gamma == chosen.point.gamma || chosen.measuredInterval.high >= best.measuredInterval.low
            }
            let predictedBest = group.max { $0.predicted! < $1.predicted! }!
            optima.append((label, best.point.gamma, predictedBest.point.gamma, agrees(predictedBest)))
            if group.allSatisfy({ $0.prior != nil }), agrees(group.max { $0.prior! < $1.prior! }!) {
                priorAgreeing += 1
            }
        }
        func median(_ values: [Double]) -> Double? { values.isEmpty ? nil : Statistics.summarize(values).median }
        func share(_ flags: [Bool]) -> Double? {
            flags.isEmpty ? nil : Double(flags.filter { $0 }.count) / Double(flags.count)
        }
        let errors = results.compactMap { $0.relativeError.map(abs) }
        let priorErrors = results.compactMap { $0.priorRelativeError.map(abs) }
        return Quality(medianRelativeError: median(errors) ?? 0, maxRelativeError: errors.max() ?? 0,
                       points: errors.count, priorMedianRelativeError: median(priorErrors),
                       priorMaxRelativeError: priorErrors.max(), priorPoints: priorErrors.count,
                       coverage: share(results.compactMap { $0.covers($0.predicted) }),
                       priorCoverage: share(results.compactMap { $0.covers($0.prior) }),
                       priorOptimaAgreeing: priorAgreeing, optima: optima)
    }

    /// layer_breakdown_<model>.csv: mean time per layer and component (wide), for the primary's
    /// verification block (largest profiled block) and each secondary's draft step, at the
    /// first profiled context.
    static func writeLayerBreakdown(_ context: RunContext) throws {
        guard let rows = try context.readRecords(ProfileLayerSample.self, ProfileStage.layersFile) else { return }
        let components = Component.allCases.map(\.name)
        let c = context.scenario.profile.contexts.first ?? 0
        let verifyTokens = context.scenario.profile.tokens.max() ?? 1
        let panels = [("primary", "verify", verifyTokens)] + context.secondaries.map { ($0.name, "draft", 1) }
        for (model, phase, tokens) in panels {
            var table = CSVTable(header: ["model", "phase", "tokens", "layer"] + components.map { $0 + "_ns" })
            var sums: [String: [String: (Double, Int)]] = [:]
            for row in rows where row.model == model && row.phase == phase && row.tokens == tokens && row.context == c {
                let layer = row.layer.map(String.init) ?? "other"
                var cell = sums[layer]?[row.component] ?? (0, 0)
                cell.0 += row.nanoseconds; cell.1 += 1
                sums[layer, default: [:]][row.component] = cell
            }
            let layers = sums.keys.sorted { (Int($0) ?? Int.max) < (Int($1) ?? Int.max) }
            for layer in layers {
                table.append([.string(model), .string(phase), .integer(tokens), .string(layer)]
                             + components.map { name in
                    sums[layer]![name].map { .real($0.0 / Double($0.1)) } ?? .real(0)
                })
            }
            try context.write(table, to: "layer_breakdown_\(model).csv")
        }
    }

    /// Sweep against profile, part by part (`RoundCostComparison`).
    public static let roundCostsFile = "round_costs.csv"

    static func summary(_ context: RunContext, costs: CalibratedCosts, results: [PointResult], quality: Quality,
                        iid: (rejected: Int, tests: Int), roundCosts: [RoundCostComparison]) -> String {
        let scenario = context.scenario
        var lines = ["# \(scenario.name)", ""]
        if !scenario.description.isEmpty { lines += [scenario.description, ""] }
        lines.append(String(format: "Machine (measured in this run): sgemm peak %.1f GFLOP/s, "
                                + "DRAM read %.1f GB/s, %d thread(s).",
                            costs.limits.peakFlops / 1e9, costs.limits.bandwidth / 1e9, costs.limits.threads))
        let t1 = costs.primary.predict(tokens: 1, context: scenario.sweep.contexts.first ?? 0)
        lines.append(String(format: "Primary decode step (fit, first context): %.2f ms +- %.3f.", t1.value / 1e6,
                            t1.standardError / 1e6))
        if !scenario.sweep.alphas.isEmpty {
            lines.append("Oracle decisions: \(scenario.sweep.oracleSampling.rawValue) (`oracle_sampling`).")
        }
        lines += ["", "## Prediction quality", ""]
        func percent(_ x: Double?) -> String { x.map { String(format: "%.1f%%", 100 * $0) } ?? "-" }
        lines += [
            "| prediction | points | median abs. error | largest | coverage of the measured 95% interval "
                + "| optimal gamma agrees |",
            "|---|---|---|---|---|---|",
            "| probed (calibration rescaled by each point's probe, its measured acceptance) | \(quality.points) | "
                + "\(percent(quality.medianRelativeError)) | \(percent(quality.maxRelativeError)) | "
                + "\(percent(quality.coverage)) | "
                + "\(quality.optima.filter(\.agrees).count) of \(quality.optima.count) |",
            "| a priori (calibration alone, the given or profiled acceptance) | \(quality.priorPoints) | "
                + "\(percent(quality.priorMedianRelativeError)) | \(percent(quality.priorMaxRelativeError)) | "
                + "\(percent(quality.priorCoverage)) | \(quality.priorOptimaAgreeing) of \(quality.optima.count) |",
        ]
        lines += ["", "| group | measured best gamma | predicted best gamma | agrees |", "|---|---|---|---|"]
        for o in quality.optima {
            lines.append("| \(o.group) | \(o.measured) | \(o.predicted) | \(o.agrees ? "yes" : "no") |")
        }
        lines += ["", "## Speedup", "",
                  "Measured: geometric mean of the pairs (each strategy run over the primary-alone run beside it), "
                  + "95% t-interval of their logs; predicted and a priori: 95% Monte Carlo intervals.", "",
                  "| strategy | secondary | alpha | gamma | measured | predicted | a priori | Leviathan | error "
                  + "| a-priori error |", "|---|---|---|---|---|---|---|---|---|---|"]
        for r in results {
            let p = r.point
            func withInterval(_ value: Double?, _ interval: (low: Double, high: Double)?) -> String {
                value.map { String(format: "%.2f [%.2f, %.2f]", $0, interval?.low ?? $0, interval?.high ?? $0) } ?? "-"
            }
            func signed(_ x: Double?) -> String { x.map { String(format: "%+.1f%%", 100 * $0) } ?? "-" }
            lines.append("| \(p.strategy.rawValue) | \(p.secondary) | \(p.alphaLabel) | \(p.gamma) | "
                         + "\(withInterval(r.measuredSpeedup, r.measuredInterval)) | "
                         + "\(withInterval(r.predicted, r.predictedInterval)) | "
                         + "\(withInterval(r.prior, r.priorInterval)) | "
                         + "\(r.leviathan.map { String(format: "%.2f", $0) } ?? "-") | \(signed(r.relativeError)) | "
                         + "\(signed(r.priorRelativeError)) |")
        }
        if !roundCosts.isEmpty {
            lines += ["", "## Round costs: sweep against the a-priori prediction", "",
                      "What the sweep's rounds paid over what the a-priori prediction priced them at "
                      + "(\(roundCostsFile), fixed-policy points): "
                      + "the primary-alone step, the verification pass per round and the drafting steps per round. "
                      + "A ratio of verify or drafting away from the baseline's is what an a-priori error comes from.",
                      "", "| strategy | secondary | alpha | gamma | baseline step | verify per round | "
                      + "drafting per round |", "|---|---|---|---|---|---|---|"]
            func part(_ sweep: Double, _ ratio: Double) -> String {
                String(format: "%.2f ms (x%.2f)", sweep / 1e6, ratio)
            }
            for c in roundCosts {
                let p = c.point
                lines.append("| \(p.strategy.rawValue) | \(p.secondary) | \(p.alphaLabel) | \(p.gamma) | "
                             + "\(part(c.baselineStepSweep, c.baselineRatio)) | "
                             + "\(part(c.verifySweep, c.verifyRatio)) | \(part(c.draftingSweep, c.draftingRatio)) |")
            }
        }
        if iid.tests > 0 {
            let (rejected, tests) = iid
            lines += ["", "## i.i.d. acceptance", "",
                      "Chi-square goodness of fit of the full-round accepted-length histogram to the truncated "
                      + "geometric law (alpha estimated per point, iid_tests.csv): \(rejected) of \(tests) points "
                      + "reject it at p < 0.01."]
        }
        lines += ["", "Files: speedup.csv, acceptance.csv, calibration.csv, layers.csv, block_cost.csv, "
                  + "layer_breakdown_*.csv, iid_tests.csv, round_costs.csv, run.json; "
                  + "plots in \(context.plotsDirectory)."]
        return lines.joined(separator: "\n") + "\n"
    }
}
