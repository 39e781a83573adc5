/// The engine's byte-level vocabulary (token id = byte value) as GGUF `tokenizer.*` metadata that
/// llama.cpp loads: a GPT-2 style byte-level BPE ("gpt2") whose 256 tokens are the bytes in
/// GPT-2's printable byte-to-unicode mapping, in byte order, with no merges, so llama.cpp
/// tokenizes text to exactly the engine's byte ids and detokenizes them back.
///
/// llama.cpp requires, for "gpt2": `tokenizer.ggml.tokens` (strings), a
/// `tokenizer.ggml.merges` array of strings (may be empty), and every byte's mapped character
/// as a token (it looks up the newline's); the pre-tokenizer is named ("default") to avoid its
/// missing-pre-tokenizer warning. Ids beyond 255 (a vocabulary larger than the bytes, as random
/// profiling models may have) are unused placeholder tokens. BOS/EOS are left at llama.cpp's
/// defaults for "gpt2" (id 11) and no BOS is added; the engine's models have no special tokens.
enum GGUFByteVocabulary {
    /// GGML token types (llama.h `llama_token_type`).
    static let normalTokenType: Int32 = 1, unusedTokenType: Int32 = 5

    /// The metadata entries, in writing order, for a vocabulary of `size` >= 256 tokens.
    static func metadata(size: Int) -> [(key: String, value: GGUFValue)] {
        precondition(size >= 256, "a byte-level vocabulary needs at least 256 tokens, got \(size)")
        let bytes = byteCharacters()
        let tokens = (0..<size).map { id -> GGUFValue in
            .string(id < 256 ? bytes[id] : "<|tandem_unused_\(id)|>")
        }
        let types = (0..<size).map { GGUFValue.int32($0 < 256 ? normalTokenType : unusedTokenType) }
        return [
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string("default")),
            ("tokenizer.ggml.tokens", .array(tokens)),
            ("tokenizer.ggml.token_type", .array(types)),
            ("tokenizer.ggml.merges", .array([])),
            ("tokenizer.ggml.add_bos_token", .bool(false)),
        ]
    }

    /// GPT-2's `bytes_to_unicode`: the printable Latin-1 bytes map to themselves, the other 68
    /// bytes to U+0100 onwards in byte order.
    static func byteCharacters() -> [String] {
        let printable = Set(Array(33...126) + Array(161...172) + Array(174...255))
        var next = 256
        return (0..<256).map { byte in
            if printable.contains(byte) { return String(UnicodeScalar(UInt8(byte))) }
            defer { next += 1 }
            return String(UnicodeScalar(UInt32(next))!)
        }
    }
}
