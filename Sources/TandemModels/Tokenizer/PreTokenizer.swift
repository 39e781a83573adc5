/// How byte-level BPE tokenizers cut text into words before merging (the regular expressions
/// of GGUF's `tokenizer.ggml.pre`, as llama.cpp and Hugging Face tokenizers apply them).
///
/// Each expression is applied in turn to every piece the previous one produced; matches and
/// the text between them both become pieces. Matching is on Unicode scalars (not grapheme
/// clusters), as in the reference implementations.
public enum PreTokenizer: String, CaseIterable, Sendable {
    /// GPT-2's expression.
    case gpt2
    /// SmolLM (and StarCoder): every digit alone, then GPT-2's expression.
    case smollm
    /// Llama 3's expression (case-insensitive contractions, numbers in groups of up to three).
    case llamaBPE = "llama-bpe"

    static let gpt2Pattern =
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"#
        + #"|\s*[\r\n]+|\s+(?!\S)|\s+"#

    public var patterns: [String] {
        switch self {
        case .gpt2: return [Self.gpt2Pattern]
        case .smollm: return [#"\p{N}"#, Self.gpt2Pattern]
        case .llamaBPE: return [Self.llama3Pattern]
        }
    }

    /// The pre-tokenizer of GGUF's `tokenizer.ggml.pre` value (nil: not supported).
    public init?(ggufName: String) {
        switch ggufName {
        case "default", "gpt2", "gpt-2": self = .gpt2
        case "smollm", "starcoder", "refact": self = .smollm
        case "llama-bpe", "llama3", "llama-v3": self = .llamaBPE
        default: return nil
        }
    }

    public static let supportedGGUFNames = ["default", "gpt2", "gpt-2", "smollm", "starcoder", "refact",
                                            "llama-bpe", "llama3", "llama-v3"]

    /// The compiled expressions (compiling is slow; `BPETokenizer` does it once).
    func compile() -> [Regex<AnyRegexOutput>] {
        // The patterns are constants of this file, so a failure is a programming error.
        patterns.map { (try! Regex($0)).matchingSemantics(.unicodeScalar) }
    }

    /// The pieces of `text`, in order; their concatenation is `text`.
    static func split(_ text: String, with expressions: [Regex<AnyRegexOutput>]) -> [Substring] {
        var pieces: [Substring] = [Substring(text)]
        for expression in expressions {
            var next: [Substring] = []
            for piece in pieces {
                var cursor = piece.startIndex
                for range in piece.ranges(of: expression) where !range.isEmpty {
                    if cursor < range.lowerBound { next.append(piece[cursor..<range.lowerBound]) }
                    next.append(piece[range])
                    cursor = range.upperBound
                }
                if cursor < piece.endIndex { next.append(piece[cursor..<piece.endIndex]) }
            }
            pieces = next
        }
        return pieces
    }
}
