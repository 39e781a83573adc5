/// Text to tokens and back, as a model's vocabulary defines it.
///
/// Contracts: `encode` never fails (every string has an encoding); `decode` returns raw bytes,
/// which need not be valid UTF-8 (a token may end inside a multi-byte character) and are
/// passed through, not repaired; `decode(encode(s))` is `s`'s UTF-8 for text without special
/// tokens.
public protocol Tokenizer: Sendable {
    var vocabularySize: Int { get }
    /// The token a sequence starts with, when the model has one.
    var beginOfSequence: Int? { get }
    /// The token that ends a sequence, when the model has one (generation stops there).
    var endOfSequence: Int? { get }
    /// Whether `encode(_:addSpecial: true)` prepends `beginOfSequence`.
    var addsBeginOfSequence: Bool { get }
    /// A short description for logs and CSV metadata (e.g. "bpe gpt2/smollm 49152").
    var summary: String { get }
    /// Equal for tokenizers that map every text to the same tokens (models may then share drafts).
    var fingerprint: String { get }

    /// The tokens of `text`; with `addSpecial`, preceded by BOS when the model adds one.
    func encode(_ text: String, addSpecial: Bool) -> [Int]
    /// The bytes the tokens stand for.
    func decode(_ tokens: [Int]) -> [UInt8]
}

extension Tokenizer {
    public func encode(_ text: String) -> [Int] { encode(text, addSpecial: false) }

    /// The decoded bytes as a String, invalid UTF-8 replaced by U+FFFD (for display only).
    public func decodeText(_ tokens: [Int]) -> String { String(decoding: decode(tokens), as: UTF8.self) }
}

/// The engine's own models: one token per byte (token = byte mod vocabulary size, so models
/// with fewer than 256 tokens still accept any text), no special tokens.
public struct ByteTokenizer: Tokenizer {
    public let vocabularySize: Int
    public var beginOfSequence: Int? { nil }
    public var endOfSequence: Int? { nil }
    public var addsBeginOfSequence: Bool { false }
    public var summary: String { "bytes \(vocabularySize)" }
    public var fingerprint: String { "bytes-\(vocabularySize)" }

    public init(vocabularySize: Int) {
        precondition(vocabularySize >= 1, "a vocabulary needs at least one token")
        self.vocabularySize = vocabularySize
    }

    public func encode(_ text: String, addSpecial: Bool) -> [Int] { text.utf8.map { Int($0) % vocabularySize } }

    public func decode(_ tokens: [Int]) -> [UInt8] { tokens.map { UInt8(truncatingIfNeeded: $0) } }
}
