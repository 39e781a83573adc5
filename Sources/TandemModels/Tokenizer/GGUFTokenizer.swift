/// Tokenizers from GGUF metadata.
public enum GGUFTokenizer {
    /// The tokenizer of a GGUF file; a clear error for a tokenizer model this engine lacks
    /// (only `gpt2`, byte-level BPE, is built; SentencePiece `llama` is not).
    /// `preTokenizer` overrides the file's `tokenizer.ggml.pre` (tests use it).
    public static func load(_ file: GGUFFile, preTokenizer: PreTokenizer? = nil) throws -> BPETokenizer {
        func fail(_ message: String) -> GGUFError { GGUFError(path: file.path, message: message) }
        let metadata = file.metadata
        guard let model = metadata["tokenizer.ggml.model"]?.string else {
            throw fail("metadata 'tokenizer.ggml.model' missing: the file has no tokenizer")
        }
        guard model == "gpt2" else {
            throw fail("tokenizer model '\(model)' is not supported (only 'gpt2', byte-level BPE)")
        }
        func strings(_ key: String) throws -> [String] {
            guard let values = metadata[key]?.array else { throw fail("metadata '\(key)' missing or not an array") }
            return try values.enumerated().map { index, value in
                guard let text = value.string else { throw fail("metadata '\(key)'[\(index)] is not a string") }
                return text
            }
        }
        let tokens = try strings("tokenizer.ggml.tokens")
        let merges = try strings("tokenizer.ggml.merges")
        var types: [BPETokenizer.TokenType]?
        if let values = metadata["tokenizer.ggml.token_type"]?.array {
            types = try values.enumerated().map { index, value in
                guard let raw = value.integer, let type = BPETokenizer.TokenType(rawValue: raw) else {
                    throw fail("metadata 'tokenizer.ggml.token_type'[\(index)] = \(value) is not a token type (0-6)")
                }
                return type
            }
        }
        let preName = metadata["tokenizer.ggml.pre"]?.string ?? "default"
        guard let pre = preTokenizer ?? PreTokenizer(ggufName: preName) else {
            throw fail("pre-tokenizer '\(preName)' is not supported (supported: "
                       + PreTokenizer.supportedGGUFNames.joined(separator: ", ") + ")")
        }
        func id(_ key: String) throws -> Int? {
            guard let value = metadata[key] else { return nil }
            guard let id = value.integer else { throw fail("metadata '\(key)' = \(value) is not an integer") }
            return id
        }
        return try BPETokenizer(tokens: tokens, merges: merges, types: types, preTokenizer: pre,
                                beginOfSequence: try id("tokenizer.ggml.bos_token_id"),
                                endOfSequence: try id("tokenizer.ggml.eos_token_id"),
                                addsBeginOfSequence: metadata["tokenizer.ggml.add_bos_token"]?.bool ?? false,
                                source: file.path)
    }
}
