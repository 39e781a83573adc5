import Foundation
import TOMLKit
import TandemEngine
import TandemModels

/// Where a model's weights come from.
public enum ModelSource: Sendable {
    case preset(ModelPreset)
    case config(ModelConfig)
    case checkpoint(String)
    /// A GGUF file of the llama.cpp ecosystem (llama architecture), with its own tokenizer.
    case gguf(String)
}

/// A named model of a scenario.
public struct ModelDefinition: Sendable {
    public enum Kind: String, CaseIterable, Sendable { case tandem, plain }
    public var name: String
    public var source: ModelSource
    /// Secondaries only.
    public var kind: Kind
    public var layerMap: TandemLayerMap
    /// Present when the scenario trains this model (its source is then a config).
    public var training: ModelTrainingSettings?
    /// How its matrices are held at inference (`weights =`; default F32).
    public var weights: WeightFormat

    public init(name: String, source: ModelSource, kind: Kind, layerMap: TandemLayerMap,
                training: ModelTrainingSettings? = nil, weights: WeightFormat = .f32) {
        self.name = name
        self.source = source
        self.kind = kind
        self.layerMap = layerMap
        self.training = training
        self.weights = weights
    }
}

/// The profiling grid: block sizes and contexts at which every model's forward pass is timed.
public struct ProfileSettings: Sendable {
    public var tokens: [Int]
    public var contexts: [Int]
    public var repeats: Int
    public var warmup: Int
    /// Back-to-back forward passes per timed sample of a primary cell (the sample is their mean
    /// time): what a decoding loop pays per pass, with the pass-to-pass noise averaged down.
    public var passes: Int
}

/// The sweep axes and run settings.
public struct SweepSettings: Sendable {
    public var strategies: [StrategyKind]
    public var policies: [PolicyKind]
    public var secondaries: [String]
    public var gammas: [Int]
    /// Each entry is one acceptance profile (alpha per draft position; one value = i.i.d.).
    /// Empty means model mode (acceptance from the models themselves).
    public var alphas: [[Double]]
    /// How oracle decisions are drawn (`oracle_sampling`; default stratified).
    public var oracleSampling: OracleAcceptance.Sampling
    public var temperature: Float
    public var topK: Int
    public var topP: Float
    public var contexts: [Int]
    public var threads: [Int]
    public var tokens: Int
    public var repeats: Int
    public var warmup: Int
    public var gammaMax: Int
    public var pMin: Double
    public var tau: Float
    public var prompt: String

    public var sampling: SamplingParameters { SamplingParameters(temperature: temperature, topK: topK, topP: topP) }

    /// The secondaries a strategy drafts with: tandem strategies use the tandem secondaries;
    /// `speed` uses the plain ones when any are listed (the paper's baseline drafters), else all.
    public static func drafters(for strategy: StrategyKind, among listed: [ModelDefinition]) -> [ModelDefinition] {
        if strategy.needsTandem { return listed.filter { $0.kind == .tandem } }
        let plain = listed.filter { $0.kind == .plain }
        return plain.isEmpty ? listed : plain
    }
}

/// A declared experiment, read from a TOML file (format: scenarios/README.md).
public struct Scenario: Sendable {
    public var file: String
    public var name: String
    public var description: String
    public var seed: UInt64
    public var backend: KernelBackend
    public var primary: ModelDefinition
    public var secondaries: [ModelDefinition]
    public var profile: ProfileSettings
    public var sweep: SweepSettings
    public var resultsDirectory: String
    public var plotsDirectory: String
    /// The `[train]` table, when the scenario trains models.
    public var training: TrainingCorpusSettings?
    /// SHA-256-free content fingerprint (FNV-1a 64 of the file text), recorded in run.json.
    public var contentHash: String

    public func secondary(named name: String) -> ModelDefinition? { secondaries.first { $0.name == name } }

    /// Reads and validates the scenario at `path`.
    public static func load(path: String) throws -> Scenario {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ScenarioError(file: path, key: "", expectation: "cannot be read (missing or not UTF-8)")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> Scenario {
        try TOMLPreflight.check(text, file: file)
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw ScenarioError(file: file, key: "",
                                expectation: "not valid TOML: \(error.description) "
                                + "(line \(error.source.begin.line), column \(error.source.begin.column))")
        }
        let root = TOMLReader(file: file, path: "", table: table)
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        let name = try root.string("name") ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw root.fail("name",
                            "expected letters, digits, - or _ (it names the output directories), got \"\(name)\"")
        }
        let description = try root.string("description") ?? ""
        let training = try root.table("train").map { try readTrainingCorpus($0, name: name, directory: directory) }
        let seed = UInt64(try root.integer("seed", range: 0...Int.max) ?? 1)
        let backend = try root.choice("backend", KernelBackend.self) ?? .packed

        guard let primaryTable = try root.table("primary") else {
            throw root.fail("primary", "missing: the primary model must be defined")
        }
        let primary = try readModel(primaryTable, name: "primary", isPrimary: true, primaryConfig: nil,
                                    directory: directory, canTrain: training != nil)
        let primaryConfig = try resolvedConfig(primary, file: file)

        var secondaries: [ModelDefinition] = []
        if let table = try root.table("secondaries") {
            for key in table.table.keys.sorted() {
                guard let entry = try table.table(key) else { continue }
                secondaries.append(try readModel(entry, name: key, isPrimary: false, primaryConfig: primaryConfig,
                                                 directory: directory, canTrain: training != nil))
            }
            try table.finish()
        }

        guard let sweepTable = try root.table("sweep") else {
            throw root.fail("sweep", "missing: the sweep must be defined")
        }
        let sweep = try readSweep(sweepTable, secondaries: secondaries, directory: directory)
        let profileTable = try root.table("profile")
        let defaultTokens = Array(1...(max(sweep.gammas.max()!, sweep.gammaMax) + 1))
        let profile = ProfileSettings(
            tokens: try profileTable?.integers("tokens", range: 1...256) ?? defaultTokens,
            contexts: try profileTable?.integers("contexts", range: 0...1_000_000) ?? sweep.contexts,
            repeats: try profileTable?.integer("repeats", range: 1...10_000) ?? 5,
            warmup: try profileTable?.integer("warmup", range: 0...10_000) ?? 1,
            passes: try profileTable?.integer("passes", range: 1...1_000) ?? 8)
        try profileTable?.finish()

        let outputTable = try root.table("output")
        let results = try outputTable?.string("results") ?? "results/\(name)"
        let plots = try outputTable?.string("plots") ?? "plots/\(name)"
        try outputTable?.finish()
        try root.finish()

        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return Scenario(file: file, name: name, description: description, seed: seed, backend: backend,
                        primary: primary, secondaries: secondaries, profile: profile, sweep: sweep,
                        resultsDirectory: results,
                        plotsDirectory: plots, training: training, contentHash: String(format: "%016llx", hash))
    }

    static func readModel(_ reader: TOMLReader, name: String, isPrimary: Bool, primaryConfig: ModelConfig?,
                          directory: String, canTrain: Bool = false) throws -> ModelDefinition {
        let preset = try reader.choice("preset", ModelPreset.self)
        let checkpoint = try reader.string("checkpoint")
        let gguf = try reader.string("gguf")
        let configTable = try reader.table("config")
        let sources = [preset != nil, checkpoint != nil, gguf != nil, configTable != nil].filter { $0 }.count
        guard sources == 1 else {
            throw ScenarioError(file: reader.file, key: reader.path,
                                expectation: "expected exactly one of 'preset', 'checkpoint', 'gguf' or a 'config' "
                                + "table, got \(sources)")
        }
        var source: ModelSource
        if let preset { source = .preset(preset) }
        else if let gguf {
            let resolved = gguf.hasPrefix("/") || FileManager.default.fileExists(atPath: gguf)
                ? gguf : directory + "/" + gguf
            guard FileManager.default.fileExists(atPath: resolved) else {
                let hint = gguf.contains("SmolLM2") ? " (run `make models` to fetch SmolLM2-135M)" : ""
                throw reader.fail("gguf", "file '\(gguf)' does not exist\(hint)")
            }
            source = .gguf(resolved)
        }
        else if let checkpoint {
            let resolved = checkpoint.hasPrefix("/") ? checkpoint
                : (FileManager.default.fileExists(atPath: checkpoint) ? checkpoint : directory + "/" + checkpoint)
            guard FileManager.default.fileExists(atPath: resolved) else {
                throw reader.fail("checkpoint", "file '\(checkpoint)' does not exist")
            }
            source = .checkpoint(resolved)
        } else {
            let c = configTable!
            let base = primaryConfig ?? ModelConfig(vocabularySize: 256, width: 0, layerCount: 0, headCount: 1,
                                                    keyValueHeadCount: 1, feedForwardWidth: 0, maxContext: 2048)
            func required(_ key: String) throws -> Int {
                guard let value = try c.integer(key, range: 1...1_000_000) else {
                    throw c.fail(key, "missing (a positive integer)")
                }
                return value
            }
            let width = try required("width"), heads = try required("head_count")
            let config = ModelConfig(
                vocabularySize: try c.integer("vocabulary_size", range: 2...1_000_000) ?? base.vocabularySize,
                width: width, layerCount: try required("layer_count"), headCount: heads,
                keyValueHeadCount: try c.integer("key_value_head_count", range: 1...1_000_000) ?? heads,
                feedForwardWidth: try required("feed_forward_width"),
                maxContext: try c.integer("max_context", range: 1...1_000_000) ?? base.maxContext,
                ropeTheta: Float(try c.number("rope_theta", range: 1e-6...1e12) ?? 10_000),
                normEpsilon: Float(try c.number("norm_epsilon", range: 1e-12...1) ?? 1e-5),
                tiedEmbeddings: try c.bool("tied_embeddings") ?? false)
            try c.finish()
            do { try config.validate() } catch let error as ConfigError {
                throw ScenarioError(file: reader.file, key: "\(c.path).\(error.field)", expectation: error.expectation)
            }
            source = .config(config)
        }
        var kind = ModelDefinition.Kind.plain, layerMap = TandemLayerMap.output
        if !isPrimary {
            kind = try reader.choice("kind", ModelDefinition.Kind.self) ?? .tandem
            layerMap = try reader.choice("layer_map", TandemLayerMap.self) ?? .output
        }
        let weights = try reader.choice("weights", WeightFormat.self) ?? .f32
        var training: ModelTrainingSettings?
        if let trainTable = try reader.table("train") {
            guard canTrain else { throw reader.fail("train", "needs a top-level [train] table (the corpus)") }
            guard configTable != nil else {
                throw reader.fail("train", "only a model defined by a 'config' table can be trained")
            }
            training = try readModelTraining(trainTable, isPrimary: isPrimary)
        }
        try reader.finish()
        return ModelDefinition(name: name, source: source, kind: kind, layerMap: layerMap, training: training,
                               weights: weights)
    }

    /// The config of a definition (read from the checkpoint's metadata for checkpoints).
    static func resolvedConfig(_ model: ModelDefinition, file: String) throws -> ModelConfig {
        switch model.source {
        case .preset(let preset): return preset.config
        case .config(let config): return config
        case .checkpoint(let path): return try ModelWeights.load(path: path).config
        case .gguf(let path): return try GGUFLlama.config(try GGUFFile(path: path))
        }
    }

    static func readSweep(_ reader: TOMLReader, secondaries: [ModelDefinition],
                          directory: String) throws -> SweepSettings {
        let strategies = try reader.strings("strategies")?.enumerated().map { index, name -> StrategyKind in
            guard let kind = StrategyKind(rawValue: name), kind.isSpeculative || kind == .tandem else {
                throw ScenarioError(file: reader.file, key: reader.key("strategies") + "[\(index)]",
                                    expectation: "expected one of \"speed\", \"tandem-speed\", \"tandem\" "
                                    + "(the primary baseline always runs), got \"\(name)\"")
            }
            return kind
        } ?? [.tandemSpeed]
        let policies = try reader.strings("policies")?.enumerated().map { index, name -> PolicyKind in
            guard let kind = PolicyKind(rawValue: name) else {
                throw ScenarioError(file: reader.file, key: reader.key("policies") + "[\(index)]",
                                    expectation: "expected one of "
                                    + "\(PolicyKind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), "
                                    + "got \"\(name)\"")
            }
            return kind
        } ?? [.fixed]
        let names = try reader.strings("secondaries") ?? secondaries.map(\.name)
        guard !names.isEmpty else {
            throw reader.fail("secondaries", "no secondary is defined: add a [secondaries.NAME] table")
        }
        for (index, name) in names.enumerated() {
            guard secondaries.contains(where: { $0.name == name }) else {
                throw ScenarioError(file: reader.file, key: reader.key("secondaries") + "[\(index)]",
                                    expectation: "no secondary named \"\(name)\" "
                                    + "(defined: \(secondaries.map(\.name).joined(separator: ", ")))")
            }
        }
        let listed = names.compactMap { name in secondaries.first { $0.name == name } }
        for strategy in strategies where SweepSettings.drafters(for: strategy, among: listed).isEmpty {
            throw reader.fail("secondaries", "strategy \"\(strategy.rawValue)\" has no secondary it can use: "
                              + "the tandem strategies need one of kind = \"tandem\"")
        }
        let gammas = try reader.integers("gammas", range: 1...64) ?? [4]
        var alphas: [[Double]] = try reader.numbers("alphas", range: 0...1)?.map { [$0] } ?? []
        if let profiles = try reader.array("alpha_profiles", of: "arrays of numbers", { $0.array }) {
            for (index, profile) in profiles.enumerated() {
                let values = profile.map { $0.double ?? $0.int.map(Double.init) }
                guard profile.count > 0, values.allSatisfy({ $0 != nil && (0...1).contains($0!) }) else {
                    throw ScenarioError(file: reader.file, key: reader.key("alpha_profiles") + "[\(index)]",
                                        expectation: "expected a non-empty array of numbers in [0, 1]")
                }
                alphas.append(values.map { $0! })
            }
        }
        let temperature = Float(try reader.number("temperature", range: 0...100) ?? 0)
        var prompt = try reader.string("prompt") ?? "The tandem of a large and a small model decodes text."
        if let promptFile = try reader.string("prompt_file") {
            let path = promptFile.hasPrefix("/") ? promptFile : directory + "/" + promptFile
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty else {
                throw reader.fail("prompt_file", "file '\(promptFile)' does not exist or is empty")
            }
            prompt = text
        }
        guard !prompt.isEmpty else { throw reader.fail("prompt", "must not be empty") }
        if try reader.integer("baseline_every", range: 0...1_000_000) != nil {
            throw reader.fail("baseline_every", "no longer a setting: every strategy run is paired with its own "
                              + "primary-alone run (ABBA order); delete the key")
        }
        let settings = SweepSettings(
            strategies: strategies, policies: policies, secondaries: names, gammas: gammas, alphas: alphas,
            oracleSampling: try reader.choice("oracle_sampling", OracleAcceptance.Sampling.self) ?? .stratified,
            temperature: temperature, topK: try reader.integer("top_k", range: 0...1_000_000) ?? 0,
            topP: Float(try reader.number("top_p", range: 1e-6...1) ?? 1),
            contexts: try reader.integers("contexts", range: 1...1_000_000) ?? [64],
            threads: try reader.integers("threads", range: 1...256) ?? [1],
            tokens: try reader.integer("tokens", range: 2...1_000_000) ?? 64,
            repeats: try reader.integer("repeats", range: 1...10_000) ?? 3,
            warmup: try reader.integer("warmup", range: 0...10_000) ?? 1,
            gammaMax: try reader.integer("gamma_max", range: 1...64) ?? (gammas.max() ?? 8),
            pMin: try reader.number("p_min", range: 0...1) ?? 0.5,
            tau: Float(try reader.number("tau", range: 0...1) ?? 0.8),
            prompt: prompt)
        try reader.finish()
        return settings
    }
}

