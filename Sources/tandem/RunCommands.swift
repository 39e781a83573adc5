import ArgumentParser
import Foundation
import TandemHarness
import TandemReport

/// Options of the scenario-driven commands.
struct ScenarioOptions: ParsableArguments {
    @Argument(help: "Scenario file (TOML; see scenarios/README.md).")
    var scenario: String

    @Option(help: "Results directory (default: the scenario's, results/<name>).")
    var results: String?

    @Option(help: "Plots directory (default: the scenario's, plots/<name>).")
    var plots: String?

    /// The run's context; models the scenario trains are trained first (or kept when finished).
    /// The results directory is claimed (a lock file) for the whole run, and SIGINT / SIGTERM
    /// stop long stages at a safe point from here on.
    func context() throws -> RunContext {
        var loaded = try Scenario.load(path: scenario)
        let lock = try DirectoryLock(directory: results ?? loaded.resultsDirectory)
        Interrupt.install()
        if loaded.training != nil {
            let scenario = loaded
            loaded = try runInterruptible {
                try TrainingStage.run(scenario, resultsDirectory: results, shouldStop: { Interrupt.requested },
                                      log: { printError($0) }, progress: ProgressBars().update)
            }
        }
        return try RunContext(scenario: loaded, resultsDirectory: results, plotsDirectory: plots,
                              log: { printError($0) }, progress: ProgressBars().update,
                              shouldStop: { Interrupt.requested }, lock: lock)
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario: profile, calibrate, sweep, predict, report (CSV, summary.md) and plots.",
        discussion: "Each finished sweep point is written durably; "
            + "--resume keeps a complete profile and finished points.")

    @OptionGroup var options: ScenarioOptions
    @Flag(help: "Continue an interrupted run: keep the profile and the finished sweep points.")
    var resume = false
    @Flag(help: "With --resume: keep the old results even if the scenario changed since they were made.")
    var force = false
    @Flag(help: "Write the gnuplot scripts but do not render them.")
    var noRender = false

    func run() throws {
        let context = try options.context()
        try runInterruptible {
            try Pipeline.run(context, stages: .all, resume: resume, force: force, render: !noRender)
        }
    }
}

struct Profile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Profile a scenario's models (per layer and component over its grid of block sizes and contexts) "
            + "and calibrate the cost model.")
    @OptionGroup var options: ScenarioOptions

    func run() throws {
        let context = try options.context()
        try runInterruptible { try Pipeline.run(context, stages: [.profile], resume: false, render: false) }
    }
}

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a scenario's sweep only (measured speedups); reports too when a profile exists.")
    @OptionGroup var options: ScenarioOptions
    @Flag(help: "Keep the finished sweep points.")
    var resume = false
    @Flag(help: "With --resume: keep the old results even if the scenario changed since they were made.")
    var force = false

    func run() throws {
        let context = try options.context()
        try runInterruptible {
            try Pipeline.run(context, stages: [.sweep, .report], resume: resume, force: force, render: true)
        }
    }
}

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render every gnuplot script (.gp) in a directory to PNG and SVG.")
    @Argument(help: "Directory of .gp scripts, e.g. plots/quickstart.")
    var directory: String

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(directory) is not a directory")
        }
        let failures = try Gnuplot.renderAll(in: directory)
        for (script, message) in failures { printError("\(script): \(message)") }
        if !failures.isEmpty { throw ExitCode.failure }
        printError("rendered \(directory)")
    }
}
