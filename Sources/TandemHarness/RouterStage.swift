import Foundation
import TandemEngine
import TandemReport
import TandemTraining

/// Trains each trained secondary's router (the adaptive block-length policy) on soft labels
/// 1 - TV(p, q) from the trained pair, and judges it on held-out text at several thresholds.
///
/// The router predicts the probability that a draft is accepted; `RouterPolicy` keeps drafting
/// while the prediction is at least tau and stops at the first draft below it (or gamma_max).
enum RouterStage {
    static let topK = 4, hiddenWidth = 32
    static let file = "router.csv"

    static func path(_ settings: TrainingCorpusSettings, secondary: String) -> String {
        settings.checkpointsDirectory + "/" + secondary + ".router.safetensors"
    }

    /// The trained router of `secondary`, if the scenario trains one and it exists.
    static func trained(_ scenario: Scenario, secondary: String) throws -> Router? {
        guard let settings = scenario.training, settings.routerSteps > 0 else { return nil }
        let file = path(settings, secondary: secondary)
        return FileManager.default.fileExists(atPath: file) ? try Router.load(path: file) : nil
    }

    static func run(_ scenario: Scenario, settings: TrainingCorpusSettings, primary: TrainedModel, corpus: ByteCorpus,
                    results: String, log: (String) -> Void) throws {
        guard settings.routerSteps > 0 else { return }
        let heldOut = try settings.valid.map { try ByteCorpus(path: $0) }
        var table = CSVTable(header: ["secondary", "tau", "positions", "continue_rate", "greedy_accept_when_continue",
                                      "greedy_accept_when_stop", "mean_label", "bce_loss"])
        for definition in scenario.secondaries where definition.training != nil {
            guard case .checkpoint(let checkpointPath) = definition.source else { continue }
            let checkpoint = try SecondaryCheckpoint.load(path: checkpointPath, primary: primary.blueprint.config)
            let secondary = try TrainedModel(checkpoint: checkpoint, primary: primary.blueprint.config,
                                             path: checkpointPath)
            let file = path(settings, secondary: definition.name)
            let router: Router
            var loss = Double.nan
            if FileManager.default.fileExists(atPath: file) {
                router = try Router.load(path: file)
                log("router \(definition.name): kept \(file)")
            } else {
                router = Router.random(topK: topK, hiddenWidth: hiddenWidth,
                                       embeddingWidth: checkpoint.weights.config.width,
                                       seed: scenario.seed &+ 17, outputBias: 0)
                let data = RouterDataset.collect(secondary: secondary, primary: primary, router: router, corpus: corpus,
                                                 batches: settings.routerBatches, batch: settings.batchSize,
                                                 length: settings.sequenceLength, ownBlock: settings.gammaTrain,
                                                 seed: scenario.seed &+ 0x5EED)
                loss = RouterTrainer.train(router, on: data, steps: settings.routerSteps, seed: scenario.seed &+ 19)
                try router.save(to: file)
                log(String(format: "router %@: trained on %d positions, final BCE %.4f -> %@", definition.name,
                           data.count, loss, file))
            }
            guard let heldOut else { continue }
            let data = RouterDataset.collect(secondary: secondary, primary: primary, router: router, corpus: heldOut,
                                             batches: 2, batch: settings.batchSize, length: settings.sequenceLength,
                                             ownBlock: settings.gammaTrain, seed: scenario.seed &+ 0xE7A1)
            let predictions = (0..<data.count).map { i in
                data.features.withUnsafeBufferPointer {
                    router.predict(features: $0.baseAddress! + i * data.inputWidth)
                }
            }
            var bce = 0.0
            for (prediction, label) in zip(predictions, data.labels) {
                let s = min(max(Double(prediction), 1e-7), 1 - 1e-7), y = Double(label)
                let term: Double = y * Foundation.log(s) + (1 - y) * Foundation.log(1 - s)
                bce -= term
            }
            bce /= Double(max(data.count, 1))
            let labelSum: Double = data.labels.reduce(0) { $0 + Double($1) }
            let meanLabel = labelSum / Double(max(data.count, 1))
            for tau in settings.routerTaus {
                let continuing = predictions.indices.filter { Double(predictions[$0]) >= tau }
                let stopping = predictions.indices.filter { Double(predictions[$0]) < tau }
                func acceptRate(_ indices: [Int]) -> Double {
                    indices.isEmpty ? .nan
                        : Double(indices.filter { data.greedyAccepted[$0] }.count) / Double(indices.count)
                }
                table.append([.string(definition.name), .real(tau), .integer(data.count),
                              .real(Double(continuing.count) / Double(max(data.count, 1))),
                              .real(acceptRate(continuing)),
                              .real(acceptRate(stopping)), .real(meanLabel), .real(bce)])
            }
        }
        if !table.rows.isEmpty { try AtomicFile.write(table.text, to: results + "/" + file) }
    }
}
