import TandemEngine
import TandemReport

/// The scenario's gnuplot scripts, written into the plots directory and reading the results
/// directory by relative path.
public enum PlotScripts {
    public static func write(_ context: RunContext) throws {
        let scenario = context.scenario, sweep = scenario.sweep
        let data = Gnuplot.relativePath(from: context.plotsDirectory, to: context.resultsDirectory)
        let dir = context.plotsDirectory
        func file(_ name: String) -> String { "\(name) = '\(data)/\(name).csv'" }
        let alphaCount = max(sweep.alphas.count, 1)
        let alphaLabels = sweep.alphas.isEmpty
            ? ["model"] : sweep.alphas.map { $0.map { String($0) }.joined(separator: ";") }
        let listed = sweep.secondaries.compactMap { scenario.secondary(named: $0) }
        let secondaries = sweep.secondaries
        let speculative = sweep.strategies.filter(\.isSpeculative)
        // The secondaries each strategy drafts with (as the sweep pairs them).
        func drafters(_ strategy: StrategyKind) -> [String] {
            SweepSettings.drafters(for: strategy, among: listed).map(\.name)
        }

        // 1. Speedup vs gamma, one panel per secondary, per strategy.
        for strategy in sweep.strategies {
            let secondaries = drafters(strategy)
            // Many series: the key goes beside the plot rather than over the points.
            let key = alphaCount > 3 ? "set key outside right top" : "set key top left"
            var body = ["set multiplot layout 1,\(secondaries.count) title 'tandem \(scenario.name): "
                        + "\(strategy.rawValue) speedup over the primary alone'",
                        "set xlabel 'block length {/Symbol g}'", "set ylabel 'speedup'", "set grid", key,
                        "set xrange [0.5:\(sweep.gammas.max()! + 1)]", "set yrange [0:*]"]
            for secondary in secondaries {
                var series: [String] = []
                for index in 0..<alphaCount {
                    let select = "strcol(\"strategy\") eq \"\(strategy.rawValue)\" "
                        + "&& strcol(\"secondary\") eq \"\(secondary)\" && strcol(\"policy\") eq \"fixed\" "
                        + "&& column(\"alpha_index\") == \(sweep.alphas.isEmpty ? -1 : index)"
                    let color = index + 1
                    series.append("speedup using \"gamma\":(\(select) ? column(\"measured_speedup\") : NaN):"
                                  + "\"measured_ci95_lo\":\"measured_ci95_hi\" with yerrorbars lc \(color) pt 7 "
                                  + "title 'measured, {/Symbol a}=\(alphaLabels[index])'")
                    // `set datafile missing NaN` (in every script) skips other series' rows without breaking lines.
                    series.append("speedup using \"gamma\":(\(select) ? column(\"predicted_speedup\") : NaN) "
                                  + "with lines lc \(color) lw 2 title 'predicted'")
                    if strategy.isSpeculative {
                        series.append("speedup using \"gamma\":(\(select) ? column(\"leviathan_speedup\") : NaN) "
                                      + "with lines lc \(color) dt 2 title 'Leviathan'")
                    }
                }
                body += ["set title 'secondary \(secondary)'",
                         "plot 1 with lines lc rgb 'gray' dt 3 notitle, " + series.joined(separator: ", \\\n     ")]
            }
            try GnuplotScript(name: "speedup_vs_gamma_\(strategy.rawValue)",
                              comment: "Speedup vs block length: measured (95% CI), predicted, Leviathan et al.",
                              width: (alphaCount > 3 ? 900 : 600) * secondaries.count, height: 500,
                              preamble: [file("speedup")], body: body).write(to: dir)
        }

        // 2. Predicted vs measured with y = x.
        try GnuplotScript(name: "predicted_vs_measured", comment: "Predicted vs measured speedup, every sweep point",
                          width: 700, height: 650,
                          preamble: [file("speedup")], body: [
            "set title 'tandem \(scenario.name): predicted vs measured speedup'", "set xlabel 'measured speedup'",
            "set ylabel 'predicted speedup'",
            "set grid", "set key top left", "set size ratio -1",
            "stats speedup using \"measured_speedup\" nooutput", "hi = STATS_max * 1.15",
            "set xrange [0:hi]", "set yrange [0:hi]",
            "plot x with lines lc rgb 'gray' title 'y = x', "
            + "x*1.05 with lines lc rgb 'gray' dt 2 title '{/Symbol \\261}5%', "
            + "x*0.95 with lines lc rgb 'gray' dt 2 notitle, \\\n"
            + "     speedup using \"measured_speedup\":\"predicted_speedup\":"
            + "\"measured_ci95_lo\":\"measured_ci95_hi\":\"predicted_ci95_lo\":\"predicted_ci95_hi\" "
            + "with xyerrorbars pt 7 lc 1 title 'probed (each point\\047s probe)', \\\n"
            + "     speedup using \"measured_speedup\":\"prior_speedup\":"
            + "\"measured_ci95_lo\":\"measured_ci95_hi\":\"prior_ci95_lo\":\"prior_ci95_hi\" "
            + "with xyerrorbars pt 6 lc 2 title 'a priori (profile only)'"]).write(to: dir)

        // 3. Block-cost curve against the roofline.
        try GnuplotScript(name: "block_cost", comment: "Primary block cost T(n)/T(1) against the roofline ratio",
                          width: 800, height: 550,
                          preamble: [file("block_cost")], body: [
            "set title 'tandem \(scenario.name): primary block cost T(n)/T(1) vs roofline'",
            "set xlabel 'tokens in the block (n)'",
            "set ylabel 'T(n) / T(1)'", "set grid", "set key top left", "set yrange [0:*]",
            "plot " + scenario.profile.contexts.enumerated().map { index, c in
                "block_cost using \"tokens\":(column(\"context\") == \(c) ? column(\"ratio_to_one_token\") : NaN) "
                + "with linespoints lc \(index + 1) pt 7 title 'measured, context \(c)', "
                + "block_cost using \"tokens\":(column(\"context\") == \(c) ? column(\"roofline_ratio\") : NaN) "
                + "with lines lc \(index + 1) dt 2 title 'roofline, context \(c)'"
            }.joined(separator: ", \\\n     ")]).write(to: dir)

        // 4. Per-layer time breakdown, stacked, for verify and draft.
        let components = Component.allCases.filter { $0 != .sampling && $0 != .cache }
        let panels = 1 + secondaries.count
        var breakdown = ["set multiplot layout 1,\(panels) title 'tandem \(scenario.name): "
                         + "time per layer and component (mean per call)'",
                         "set style data histograms", "set style histogram rowstacked",
                         "set style fill solid 0.85 border -1",
                         "set boxwidth 0.8", "set ylabel 'microseconds'", "set xlabel 'layer'", "set grid ytics",
                         "set key outside bottom center horizontal",
                         "set xtics rotate by -45"]
        let verifyTokens = scenario.profile.tokens.max() ?? 1
        var files: [String] = []
        for (model, title) in [("primary", "primary verify n=\(verifyTokens)")]
                               + secondaries.map({ ($0, "\($0) draft n=1") }) {
            let variable = "breakdown_" + model.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
            files.append("\(variable) = '\(data)/layer_breakdown_\(model).csv'")
            breakdown.append("set title '\(title)'")
            breakdown.append("plot " + components.enumerated().map { index, component in
                "\(variable) using (column(\"\(component.name)_ns\")/1000):xtic(strcol(\"layer\")) lc \(index + 1) "
                + "title '\(component.name.replacingOccurrences(of: "_", with: " "))'"
            }.joined(separator: ", \\\n     "))
        }
        try GnuplotScript(name: "layer_breakdown",
                          comment: "Per-layer time breakdown (stacked components) for the primary's verification "
                              + "block and each secondary's draft step",
                          width: 550 * panels, height: 600, preamble: files, body: breakdown).write(to: dir)

        // 5. Acceptance by position (largest gamma; a panel per speculative strategy and drafter).
        let pairs = speculative.flatMap { strategy in drafters(strategy).map { (strategy, $0) } }
        if !pairs.isEmpty {
            let gamma = sweep.gammas.max()!
            var body = ["set multiplot layout 1,\(pairs.count) title 'tandem \(scenario.name): "
                        + "acceptance by draft position "
                        + "({/Symbol g} = \(gamma); 95% Wilson intervals)'",
                        "set xlabel 'draft position k'", "set ylabel 'P(accept k | 1..k-1 accepted)'",
                        "set yrange [0:1.05]", "set grid",
                        "set key bottom left", "set xrange [0.5:\(gamma).5]"]
            for (strategy, secondary) in pairs {
                body.append("set title '\(strategy.rawValue), secondary \(secondary)'")
                body.append("plot " + (0..<alphaCount).map { index in
                    let select = "strcol(\"strategy\") eq \"\(strategy.rawValue)\" "
                        + "&& strcol(\"secondary\") eq \"\(secondary)\" "
                        + "&& strcol(\"policy\") eq \"fixed\" && column(\"gamma\") == \(gamma) "
                        + "&& column(\"alpha_index\") == \(sweep.alphas.isEmpty ? -1 : index)"
                    return "acceptance using \"position\":(\(select) ? column(\"rate\") : NaN):\"ci95_lo\":\"ci95_hi\" "
                        + "with yerrorlines lc \(index + 1) pt 7 title '{/Symbol a} = \(alphaLabels[index])'"
                }.joined(separator: ", \\\n     "))
            }
            try GnuplotScript(name: "acceptance_by_position",
                              comment: "Conditional acceptance per draft position with Wilson intervals",
                              width: 600 * pairs.count, height: 480, preamble: [file("acceptance")],
                              body: body).write(to: dir)

            // 6. Heat map of measured speedup over (gamma, alpha), first speculative strategy.
            if let strategy = speculative.first, !sweep.alphas.isEmpty {
                let secondaries = drafters(strategy)
                var heat = ["set multiplot layout 1,\(secondaries.count) title 'tandem \(scenario.name): "
                            + "measured speedup over ({/Symbol g}, {/Symbol a}), \(strategy.rawValue)'",
                            "set xlabel 'block length {/Symbol g}'", "set ylabel '{/Symbol a}'",
                            "set palette rgbformulae 33,13,10",
                            "set cblabel 'speedup'",
                            "set xrange [\(Double(sweep.gammas.min()!) - 0.5):\(Double(sweep.gammas.max()!) + 0.5)]",
                            "set yrange [-0.5:\(Double(alphaCount) - 0.5)]",
                            "set ytics (" + alphaLabels.enumerated().map { "'\($1)' \($0)" }.joined(separator: ", ")
                            + ")"]
                for secondary in secondaries {
                    let select = "strcol(\"strategy\") eq \"\(strategy.rawValue)\" "
                        + "&& strcol(\"secondary\") eq \"\(secondary)\" && strcol(\"policy\") eq \"fixed\""
                    heat += ["set title 'secondary \(secondary)'",
                             "plot speedup using \"gamma\":(\(select) ? column(\"alpha_index\") : NaN):(0.5):(0.5):"
                             + "\"measured_speedup\" with boxxyerror fs solid 1.0 noborder fc palette notitle, \\\n"
                             + "     speedup using \"gamma\":(\(select) ? column(\"alpha_index\") : NaN):"
                             + "(sprintf('%.2f', column(\"measured_speedup\"))) with labels notitle"]
                }
                try GnuplotScript(name: "speedup_heatmap",
                                  comment: "Measured speedup heat map over block length and acceptance rate",
                                  width: 600 * secondaries.count, height: 480, preamble: [file("speedup")],
                                  body: heat).write(to: dir)
            }
        }

        // 7. Model mode: every drafter's measured speedup against gamma in one panel (Table 2).
        if sweep.alphas.isEmpty && !pairs.isEmpty {
            let series = pairs.enumerated().map { index, pair in
                let select = "strcol(\"strategy\") eq \"\(pair.0.rawValue)\" && strcol(\"secondary\") eq \"\(pair.1)\" "
                    + "&& strcol(\"policy\") eq \"fixed\""
                return "speedup using \"gamma\":(\(select) ? column(\"measured_speedup\") : NaN):\"measured_ci95_lo\":"
                    + "\"measured_ci95_hi\" with yerrorlines lc \(index + 1) pt 7 "
                    + "title '\(pair.1) (\(pair.0.rawValue))'"
            }
            let temperature = sweep.temperature == 0 ? "greedy" : "T = \(sweep.temperature)"
            try GnuplotScript(name: "speedup_by_drafter",
                              comment: "Measured speedup of every drafter against gamma (model mode)",
                              width: 1000, height: 600, preamble: [file("speedup")],
                              body: ["set title '\(scenario.name): measured speedup by drafter "
                                     + "(\(temperature), 95% CI)'",
                                     "set xlabel 'block length {/Symbol g}'",
                                     "set ylabel 'speedup over the primary alone'",
                                     "set grid", "set key outside right top",
                                     "set xrange [0.5:\(sweep.gammas.max()! + 1)]", "set yrange [0:*]",
                                     "plot " + series.joined(separator: ", \\\n     ")]).write(to: dir)
        }
    }
}
