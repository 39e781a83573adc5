import Foundation
import Testing
import TandemEngine
import TandemModels

/// The GGUF writer against the reader: a seeded random model written in every matrix type and
/// read back by `GGUFFile` + `GGUFLlama` has the same config, the same weights (F32: bit for
/// bit; quantized: exactly GGMLQuantize then GGMLDequantize of the source, which also checks
/// that the query/key row permutation is undone) and the same logits.
@Suite struct GGUFWriterTests {
    /// Rows (width 64, FFN 96) are whole 32-element blocks; grouped KV heads; head dim 16.
    static func config(tied: Bool) -> ModelConfig {
        ModelConfig(vocabularySize: 256, width: 64, layerCount: 2, headCount: 4, keyValueHeadCount: 2,
                    feedForwardWidth: 96, maxContext: 128, ropeTheta: 5_000, normEpsilon: 1e-6, tiedEmbeddings: tied)
    }

    static func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "tandem-writer-\(getpid())-\(name).gguf"
    }

    /// What the reader should give back for `source` written as `type`: matrices through the
    /// quantizer and back, 1-D tensors untouched.
    static func expectedWeights(_ source: ModelWeights, type: GGMLType) throws -> ModelWeights {
        let expected = try ModelWeights(config: source.config)
        for spec in source.table.specs {
            let from = source.storage + spec.offset, to = expected.storage + spec.offset
            let tensorType = spec.shape.count == 2 ? type : .f32
            var bytes = [UInt8](repeating: 0, count: tensorType.byteCount(elements: spec.count)!)
            bytes.withUnsafeMutableBytes {
                GGMLQuantize.run(tensorType, from, count: spec.count, into: $0.baseAddress!)
            }
            bytes.withUnsafeBytes { GGMLDequantize.run(tensorType, $0.baseAddress!, count: spec.count, into: to) }
        }
        return expected
    }

    /// Logits of every position of a seeded 12-token block.
    static func logits(_ weights: ModelWeights) -> [Float] {
        let model = Transformer(weights: weights, backend: .packed, threads: 1)
        let tokens = (0..<12).map { ($0 * 37 + 11) % weights.config.vocabularySize }
        let cache = model.makeCache(capacity: 32), state = model.makeState(maxTokens: 12, contextCapacity: 32)
        model.forward(tokens, cache: cache, state: state)
        return (0..<tokens.count).flatMap { Array(state.logits($0)) }
    }

    @Test(arguments: GGUFWriter.matrixTypes, [false, true])
    func writtenModelReadsBack(type: GGMLType, tied: Bool) throws {
        let config = Self.config(tied: tied)
        let source = try ModelWeights.random(config: config, seed: 42)
        let path = Self.temporaryPath("\(type.name)-\(tied)")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try GGUFWriter.write(source, type: type, to: path, name: "writer-test")

        let file = try GGUFFile(path: path)
        #expect(file.version == 3)
        #expect(file.metadata["general.architecture"]?.string == "llama")
        #expect(file.metadata["general.alignment"] == .uint32(32))
        #expect(file.metadata["tokenizer.ggml.model"]?.string == "gpt2")
        #expect(try GGUFLlama.config(file) == config)
        for tensor in file.tensors {
            #expect(tensor.fileOffset % 32 == 0, "\(tensor.name) at \(tensor.fileOffset)")
            #expect(tensor.type == (tensor.dimensions.count == 2 ? type : .f32), "\(tensor.name) is \(tensor.type)")
        }
        #expect((file.tensor(named: "output.weight") == nil) == tied)

        let read = try GGUFLlama.weights(file)
        let expected = type == .f32 ? source : try Self.expectedWeights(source, type: type)
        for spec in config.table.specs {
            let got = read.storage + spec.offset, want = expected.storage + spec.offset
            let mismatches = (0..<spec.count).filter { got[$0].bitPattern != want[$0].bitPattern }.count
            #expect(mismatches == 0, "\(spec.name) as \(type): \(mismatches) of \(spec.count) values differ")
        }
        #expect(Self.logits(read) == Self.logits(expected), "logits of the read-back model (\(type))")
        if type != .f32 { // the quantization is not a no-op, so the comparison above could fail
            #expect(Self.logits(read) != Self.logits(source))
        }
    }

    /// The tokenizer llama.cpp reads: 256 byte tokens in GPT-2's printable mapping, all distinct.
    @Test func byteVocabularyIsGPT2ByteMapping() throws {
        let source = try ModelWeights.random(config: Self.config(tied: true), seed: 1)
        let data = try GGUFWriter.encode(source, type: .f32)
        let path = Self.temporaryPath("vocabulary")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try data.write(to: URL(fileURLWithPath: path))
        let tokens = try #require(GGUFFile(path: path).metadata["tokenizer.ggml.tokens"]?.array).compactMap(\.string)
        #expect(tokens.count == 256)
        #expect(Set(tokens).count == 256)
        #expect(tokens[Int(UInt8(ascii: "A"))] == "A")
        #expect(tokens[Int(UInt8(ascii: " "))] == "\u{120}") // GPT-2's "Ġ"
        #expect(tokens[10] == "\u{10A}") // newline: "Ċ"
    }

    @Test func rowsThatAreNotWholeBlocksAreRejected() throws {
        let config = ModelConfig(vocabularySize: 256, width: 48, layerCount: 1, headCount: 3, keyValueHeadCount: 3,
                                 feedForwardWidth: 64, maxContext: 64)
        let source = try ModelWeights.random(config: config, seed: 3)
        let path = Self.temporaryPath("odd")
        #expect(throws: GGUFError.self) { try GGUFWriter.write(source, type: .q8_0, to: path) }
        #expect(!FileManager.default.fileExists(atPath: path), "nothing is left behind")
        try GGUFWriter.write(source, type: .f32, to: path) // F32 has no blocks
        try FileManager.default.removeItem(atPath: path)
    }

    @Test func smallVocabularyIsRejected() throws {
        let config = ModelConfig(vocabularySize: 100, width: 64, layerCount: 1, headCount: 2, keyValueHeadCount: 2,
                                 feedForwardWidth: 64, maxContext: 64)
        let source = try ModelWeights.random(config: config, seed: 3)
        #expect(throws: GGUFError.self) { try GGUFWriter.encode(source, type: .f32) }
    }
}

extension ModelConfig {
    var table: ParameterTable { ParameterTable(config: self) }
}
