import Foundation
import TandemModels

/// The tokenizer target: SmolLM2's BPE (from the GGUF of `make models`, or `TANDEM_FUZZ_GGUF`)
/// must encode any text and decode it back to the same bytes, except for the control bytes its
/// vocabulary lacks (which HF tokenizers drops too).
enum FuzzTokenizer {
    static let path = ProcessInfo.processInfo.environment["TANDEM_FUZZ_GGUF"]
        ?? "models/SmolLM2-135M-Instruct.Q4_1.gguf"

    static let tokenizer: BPETokenizer = {
        do {
            return try GGUFTokenizer.load(GGUFFile(path: path))
        } catch {
            FileHandle.standardError.write(Data("tokenizer target: \(error) (run `make models`)\n".utf8))
            exit(2)
        }
    }()

    /// The bytes the vocabulary can spell: a byte-level BPE has one token per byte, but
    /// SmolLM2's lacks a few; text containing those cannot round-trip.
    static let spellableBytes: Set<UInt8> = {
        Set((0...255).map(UInt8.init).filter { byte in
            let symbol = String(BPETokenizer.byteToUnicode[Int(byte)])
            return tokenizer.tokenID(symbol) != nil
        })
    }()

    static func check(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        let tokens = tokenizer.encode(text)
        guard tokens.allSatisfy({ (0..<tokenizer.vocabularySize).contains($0) }) else {
            fatalError("encode produced a token outside the vocabulary for \(text.debugDescription)")
        }
        let utf8 = Array(text.utf8)
        guard utf8.allSatisfy(spellableBytes.contains) else { return }
        let decoded = tokenizer.decode(tokens)
        if decoded != utf8 {
            fatalError("decode(encode(s)) != s for \(text.debugDescription): got "
                       + "\(String(decoding: decoded, as: UTF8.self).debugDescription)")
        }
    }
}
