import TandemReport

/// The paper's Tables 2 and 4 from a model-mode sweep: per drafter the best fixed gamma
/// (table2.csv), and per block policy and drafter the best point (table4.csv).
enum PaperTables {
    static func write(_ context: RunContext, results: [PointResult]) throws {
        let temperature = Double(context.scenario.sweep.temperature)
        let modelMode = results.filter { $0.point.alphas == nil && $0.point.strategy.isSpeculative }
        guard !modelMode.isEmpty else { return }
        func best(_ points: [PointResult]) -> PointResult? { points.max { $0.measuredSpeedup < $1.measuredSpeedup } }
        var table2 = CSVTable(header: ["drafter", "strategy", "temperature", "best_gamma", "speedup",
                                       "ci95_lo", "ci95_hi",
                                       "mean_accepted"])
        let drafters = Array(Set(modelMode.map(\.point.secondary))).sorted()
        for drafter in drafters {
            guard let top = best(modelMode.filter { $0.point.secondary == drafter && $0.point.policy == .fixed }) else {
                continue
            }
            table2.append([.string(drafter), .string(top.point.strategy.rawValue), .real(temperature),
                           .integer(top.point.gamma), .real(top.measuredSpeedup), .real(top.measuredInterval.low),
                           .real(top.measuredInterval.high), .real(top.meanAccepted)])
        }
        var table4 = CSVTable(header: ["policy", "drafter", "strategy", "gamma_max", "speedup", "ci95_lo", "ci95_hi",
                                       "mean_gamma"])
        for policy in context.scenario.sweep.policies {
            for drafter in drafters {
                let candidates = modelMode.filter { $0.point.secondary == drafter && $0.point.policy == policy }
                guard let top = best(candidates) else {
                    continue
                }
                let meanGamma = Double(top.drafted.reduce(0, +)) / Double(max(top.rounds, 1))
                table4.append([.string(policy.rawValue), .string(drafter), .string(top.point.strategy.rawValue),
                               .integer(top.point.gamma), .real(top.measuredSpeedup), .real(top.measuredInterval.low),
                               .real(top.measuredInterval.high), .real(meanGamma)])
            }
        }
        try context.write(table2, to: "table2.csv")
        try context.write(table4, to: "table4.csv")
    }
}
