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
    @discardableResult
    public static func run(_ context: RunContext, stages: Stages = .all, resume: Bool, render: Bool) throws -> ReportStage.Quality? {
        let start = Date()
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
        if stages.contains(.report), let costs, context.readTable(SweepStage.runsFile) != nil {
            let results = SweepAnalysis.results(context, costs: costs)
            quality = try ReportStage.run(context, costs: costs, results: results)
            try PlotScripts.write(context)
            context.log(String(format: "report: %d points, median |error| %.1f%%, max %.1f%%; optimal gamma agrees in %d of %d groups",
                               quality!.points, 100 * quality!.medianRelativeError, 100 * quality!.maxRelativeError,
                               quality!.optima.filter(\.agrees).count, quality!.optima.count))
            if render {
                if Gnuplot.executable == nil {
                    context.log("plots: gnuplot not installed; scripts written to \(context.plotsDirectory), render with `tandem plot`")
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
        try RunMetadata(command: CommandLine.arguments.joined(separator: " "), threads: scenario.sweep.threads.first ?? 1,
                        blasCore: blasCoreName(), seed: scenario.seed, start: start,
                        extra: extra).write(to: context.path("run.json"))
        return quality
    }
}
