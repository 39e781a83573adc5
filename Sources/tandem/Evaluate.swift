import ArgumentParser
import Foundation
import TandemEngine
import TandemHarness
import TandemTraining
import TandemModels

/// `tandem eval`: perplexity and agreement on a text file.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Perplexity, next-token accuracy and (for a secondary) agreement with the primary on a text file.",
        discussion: """
        llama-perplexity's protocol: the text is cut into chunks of --context tokens and the \
        second half of each chunk is scored. Prints one line on stdout: \
        perplexity=<v> cross_entropy=<nats/token> tokens=<scored> accuracy=<a>, plus \
        agreement=<share of argmax equal to the primary's> tv_distance=<mean 0.5 sum|p - q|> when a \
        secondary is evaluated (--secondary-checkpoint or --secondary-name). A tandem secondary \
        reads the primary's states with own blocks of --gamma-train positions.
        """)

    @OptionGroup var engine: EngineOptions
    @OptionGroup var models: DecodingModelOptions

    @Option(help: "UTF-8 text file to evaluate on (tokenized by the primary's tokenizer).")
    var text: String

    @Option(help: "Chunk length in tokens; the second half of each chunk is scored.")
    var context = 128

    @Option(help: "Own positions per block of a tandem secondary (gamma_train).")
    var gammaTrain = 2

    @Option(help: "Evaluate at most this many chunks.")
    var maxChunks = Int.max

    func validate() throws {
        guard context >= 2 else { throw ValidationError("--context must be at least 2, got \(context)") }
        guard gammaTrain >= 1 else { throw ValidationError("--gamma-train must be at least 1, got \(gammaTrain)") }
        guard maxChunks >= 1 else { throw ValidationError("--max-chunks must be at least 1, got \(maxChunks)") }
        if models.weights != .f32 && (models.secondaryCheckpoint != nil || models.secondaryName != nil) {
            throw ValidationError("--weights \(models.weights.rawValue) evaluates a primary alone (no secondary)")
        }
    }

    func run() throws {
        setBLASThreads(engine.threads)
        var primaryDefinition = ModelDefinition(name: "primary", source: models.primarySource, kind: .plain,
                                                layerMap: .output)
        var secondaryPath = models.secondaryCheckpoint
        var seed = engine.seed
        if let path = models.scenario {
            let scenario = try TrainingStage.trainedModels(try Scenario.load(path: path))
            seed = scenario.seed
            primaryDefinition = scenario.primary
            if let name = models.secondaryName {
                guard let definition = scenario.secondary(named: name) else {
                    throw ValidationError("\(path) defines no secondary named '\(name)' "
                                          + "(defined: \(scenario.secondaries.map(\.name).joined(separator: ", ")))")
                }
                guard case .checkpoint(let checkpoint) = definition.source else {
                    throw ValidationError("secondary '\(name)' of \(path) has random weights; evaluate trained models")
                }
                secondaryPath = checkpoint
            }
        }
        let primaryWeights = try ModelFactory.primary(primaryDefinition, seed: seed, backend: .openblas,
                                                      threads: 1).weights
        let primary = try TrainedModel(weights: primaryWeights)
        let tokenizer = try ModelFactory.tokenizer(primaryDefinition, config: primaryWeights.config)
        let tokens: [Int32]
        if tokenizer is ByteTokenizer {
            let corpus = try ByteCorpus(path: text, minimumBytes: context + 1)
            if let bad = corpus.tokens.first(where: { Int($0) >= primaryWeights.config.vocabularySize }) {
                throw ValidationError("\(text): byte \(bad) is outside the model's vocabulary of "
                                      + "\(primaryWeights.config.vocabularySize)")
            }
            tokens = corpus.tokens.map(Int32.init)
        } else {
            guard let data = FileManager.default.contents(atPath: text) else {
                throw ValidationError("\(text): cannot be read (missing or unreadable)")
            }
            // As llama-perplexity: the whole file tokenized once (BOS first when the model adds one).
            tokens = tokenizer.encode(String(decoding: data, as: UTF8.self), addSpecial: true).map(Int32.init)
            guard tokens.count >= context + 1 else {
                throw ValidationError("\(text): \(tokens.count) tokens, need at least --context + 1 = \(context + 1)")
            }
        }
        printError("eval: \(tokens.count) tokens (\(tokenizer.summary)), "
                   + "\(min((tokens.count - 1) / context, maxChunks)) chunks of \(context)")
        let bars = ProgressBars()
        let result: EvaluationResult
        if let secondaryPath {
            let checkpoint = try SecondaryCheckpoint.load(path: secondaryPath, primary: primaryWeights.config)
            guard checkpoint.weights.config.vocabularySize == primaryWeights.config.vocabularySize else {
                throw ValidationError("\(secondaryPath): the secondary's vocabulary "
                                      + "(\(checkpoint.weights.config.vocabularySize)) "
                                      + "differs from the primary's (\(primaryWeights.config.vocabularySize))")
            }
            let secondary = try TrainedModel(checkpoint: checkpoint, primary: primaryWeights.config,
                                             path: secondaryPath)
            result = Evaluator.evaluate(secondary, primary: primary, tokens: tokens, context: context,
                                        ownBlock: gammaTrain, maxChunks: maxChunks) { bars.update($0, $1, "eval") }
        } else if models.weights != .f32 {
            // Quantized weights exist only in the inference engine: evaluate through it.
            var definition = primaryDefinition
            definition.weights = models.weights
            let engineModel = try ModelFactory.primary(definition, seed: seed, backend: .packed,
                                                       threads: engine.threads)
            result = Evaluator.evaluate(engine: engineModel, tokens: tokens, context: context,
                                        maxChunks: maxChunks) { bars.update($0, $1, "eval") }
        } else {
            result = Evaluator.evaluate(primary, primary: nil, tokens: tokens, context: context,
                                        maxChunks: maxChunks) { bars.update($0, $1, "eval") }
        }
        print(result.line)
    }
}
