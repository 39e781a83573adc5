import ArgumentParser
import Foundation
import TandemAnalysis
import TandemEngine
import TandemHarness
import TandemReport

/// `tandem predict`: the analytic model alone, no engine.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict SPEED speedup analytically (no engine): from a cost ratio, or from model configs and "
            + "machine peaks (roofline).",
        discussion: """
        With --c-ratio, T_S = c T_L(1) and verifying gamma + 1 tokens costs --verify-ratio times a decode step \
        (1 = Leviathan et al.'s assumption). Otherwise costs come from the roofline of the two presets: \
        max(bytes / bandwidth, flops / peak) for each block. With --profile DIR (a finished run's results \
        directory), costs come from that profile's calibration: the a-priori prediction of any secondary, \
        gamma, alpha and context, with 95% Monte Carlo intervals, no sweep needed. Prints the table and \
        writes predict.csv to --out.
        """)

    @Option(help: "Block lengths: a list (1,2,4,8) or a range (1-16).")
    var gammas = "1-16"
    @Option(help: "Acceptance: one alpha, or comma-separated per-position alphas.")
    var alpha = "0.8"
    @Option(help: "Cost ratio c = T_S / T_L(1); when given, the roofline is not used.")
    var cRatio: Double?
    @Option(help: "With --c-ratio: T_L(gamma + 1) / T_L(1) (1 = verification costs one decode step).")
    var verifyRatio = 1.0
    @Option(help: "Primary preset for the roofline.")
    var primaryPreset: ModelPreset = .p150
    @Option(help: "Secondary preset for the roofline.")
    var secondaryPreset: ModelPreset = .s10
    @Option(help: "Machine sgemm peak, GFLOP/s (PLATFORM.md: about 80 on one core).")
    var peakGflops = 80.0
    @Option(help: "Machine DRAM read bandwidth, GB/s (PLATFORM.md: 17-19 on one core).")
    var bandwidthGbps = 19.0
    @Option(help: "Context length of the roofline costs.")
    var context = 64
    @Option(help: "A finished run's results directory: predict from its profile (calibration) alone.")
    var profile: String?
    @Option(help: "With --profile: the secondary to predict (default: every profiled one).")
    var secondary: String?
    @Option(help: "With --profile: the strategy (speed, tandem-speed, tandem).")
    var strategy: StrategyKind = .tandemSpeed
    @Option(help: "With --profile: tokens per run (the first comes from the prefill).")
    var tokens = 64
    @Option(help: "Output directory.")
    var out = "results/predict"

    func parsedGammas() throws -> [Int] {
        if let dash = gammas.firstIndex(of: "-"), let low = Int(gammas[..<dash]),
           let high = Int(gammas[gammas.index(after: dash)...]), low >= 1, high >= low {
            return Array(low...high)
        }
        let list = gammas.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !list.isEmpty, list.count == gammas.split(separator: ",").count, list.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--gammas must be a list like 1,2,4 or a range like 1-16 of integers >= 1, "
                                  + "got '\(gammas)'")
        }
        return list
    }

    func parsedAlphas() throws -> [Double] { try parseAlphas(alpha, option: "--alpha") }

    func validate() throws {
        _ = try parsedGammas()
        _ = try parsedAlphas()
        if let cRatio, cRatio < 0 { throw ValidationError("--c-ratio must be >= 0") }
        guard tokens >= 2 else { throw ValidationError("--tokens must be at least 2, got \(tokens)") }
        if profile != nil && !(strategy.isSpeculative || strategy == .tandem) {
            throw ValidationError("--strategy must be speed, tandem-speed or tandem, got \(strategy.rawValue)")
        }
        guard verifyRatio > 0, peakGflops > 0, bandwidthGbps > 0, context >= 0 else {
            throw ValidationError("--verify-ratio, --peak-gflops and --bandwidth-gbps must be positive, --context >= 0")
        }
    }

    func run() throws {
        if let profile { return try runFromProfile(profile) }
        let gammaList = try parsedGammas(), acceptance = try parsedAlphas()
        let costs: RoundCosts
        if let cRatio {
            let verify = verifyRatio
            costs = RoundCosts(primary: { n in n == 1 ? 1 : verify }, secondaryStep: cRatio, projection: { _ in 0 },
                               roundOverhead: 0, baselineOverhead: 0)
        } else {
            let limits = MachineLimits(peakFlops: peakGflops * 1e9, bandwidth: bandwidthGbps * 1e9, threads: 1)
            let primary = Roofline(config: primaryPreset.config), secondary = Roofline(config: secondaryPreset.config)
            let c = context
            costs = RoundCosts(primary: { n in primary.time(tokens: n, context: c, limits: limits) * 1e9 },
                               secondaryStep: secondary.time(tokens: 1, context: c, limits: limits) * 1e9,
                               projection: { _ in 0 }, roundOverhead: 0, baselineOverhead: 0)
        }
        let ratio = costs.secondaryStep / costs.primary(1)
        var table = CSVTable(header: ["gamma", "alpha", "expected_tokens", "verify_ratio", "c_ratio",
                                      "predicted_speedup", "leviathan_speedup"])
        print("gamma  E[tokens/round]  T_L(g+1)/T_L(1)  predicted  Leviathan")
        var best = (gamma: 0, speedup: 0.0)
        for gamma in gammaList {
            let e = SpeedupModel.expectedTokens(acceptance: acceptance, gamma: gamma)
            let s = SpeedupModel.steadyStateSpeedup(costs: costs, acceptance: acceptance, gamma: gamma)
            let leviathan = SpeedupModel.leviathanSpeedup(expectedTokens: e, costRatio: ratio, gamma: gamma)
            let verify = costs.primary(gamma + 1) / costs.primary(1)
            print(String(format: "%5d  %15.3f  %15.3f  %9.3f  %9.3f", gamma, e, verify, s, leviathan))
            table.append([.integer(gamma), .string(alpha), .real(e), .real(verify), .real(ratio), .real(s),
                          .real(leviathan)])
            if s > best.speedup { best = (gamma, s) }
        }
        print(String(format: "optimal gamma: %d (predicted speedup %.3f; c = %.4f)", best.gamma, best.speedup, ratio))
        try AtomicFile.write(table.text, to: out + "/predict.csv")
        printError("wrote \(out)/predict.csv")
    }
}

extension Predict {
    /// The a-priori prediction from a finished profile.
    func runFromProfile(_ directory: String) throws {
        let costs = try CalibrationStage.load(directory: directory)
        let names = costs.secondaries.keys.sorted()
        let chosen = try secondary.map { name -> [String] in
            guard names.contains(name) else {
                throw ValidationError("--secondary \(name) was not profiled in \(directory) (profiled: "
                                      + names.joined(separator: ", ") + ")")
            }
            return [name]
        } ?? names
        let acceptance = AcceptanceEstimate.given(try parsedAlphas())
        var table = CSVTable(header: ["secondary", "strategy", "gamma", "alpha", "context", "tokens", "prior_speedup",
                                      "prior_ci95_lo", "prior_ci95_hi"])
        print("secondary  gamma  a-priori speedup [95% interval]")
        for name in chosen {
            var best = (gamma: 0, speedup: 0.0)
            for gamma in try parsedGammas() {
                guard let prior = costs.prior(strategy: strategy, secondary: name, gamma: gamma, acceptance: acceptance,
                                              context: context, tokens: tokens, seed: UInt64(gamma)) else { continue }
                print(String(format: "%9@  %5d  %.3f [%.3f, %.3f]", name, gamma, prior.speedup, prior.interval.low,
                             prior.interval.high))
                table.append([.string(name), .string(strategy.rawValue), .integer(gamma), .string(alpha),
                              .integer(context), .integer(tokens), .real(prior.speedup), .real(prior.interval.low),
                              .real(prior.interval.high)])
                if prior.speedup > best.speedup { best = (gamma, prior.speedup) }
            }
            print(String(format: "%@: optimal gamma %d (a-priori speedup %.3f)", name, best.gamma, best.speedup))
        }
        try AtomicFile.write(table.text, to: out + "/predict.csv")
        printError("wrote \(out)/predict.csv")
    }
}

extension ModelPreset: ExpressibleByArgument {}
