import Foundation
import Testing
import TandemEngine
import TandemFuzzing
import TandemHarness
import TandemModels
import TandemReport

/// The fuzz targets' committed inputs, replayed on every `make test`: the seeds `make fuzz`
/// starts from, and the inputs of crashes the fuzzer once found (Tests/Fuzz/regressions/TARGET,
/// each fixed since). A replay that crashes fails the whole test process, as it should.
@Suite struct FuzzReplayTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")
    static let packageDirectory = fuzzDirectory.deletingLastPathComponent().deletingLastPathComponent()

    init() {
        // The tokenizer target reads SmolLM2's GGUF (see `make models`) wherever the tests run.
        setenv("TANDEM_FUZZ_GGUF", Self.packageDirectory.appendingPathComponent(
            "models/SmolLM2-135M-Instruct.Q4_1.gguf").path, 0)
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedsAndRegressionsReplay(_ target: FuzzTarget) throws {
        let seeds = Self.fuzzDirectory.appendingPathComponent("seeds/\(target.rawValue)").path
        #expect(try target.replay(directory: seeds) >= 1, "no seed for \(target.rawValue) in \(seeds)")
        let regressions = Self.fuzzDirectory.appendingPathComponent("regressions/\(target.rawValue)").path
        if FileManager.default.fileExists(atPath: regressions) { try target.replay(directory: regressions) }
    }

    /// The seeds are valid inputs, so mutations of them reach the deep checks (config, tensor
    /// table, tokenizer, typed rows), not only the first header test.
    @Test func seedsAreAccepted() throws {
        let seeds = Self.fuzzDirectory.appendingPathComponent("seeds")
        let model = try ModelWeights.load(path: seeds.appendingPathComponent("safetensors/tiny_model.safetensors").path)
        #expect(model.config.vocabularySize == 6 && model.config.layerCount == 1)
        let gguf = try GGUFFile(path: seeds.appendingPathComponent("gguf/tiny_llama.gguf").path)
        #expect(try GGUFLlama.config(gguf).width == 8)
        let tokenizer = try GGUFTokenizer.load(gguf)
        #expect(tokenizer.decode(tokenizer.encode(" the cat")) == Array(" the cat".utf8))
        #expect(tokenizer.encode(" the").count == 1, "the merges Ġ t, h e, Ġt he should give one token")
        let csvPath = seeds.appendingPathComponent("sweep-csv/runs.csv").path
        let runs = try CSVTable.records(SweepRun.self, text: String(contentsOfFile: csvPath, encoding: .utf8),
                                        file: csvPath)
        #expect(runs.count == 3)
        _ = try Scenario.load(path: seeds.appendingPathComponent("scenario/quickstart.toml").path)
    }

    /// The invariant the tokenizer target checks holds on text the seeds do not cover.
    @Test func tokenizerRoundTripHoldsOnSamples() {
        for text in ["", " ", "a", "   leading spaces", "tabs\tand\nnewlines\n\n", "émoji 🙂 and 中文",
                     "'s 've 're 'd 'll n't", "x\u{301}\u{301}", String(repeating: "ab", count: 300)] {
            let bytes = Array(text.utf8)
            bytes.withUnsafeBytes { FuzzTarget.tokenizer.run($0) }
        }
    }
}
