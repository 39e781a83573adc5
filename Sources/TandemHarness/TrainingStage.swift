import Foundation
import TandemAnalysis
import TandemEngine
import TandemReport
import TandemTraining

/// `tandem train` and the first stage of `tandem run` for scenarios with a `[train]` table:
/// trains every model that has a `train` table (the primary first, then each secondary beside
/// the frozen primary), evaluates them (Table 1) and hands back the scenario with those models
/// pointing at their checkpoints.
///
/// Finished models are kept: a checkpoint whose state file says it completed the same plan is
/// not retrained; an interrupted one resumes from its last state (bit-identical).
public enum TrainingStage {
    public static let table1File = "table1.csv"
    public static let trainingFile = "training.csv"

    /// The scenario with every model it trains pointing at its checkpoint, for commands that
    /// use trained models without training them (generate, eval); an untrained one is an error
    /// that says how to train it.
    public static func trainedModels(_ scenario: Scenario) throws -> Scenario {
        guard let settings = scenario.training else { return scenario }
        var resolved = scenario
        func resolve(_ definition: inout ModelDefinition) throws {
            guard definition.training != nil else { return }
            let path = checkpointPath(settings, model: definition.name)
            guard FileManager.default.fileExists(atPath: path) else {
                throw ScenarioError(file: scenario.file, key: definition.name == "primary" ? "primary" :
                                    "secondaries.\(definition.name)",
                                    expectation: "trained weights at \(path), which do not exist yet: "
                                    + "run `tandem train \(scenario.file)`")
            }
            definition.source = .checkpoint(path)
        }
        try resolve(&resolved.primary)
        for index in resolved.secondaries.indices { try resolve(&resolved.secondaries[index]) }
        return resolved
    }

    /// Checkpoint path of a trained model.
    public static func checkpointPath(_ settings: TrainingCorpusSettings, model: String) -> String {
        settings.checkpointsDirectory + "/" + model + ".safetensors"
    }

    /// `threads` overrides the scenario's `[train] threads`.
    public static func run(_ scenario: Scenario, resultsDirectory: String? = nil, threads: Int? = nil,
                           shouldStop: @escaping () -> Bool = { false },
                           log: (String) -> Void, progress: (Int, Int, String) -> Void) throws -> Scenario {
        guard let settings = scenario.training else { return scenario }
        let models = [scenario.primary] + scenario.secondaries
        guard models.contains(where: { $0.training != nil }) else { return scenario }
        let threads = threads ?? settings.threads
        setBLASThreads(threads)
        for path in [settings.text, settings.valid, settings.ood].compactMap({ $0 })
        where !FileManager.default.fileExists(atPath: path) {
            throw ScenarioError(file: scenario.file, key: "train", expectation: "corpus file '\(path)' does not exist "
                                + "(the bundled scenarios read corpora/: build it with `make corpus`)")
        }
        let corpus = try ByteCorpus(path: settings.text)
        log("train: corpus \(settings.text) (\(corpus.tokens.count) bytes)")
        var updated = scenario
        var trainingTable = CSVTable(header: ["model", "kind", "objective", "layer_map", "parameters", "steps",
                                              "tokens", "seconds", "tokens_per_second", "gflops_per_second",
                                              "sgemm_peak_gflops", "peak_fraction", "final_cross_entropy"])
        // The machine's sgemm peak in this process, before and after each model (median of 3):
        // the training throughput is reported against it.
        let probe = FlopsProbe(threads: threads)
        func peak() -> Double { [probe.measure(), probe.measure(), probe.measure()].sorted()[1] / 1e9 }
        func train(_ definition: ModelDefinition, blueprint: TrainingBlueprint,
                   teacher: ModelWeights?) throws -> String {
            guard let recipe = definition.training, case .config = definition.source else {
                preconditionFailure("train() on a model without a train table")
            }
            var plan = TrainingPlan(steps: recipe.steps, batchSize: settings.batchSize,
                                    sequenceLength: settings.sequenceLength)
            plan.optimizer.learningRate = recipe.learningRate
            plan.optimizer.warmupSteps = recipe.warmupSteps
            plan.optimizer.weightDecay = recipe.weightDecay
            plan.objective = recipe.objective
            plan.crossEntropySteps = recipe.crossEntropySteps
            plan.ownBlock = settings.gammaTrain
            plan.checkpointEvery = settings.checkpointEvery
            plan.seed = recipe.seed
            let path = checkpointPath(settings, model: definition.name)
            let trainer = try Trainer(blueprint: blueprint, plan: plan, corpus: corpus, teacher: teacher,
                                      outputPath: path)
            let label = "train \(definition.name)"
            let peakBefore = peak()
            let summary = try trainer.run(resume: true, logEvery: 10, shouldStop: shouldStop) { report in
                progress(report.step, report.steps, label)
                if report.step % 100 == 0 || report.step == report.steps {
                    log(String(format: "%@: step %d/%d loss %.4f ce %.4f lr %.2e |g| %.2f, %.0f tokens/s, "
                               + "%.1f GFLOP/s, %.0f s left", label, report.step, report.steps, report.objective,
                               report.crossEntropy, report.learningRate, report.gradientNorm, report.tokensPerSecond,
                               report.gigaflopsPerSecond, report.secondsLeft))
                }
            }
            if summary.interrupted {
                throw TrainingInterrupted(model: definition.name, step: summary.steps, steps: plan.steps,
                                          statePath: trainer.statePath)
            }
            if summary.resumedFrom == plan.steps {
                log("\(label): complete checkpoint kept (\(path))")
            } else {
                let sgemmPeak = (peakBefore + peak()) / 2
                trainingTable.append([.string(definition.name), .string(definition.kind.rawValue),
                                      .string(recipe.objective.rawValue),
                                      .string(blueprint.tandem?.layerMap.rawValue ?? ""), .integer(blueprint.count),
                                      .integer(plan.steps - summary.resumedFrom),
                                      .integer((plan.steps - summary.resumedFrom)
                                               * plan.batchSize * plan.sequenceLength),
                                      .real(summary.seconds), .real(summary.tokensPerSecond),
                                      .real(summary.gigaflopsPerSecond), .real(sgemmPeak),
                                      .real(summary.gigaflopsPerSecond / sgemmPeak), .real(summary.finalCrossEntropy)])
                log(String(format: "%@: %.1f GFLOP/s over the run, %.0f%% of the sgemm peak (%.1f GFLOP/s)", label,
                           summary.gigaflopsPerSecond, 100 * summary.gigaflopsPerSecond / sgemmPeak, sgemmPeak))
            }
            return path
        }

        // The primary: trained from scratch, or as the scenario defines it.
        var primaryWeights: ModelWeights
        if scenario.primary.training != nil, case .config(let config) = scenario.primary.source {
            let path = try train(scenario.primary, blueprint: try TrainingBlueprint(config: config), teacher: nil)
            updated.primary.source = .checkpoint(path)
            primaryWeights = try ModelWeights.load(path: path)
        } else {
            primaryWeights = try ModelFactory.primary(scenario.primary, seed: scenario.seed, backend: .openblas,
                                                      threads: threads).weights
        }
        for (index, definition) in scenario.secondaries.enumerated() {
            guard definition.training != nil, case .config(var config) = definition.source else { continue }
            config.vocabularySize = primaryWeights.config.vocabularySize
            let attachment = definition.kind == .tandem
                ? TandemAttachment(layerMap: definition.layerMap, secondary: config, primary: primaryWeights.config)
                : nil
            let blueprint = try TrainingBlueprint(config: config, tandem: attachment)
            let path = try train(definition, blueprint: blueprint, teacher: primaryWeights)
            updated.secondaries[index].source = .checkpoint(path)
        }
        let results = resultsDirectory ?? scenario.resultsDirectory
        if !trainingTable.rows.isEmpty {
            try AtomicFile.write(trainingTable.text, to: results + "/" + trainingFile)
        }
        // Evaluations of models that did not change are kept (delete the file to redo them).
        let table1 = results + "/" + table1File
        if trainingTable.rows.isEmpty && FileManager.default.fileExists(atPath: table1) {
            log("train: every model was already trained; \(table1) kept")
        } else {
            try writeTable1(updated, settings: settings, primary: primaryWeights, results: results, log: log,
                            progress: progress)
        }
        try RouterStage.run(updated, settings: settings, primary: try TrainedModel(weights: primaryWeights),
                            corpus: corpus, results: results, log: log)
        return updated
    }

    /// Table 1: every model on the validation and out-of-domain texts: accuracy, cross-entropy,
    /// and for secondaries agreement with the primary's argmax and TV distance to it.
    static func writeTable1(_ scenario: Scenario, settings: TrainingCorpusSettings, primary: ModelWeights,
                            results: String, log: (String) -> Void, progress: (Int, Int, String) -> Void) throws {
        let splits = [("valid", settings.valid), ("ood", settings.ood)].compactMap { name, path in
            path.map { (name, $0) }
        }
        guard !splits.isEmpty else { return }
        var table = CSVTable(header: ["secondary", "kind", "layer_map", "split", "tokens", "accuracy", "cross_entropy",
                                      "perplexity", "agreement", "tv_distance"])
        let primaryModel = try TrainedModel(weights: primary)
        for (split, path) in splits {
            let text = try ByteCorpus(path: path)
            let primaryResult = Evaluator.evaluate(primaryModel, primary: nil, tokens: text.tokens,
                                                   context: settings.evalContext, maxChunks: settings.evalChunks)
            table.append(["primary", "primary", "", .string(split), .integer(primaryResult.tokens),
                          .real(primaryResult.accuracy), .real(primaryResult.crossEntropy),
                          .real(primaryResult.perplexity), "", ""])
            log("eval primary on \(split): \(primaryResult.line)")
            for definition in scenario.secondaries {
                guard case .checkpoint(let checkpointPath) = definition.source else { continue }
                let checkpoint = try SecondaryCheckpoint.load(path: checkpointPath, primary: primary.config)
                let model = try TrainedModel(checkpoint: checkpoint, primary: primary.config, path: checkpointPath)
                let label = "eval \(definition.name) (\(split))"
                let result = Evaluator.evaluate(model, primary: primaryModel, tokens: text.tokens,
                                                context: settings.evalContext, ownBlock: settings.gammaTrain,
                                                maxChunks: settings.evalChunks) { progress($0, $1, label) }
                table.append([.string(definition.name), .string(definition.kind.rawValue),
                              .string(checkpoint.projections == nil ? "" : checkpoint.layerMap.rawValue),
                              .string(split), .integer(result.tokens), .real(result.accuracy),
                              .real(result.crossEntropy), .real(result.perplexity), .real(result.agreement ?? .nan),
                              .real(result.tvDistance ?? .nan)])
                log("\(label): \(result.line)")
            }
        }
        try AtomicFile.write(table.text, to: results + "/" + table1File)
    }
}

/// Training stopped on request (SIGINT / SIGTERM) with its state saved.
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public var model: String, step: Int, steps: Int, statePath: String
    public var description: String {
        "training of '\(model)' interrupted at step \(step) of \(steps); the state is saved in \(statePath): "
            + "run the same command again to resume"
    }
}
