import Foundation
import TandemEngine
import TandemReport

/// `tandem run`: profile -> calibrate -> sweep -> predict -> report -> plots.
public enum Pipeline {
    public struct Stages: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let profile = Stages(rawValue: 1)
        public static let sweep = Stages(rawValue: 2)
        public static let report = Stages(rawValue: 4)
        public static let all: Stages = [.profile, .sweep, .report]
    }

    /// Runs `stages`; with `resume`, finished work (a complete profile, finished sweep points)
    /// is kept. Returns the prediction quality when the report ran.
    /// The file that stamps a results directory with the scenario that made it.
    public static let stampFile = "scenario.hash"

    /// With `resume`, refuses a results directory made from another version of the scenario
    /// (its kept rows would mix two experiments) unless `force`; then stamps the directory.
    static func checkStamp(_ context: RunContext, resume: Bool, force: Bool) throws {
        let path = context.path(stampFile), hash = context.scenario.contentHash
        if resume, !force, let old = try? String(contentsOfFile: path, encoding: .utf8),
           old.trimmingCharacters(in: .whitespacesAndNewlines) != hash {
            throw ScenarioError(file: context.scenario.file, key: "",
                                expectation: "changed since \(context.resultsDirectory) was made (scenario hash "
                                + "\(old.trimmingCharacters(in: .whitespacesAndNewlines)), now \(hash)): "
                                + "--resume would mix "
                                + "two experiments; run without --resume, or add --force to keep the old rows anyway")
        }
        let manager = FileManager.default
        try manager.createDirectory(atPath: context.resultsDirectory, withIntermediateDirectories: true)
        // A run killed while writing leaves its temporary file (".NAME.tmp-PID"); never a result.
        for name in (try? manager.contentsOfDirectory(atPath: context.resultsDirectory)) ?? []
        where name.hasPrefix(".") && name.contains(".tmp-") {
            try? manager.removeItem(atPath: context.path(name))
        }
        try AtomicFile.write(hash + "\n", to: path)
    }

    @discardableResult
    public static func run(_ context: RunContext, stages: Stages = .all, resume: Bool, force: Bool = false,
                           render: Bool) throws -> ReportStage.Quality? {
        let start = Date()
        try checkStamp(context, resume: resume, force: force)
        if stages.contains(.profile) {
            if resume && ProfileStage.isComplete(context) {
                context.log("profile: kept from the earlier run")
            } else {
                try ProfileStage.run(context)
            }
        }
        var costs: CalibratedCosts?
        if ProfileStage.isComplete(context) {
            costs = try CalibrationStage.run(context)
            context.log("calibrate: wrote calibration.csv, layers.csv, block_cost.csv")
        }
        if stages.contains(.sweep) { try SweepStage.run(context, resume: resume) }
        var quality: ReportStage.Quality?
        if stages.contains(.report), let costs, context.exists(SweepStage.runsFile) {
            let results = try SweepAnalysis.results(context, costs: costs)
            let q = try ReportStage.run(context, costs: costs, results: results)
            quality = q
            try PlotScripts.write(context)
            context.log(String(format: "report: %d points, median |error| %.1f%%, max %.1f%%, coverage %.0f%%; "
                               + "optimal gamma agrees in %d of %d groups", q.points, 100 * q.medianRelativeError,
                               100 * q.maxRelativeError, 100 * (q.coverage ?? 0), q.optima.filter(\.agrees).count,
                               q.optima.count))
            if let median = q.priorMedianRelativeError, let largest = q.priorMaxRelativeError {
                context.log(String(format: "report: a priori median |error| %.1f%%, max %.1f%%, coverage %.0f%%; "
                                   + "optimal gamma agrees in %d of %d groups", 100 * median, 100 * largest,
                                   100 * (q.priorCoverage ?? 0), q.priorOptimaAgreeing, q.optima.count))
            }
            if render {
                if Gnuplot.executable == nil {
                    context.log("plots: gnuplot not installed; scripts written to \(context.plotsDirectory), "
                                + "render with `tandem plot`")
                } else {
                    let failures = try Gnuplot.renderAll(in: context.plotsDirectory)
                    for (script, message) in failures { context.log("plots: \(script) failed: \(message)") }
                    context.log("plots: rendered \(context.plotsDirectory)/*.png and *.svg")
                }
            }
        }
        let scenario = context.scenario
        var extra = ["scenario": scenario.name, "scenario_file": scenario.file, "scenario_hash": scenario.contentHash,
                     "backend": scenario.backend.rawValue, "resumed": String(resume)]
        // GGUF models are recorded by content (a 98 MB file hashes in well under a second).
        for definition in [scenario.primary] + scenario.secondaries {
            guard case .gguf(let path) = definition.source, let digest = FileDigest.sha256(path: path) else { continue }
            extra["gguf_\(definition.name)"] = "\(path) bytes=\(digest.bytes) sha256=\(digest.sha256) "
                + "tokenizer=\(context.tokenizer.summary)"
        }
        if let training = scenario.training {
            for (split, path) in [("train", training.text), ("valid", training.valid), ("ood", training.ood)] {
                guard let path, let digest = FileDigest.sha256(path: path) else { continue }
                extra["corpus_\(split)"] = "\(path) bytes=\(digest.bytes) sha256=\(digest.sha256)"
            }
        }
        try RunMetadata(command: CommandLine.arguments.joined(separator: " "),
                        threads: scenario.sweep.threads.first ?? 1,
                        blasCore: blasCoreName(), seed: scenario.seed, start: start,
                        extra: extra).write(to: context.path("run.json"))
        return quality
    }
}
