import Foundation
import Testing
import TandemModels

/// The BPE tokenizer against Hugging Face `tokenizers` configured with SmolLM2's vocabulary and
/// merges (read from the GGUF) and each pre-tokenizer (Tests/Fixtures/make_tokenizer_fixture.py):
/// token for token on every fixture string.
@Suite struct TokenizerTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var text: String
            var ids: [Int]
        }
        var configs: [String: [Case]]
    }

    @Test(arguments: PreTokenizer.allCases)
    func matchesHuggingFaceTokenizers(_ preTokenizer: PreTokenizer) throws {
        let tokenizer = try GGUFTokenizer.load(try smolLM2(), preTokenizer: preTokenizer)
        let fixture = try loadJSON(Fixture.self, "tokenizer/smollm2.json")
        let cases = try #require(fixture.configs[preTokenizer.rawValue], "no fixture for \(preTokenizer.rawValue)")
        #expect(cases.count >= 200)
        var failures: [String] = []
        for item in cases {
            let ids = tokenizer.encode(item.text)
            if ids != item.ids {
                failures.append("\(item.text.debugDescription): got \(ids), expected \(item.ids)")
            }
        }
        let message = "\(failures.count) of \(cases.count) strings differ; first: "
            + failures.prefix(3).joined(separator: "; ")
        #expect(failures.isEmpty, "\(message)")
    }

    @Test func decodeInvertsEncode() throws {
        let tokenizer = try GGUFTokenizer.load(try smolLM2())
        let fixture = try loadJSON(Fixture.self, "tokenizer/smollm2.json")
        for item in fixture.configs["smollm"] ?? [] {
            let bytes = tokenizer.decode(tokenizer.encode(item.text))
            // SmolLM2 lacks a few control bytes; encoding drops them, as the reference does.
            let kept = Array(item.text.utf8).filter { tokenizer.encode(String(decoding: [$0], as: UTF8.self)) != [] }
            #expect(bytes == kept, "\(item.text.debugDescription) round trip")
        }
    }

    @Test func smolLM2SpecialTokens() throws {
        let tokenizer = try GGUFTokenizer.load(try smolLM2())
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.beginOfSequence == 1 && tokenizer.endOfSequence == 2)
        #expect(!tokenizer.addsBeginOfSequence)
        #expect(tokenizer.preTokenizer == .smollm)
        // Control tokens (<|im_end|> is EOS) decode to nothing, as llama.cpp renders them.
        #expect(tokenizer.decode([2]).isEmpty)
    }

    @Test func invalidUTF8IsPassedThrough() throws {
        let tokenizer = try GGUFTokenizer.load(try smolLM2())
        // "中" is E4 B8 AD; its first byte alone is a token of the byte alphabet.
        let whole = tokenizer.encode("中")
        let lead = try #require(BPETokenizer.byteToUnicode[0xE4].unicodeScalars.first)
        let single = try #require(tokenizer.tokenID(String(lead)))
        #expect(tokenizer.decode([single]) == [0xE4], "a lone lead byte is kept, not replaced by U+FFFD")
        #expect(tokenizer.decode(whole) == [0xE4, 0xB8, 0xAD])
    }
}
