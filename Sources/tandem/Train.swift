import ArgumentParser
import Foundation
import TandemEngine
import TandemHarness
import TandemReport

/// `tandem train`: trains the models of a scenario that have `train` tables, then evaluates them.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a scenario's models (primary from scratch, then each secondary beside the frozen primary).",
        discussion: """
        Models with a `train` table are trained on the scenario's [train] corpus into \
        checkpoints/<scenario>/<model>.safetensors (a .state.safetensors beside each holds the \
        optimizer state). Finished models are kept; an interrupted run (Ctrl-C) saves its state \
        and the same command resumes it bit for bit. Then Table 1 (accuracy, cross-entropy, \
        agreement and TV distance on the valid and ood texts) goes to results/<scenario>/table1.csv.
        """)

    @Argument(help: "Scenario file with a [train] table (see scenarios/README.md).")
    var scenario: String

    @Option(help: "Results directory (default: the scenario's, results/<name>).")
    var results: String?

    @Option(help: "Threads for OpenBLAS during training (default: the scenario's [train] threads, 2).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        let loaded = try Scenario.load(path: scenario)
        guard loaded.training != nil else {
            throw ValidationError("\(scenario) has no [train] table: nothing to train")
        }
        let lock = try DirectoryLock(directory: results ?? loaded.resultsDirectory)
        defer { withExtendedLifetime(lock) {} }
        Interrupt.install()
        _ = try runInterruptible {
            try TrainingStage.run(loaded, resultsDirectory: results, threads: threads,
                                  shouldStop: { Interrupt.requested }, log: { printError($0) },
                                  progress: ProgressBars().update)
        }
    }
}

/// Progress bars keyed by label, for stage callbacks.
final class ProgressBars {
    private var bars: [String: ProgressLine] = [:]

    func update(_ done: Int, _ total: Int, _ label: String) {
        let bar = bars[label] ?? ProgressLine(total: total, label: label)
        bars[label] = bar
        bar.update(done)
        if done == total { bar.finish(); bars[label] = nil }
    }
}
