import Foundation
import TandemEngine
import TandemModels
import TandemReport

/// Everything a run's stages share: the scenario, its engines, where results go, and how
/// progress is reported.
public final class RunContext {
    public let scenario: Scenario
    public let primary: Transformer
    /// The primary's tokenizer (prompts are its tokens; a secondary shares its vocabulary).
    public let tokenizer: any Tokenizer
    public let secondaries: [BuiltSecondary]
    public let resultsDirectory: String
    public let plotsDirectory: String
    /// Progress lines (stderr in the CLI).
    public let log: (String) -> Void
    /// Progress of a long loop: (done, total, label).
    public let progress: (Int, Int, String) -> Void
    /// Polled by long loops at safe points (between sweep runs, between profile rounds); true
    /// stops the stage with `RunInterrupted`, its finished work durable.
    public let shouldStop: () -> Bool
    /// The claim on `resultsDirectory` (held as long as the context lives), when the caller took one.
    public let lock: DirectoryLock?

    public init(scenario: Scenario, resultsDirectory: String? = nil, plotsDirectory: String? = nil,
                log: @escaping (String) -> Void, progress: @escaping (Int, Int, String) -> Void,
                shouldStop: @escaping () -> Bool = { false }, lock: DirectoryLock? = nil) throws {
        self.scenario = scenario
        self.lock = lock
        self.shouldStop = shouldStop
        self.resultsDirectory = resultsDirectory ?? scenario.resultsDirectory
        self.plotsDirectory = plotsDirectory ?? scenario.plotsDirectory
        self.log = log
        self.progress = progress
        let threads = scenario.sweep.threads.first ?? 1
        setBLASThreads(threads)
        log("building models (seed \(scenario.seed), backend \(scenario.backend.rawValue))...")
        primary = try ModelFactory.primary(scenario.primary, seed: scenario.seed, backend: scenario.backend,
                                           threads: threads)
        tokenizer = try ModelFactory.tokenizer(scenario.primary, config: primary.config)
        var built: [BuiltSecondary] = []
        for (index, definition) in scenario.secondaries.enumerated()
        where scenario.sweep.secondaries.contains(definition.name) {
            try ModelFactory.checkSharedVocabulary(definition, primary: tokenizer)
            built.append(try ModelFactory.secondary(definition, primary: primary.config, index: index,
                                                    seed: scenario.seed, backend: scenario.backend, threads: threads))
        }
        secondaries = built
        let needed = (scenario.sweep.contexts.max() ?? 0) + scenario.sweep.tokens + scenario.sweep.gammaMax + 2
        let profiled = (scenario.profile.contexts.max() ?? 0) + (scenario.profile.tokens.max() ?? 1)
        let limit = ([primary.config.maxContext] + secondaries.map(\.model.config.maxContext)).min()!
        guard max(needed, profiled) <= limit else {
            throw ScenarioError(file: scenario.file, key: "sweep.contexts",
                                expectation: "context + tokens + gamma_max (\(max(needed, profiled))) "
                                + "exceeds the models' max_context \(limit)")
        }
    }

    /// Throws `RunInterrupted` when a stop was requested; `saved` says what is already durable.
    public func checkStop(stage: String, saved: String) throws {
        guard shouldStop() else { return }
        throw RunInterrupted(stage: stage, saved: saved, scenarioFile: scenario.file,
                             resultsDirectory: resultsDirectory)
    }

    public func secondary(_ name: String) -> BuiltSecondary { secondaries.first { $0.name == name }! }

    public func path(_ file: String) -> String { resultsDirectory + "/" + file }

    /// Whether an earlier stage wrote `file`.
    public func exists(_ file: String) -> Bool { FileManager.default.fileExists(atPath: path(file)) }

    /// Reads a CSV written by an earlier stage as typed records (by column name), or nil if the
    /// file is absent; a malformed file is an error naming it.
    public func readRecords<Record: CSVRecord>(_ type: Record.Type, _ file: String) throws -> [Record]? {
        guard exists(file) else { return nil }
        guard let text = try? String(contentsOfFile: path(file), encoding: .utf8) else {
            throw CSVFormatError(file: path(file), line: nil, column: nil, expectation: "readable UTF-8 text")
        }
        return try CSVTable.records(Record.self, text: text, file: path(file))
    }

    public func write(_ table: CSVTable, to file: String) throws { try AtomicFile.write(table.text, to: path(file)) }

    public func write<Record: CSVRecord>(_ records: [Record], to file: String) throws {
        try write(CSVTable(records: records), to: file)
    }
}

/// A stage stopped on request (SIGINT / SIGTERM) at a safe point.
public struct RunInterrupted: Error, CustomStringConvertible {
    public var stage: String
    /// What is on disk and will be kept by `--resume`.
    public var saved: String
    public var scenarioFile: String
    public var resultsDirectory: String
    public var description: String {
        "\(stage) interrupted; \(saved). Continue with: tandem run \(scenarioFile) --results \(resultsDirectory) "
            + "--resume"
    }
}
