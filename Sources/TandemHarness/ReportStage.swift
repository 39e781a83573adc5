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
        /// (group label, measured best gamma, predicted best gamma, agrees)
        public var optima: [(group: String, measured: Int, predicted: Int, agrees: Bool)]
    }

    @discardableResult
    public static func run(_ context: RunContext, costs: CalibratedCosts, results: [PointResult]) throws -> Quality {
        let scenario = context.scenario
        var speedup = CSVTable(header: ["strategy", "drafter", "secondary", "policy", "gamma", "alpha", "alpha_index", "context", "threads",
                                        "tokens", "rounds", "mean_accepted", "measured_speedup", "measured_ci95_lo", "measured_ci95_hi",
                                        "measured_t_lo", "measured_t_hi", "predicted_speedup", "predicted_ci95_lo", "predicted_ci95_hi",
                                        "predicted_alpha_speedup", "leviathan_speedup", "relative_error"])
        var acceptance = CSVTable(header: ["strategy", "drafter", "secondary", "policy", "gamma", "alpha", "alpha_index", "context", "position",
                                           "drafted", "judged", "accepted", "rate", "ci95_lo", "ci95_hi"])
        var iid = CSVTable(header: ["strategy", "secondary", "gamma", "alpha", "context", "full_rounds", "alpha_hat", "chi_square",
                                    "degrees_of_freedom", "p_value"])
        func optional(_ x: Double?) -> CSVValue { x.map { .real($0) } ?? "" }
        for r in results {
            let p = r.point
            let drafter = p.strategy == .speed ? "plain" : "tandem"
            let alphaIndex = p.alphas.flatMap { a in scenario.sweep.alphas.firstIndex(of: a) } ?? -1
            speedup.append([.string(p.strategy.rawValue), .string(drafter), .string(p.secondary), .string(p.policy.rawValue), .integer(p.gamma),
                            .string(p.alphaLabel), .integer(alphaIndex), .integer(p.context), .integer(p.threads), .integer(r.tokens),
                            .integer(r.rounds), .real(r.meanAccepted), .real(r.measuredSpeedup), .real(r.measuredInterval.low),
                            .real(r.measuredInterval.high), .real(r.measured.confidenceLow), .real(r.measured.confidenceHigh),
                            optional(r.predicted), optional(r.predictedInterval?.low), optional(r.predictedInterval?.high),
                            optional(r.predictedFromAlpha), optional(r.leviathan), optional(r.relativeError)])
            for position in r.judged.indices where p.strategy.isSpeculative {
                let interval = Inference.wilsonInterval(successes: r.accepted[position], trials: r.judged[position])
                acceptance.append([.string(p.strategy.rawValue), .string(drafter), .string(p.secondary),
                                   .string(p.policy.rawValue), .integer(p.gamma), .string(p.alphaLabel),
                                   .integer(alphaIndex), .integer(p.context), .integer(position + 1), .integer(r.drafted[position]),
                                   .integer(r.judged[position]), .integer(r.accepted[position]), .real(r.acceptance[position]),
                                   .real(interval.low), .real(interval.high)])
            }
            if let test = SweepAnalysis.iidTest(r) {
                iid.append([.string(p.strategy.rawValue), .string(p.secondary), .integer(p.gamma), .string(p.alphaLabel), .integer(p.context),
                            .integer(r.fullRoundHistogram.reduce(0, +)), .real(test.alpha), .real(test.statistic),
                            .integer(test.degreesOfFreedom), .real(test.pValue)])
            }
        }
        try context.write(speedup, to: "speedup.csv")
        try context.write(acceptance, to: "acceptance.csv")
        try context.write(iid, to: "iid_tests.csv")
        try writeLayerBreakdown(context)
        try PaperTables.write(context, results: results)
        let quality = assess(results, scenario: scenario)
        try AtomicFile.write(summary(context, costs: costs, results: results, quality: quality, iid: iid), to: context.path("summary.md"))
        return quality
    }

    /// Prediction quality: relative errors, and measured vs predicted optimal gamma per group.
    public static func assess(_ results: [PointResult], scenario: Scenario) -> Quality {
        let errors = results.compactMap { $0.relativeError.map(abs) }
        var optima: [(String, Int, Int, Bool)] = []
        var groups: [String: [PointResult]] = [:]
        var order: [String] = []
        for r in results where r.predicted != nil && r.point.policy == .fixed {
            let p = r.point
            let label = "\(p.strategy.rawValue) \(p.secondary) alpha=\(p.alphaLabel) context=\(p.context) threads=\(p.threads)"
            if groups[label] == nil { order.append(label) }
            groups[label, default: []].append(r)
        }
        for label in order {
            let group = groups[label]!
            guard group.count > 1 else { continue }
            let best = group.max { $0.measuredSpeedup < $1.measuredSpeedup }!
            let predictedBest = group.max { $0.predicted! < $1.predicted! }!
            // Agrees: the same gamma, or the predicted gamma's measured interval reaches the best's.
            let agrees = best.point.gamma == predictedBest.point.gamma
                || predictedBest.measuredInterval.high >= best.measuredInterval.low
            optima.append((label, best.point.gamma, predictedBest.point.gamma, agrees))
        }
        let sorted = errors.sorted()
        let median = sorted.isEmpty ? 0 : Statistics.summarize(sorted).median
        return Quality(medianRelativeError: median, maxRelativeError: sorted.last ?? 0, points: errors.count, optima: optima)
    }

    /// layer_breakdown_<model>.csv: mean time per layer and component (wide), for the primary's
    /// verification block (largest profiled block) and each secondary's draft step, at the
    /// first profiled context.
    static func writeLayerBreakdown(_ context: RunContext) throws {
        guard let rows = context.readTable(ProfileStage.layersFile) else { return }
        let components = Component.allCases.map(\.name)
        let c = String(context.scenario.profile.contexts.first ?? 0)
        let verifyTokens = String(context.scenario.profile.tokens.max() ?? 1)
        let panels = [("primary", "verify", verifyTokens)] + context.secondaries.map { ($0.name, "draft", "1") }
        for (model, phase, tokens) in panels {
            var table = CSVTable(header: ["model", "phase", "tokens", "layer"] + components.map { $0 + "_ns" })
            var sums: [String: [String: (Double, Int)]] = [:]
            for row in rows where row.count == 8 && row[0] == model && row[3] == phase && row[4] == tokens && row[5] == c {
                let layer = row[1].isEmpty ? "other" : row[1]
                var cell = sums[layer]?[row[2]] ?? (0, 0)
                cell.0 += Double(row[7])!; cell.1 += 1
                sums[layer, default: [:]][row[2]] = cell
            }
            let layers = sums.keys.sorted { (Int($0) ?? Int.max) < (Int($1) ?? Int.max) }
            for layer in layers {
                table.append([.string(model), .string(phase), .string(tokens), .string(layer)] + components.map { name in
                    sums[layer]![name].map { .real($0.0 / Double($0.1)) } ?? .real(0)
                })
            }
            try context.write(table, to: "layer_breakdown_\(model).csv")
        }
    }

    static func summary(_ context: RunContext, costs: CalibratedCosts, results: [PointResult], quality: Quality, iid: CSVTable) -> String {
        let scenario = context.scenario
        var lines = ["# \(scenario.name)", ""]
        if !scenario.description.isEmpty { lines += [scenario.description, ""] }
        lines.append(String(format: "Machine (measured in this run): sgemm peak %.1f GFLOP/s, DRAM read %.1f GB/s, %d thread(s).",
                            costs.limits.peakFlops / 1e9, costs.limits.bandwidth / 1e9, costs.limits.threads))
        let t1 = costs.primary.predict(tokens: 1, context: scenario.sweep.contexts.first ?? 0)
        lines.append(String(format: "Primary decode step (fit, first context): %.2f ms +- %.3f.", t1.value / 1e6, t1.standardError / 1e6))
        lines += ["", "## Prediction quality", ""]
        lines.append(String(format: "Over %d sweep points: median |predicted - measured| / measured = %.1f%%, largest %.1f%%.",
                            quality.points, 100 * quality.medianRelativeError, 100 * quality.maxRelativeError))
        lines += ["", "| group | measured best gamma | predicted best gamma | agrees |", "|---|---|---|---|"]
        for o in quality.optima { lines.append("| \(o.group) | \(o.measured) | \(o.predicted) | \(o.agrees ? "yes" : "no") |") }
        lines += ["", "## Speedup (measured: pooled ratio with 95% bootstrap interval; predicted: 95% Monte Carlo interval)", "",
                  "| strategy | secondary | alpha | gamma | measured | predicted | Leviathan | error |", "|---|---|---|---|---|---|---|---|"]
        for r in results {
            let p = r.point
            lines.append(String(format: "| %@ | %@ | %@ | %d | %.2f [%.2f, %.2f] | %@ | %@ | %@ |", p.strategy.rawValue, p.secondary, p.alphaLabel, p.gamma,
                                r.measuredSpeedup, r.measuredInterval.low, r.measuredInterval.high,
                                r.predicted.map { String(format: "%.2f [%.2f, %.2f]", $0, r.predictedInterval?.low ?? $0, r.predictedInterval?.high ?? $0) } ?? "-",
                                r.leviathan.map { String(format: "%.2f", $0) } ?? "-",
                                r.relativeError.map { String(format: "%+.1f%%", 100 * $0) } ?? "-"))
        }
        let tests = iid.rows
        if !tests.isEmpty {
            let rejected = tests.filter { (Double($0[9]) ?? 1) < 0.01 }.count
            lines += ["", "## i.i.d. acceptance", "",
                      "Chi-square goodness of fit of the full-round accepted-length histogram to the truncated geometric law "
                      + "(alpha estimated per point, iid_tests.csv): \(rejected) of \(tests.count) points reject it at p < 0.01."]
        }
        lines += ["", "Files: speedup.csv, acceptance.csv, calibration.csv, layers.csv, block_cost.csv, layer_breakdown_*.csv, iid_tests.csv, run.json; plots in \(context.plotsDirectory)."]
        return lines.joined(separator: "\n") + "\n"
    }
}
