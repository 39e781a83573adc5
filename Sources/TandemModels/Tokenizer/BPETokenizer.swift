/// GPT-2-style byte-level BPE, built from a GGUF file's `tokenizer.ggml.*` metadata.
///
/// Encoding: the pre-tokenizer cuts the text into pieces; each piece's UTF-8 bytes start as
/// single-byte tokens, and the adjacent pair with the lowest merge rank (leftmost among equal
/// ranks) is merged until no pair has a rank (Hugging Face tokenizers' and llama.cpp's rule).
/// Special tokens in the text are not parsed: "<|im_end|>" is encoded as plain text.
public struct BPETokenizer: Tokenizer {
    public enum TokenType: Int, Sendable {
        case undefined = 0, normal, unknown, control, userDefined, unused, byte
    }

    public let vocabularySize: Int
    public let beginOfSequence: Int?
    public let endOfSequence: Int?
    public let addsBeginOfSequence: Bool
    public let preTokenizer: PreTokenizer
    /// Each token's bytes (control and unused tokens decode to nothing).
    private let tokenBytes: [[UInt8]]
    /// The token of each single byte (nil: the vocabulary lacks it).
    private let byteTokens: [Int?]
    /// Token string (in the byte alphabet) -> id.
    private let ids: [String: Int]
    /// (left << 32 | right) -> (rank, merged token).
    private let merges: [UInt64: (rank: Int, token: Int)]
    // Regex values are not Sendable-checked; the tokenizer never mutates them.
    nonisolated(unsafe) private let expressions: [Regex<AnyRegexOutput>]

    public var summary: String { "bpe gpt2/\(preTokenizer.rawValue) \(vocabularySize)" }
    /// FNV-1a of the tokens, the merges and the pre-tokenizer.
    public let fingerprint: String

    /// Builds the tokenizer from token strings (GPT-2 byte-to-unicode alphabet), merges
    /// ("left right"), optional token types, and the special tokens.
    public init(tokens: [String], merges mergeList: [String], types: [TokenType]?, preTokenizer: PreTokenizer,
                beginOfSequence: Int?, endOfSequence: Int?, addsBeginOfSequence: Bool, source: String) throws {
        func fail(_ message: String) -> GGUFError { GGUFError(path: source, message: message) }
        guard !tokens.isEmpty else { throw fail("tokenizer.ggml.tokens is empty") }
        if let types, types.count != tokens.count {
            throw fail("tokenizer.ggml.token_type has \(types.count) entries, expected one per token (\(tokens.count))")
        }
        for (key, id) in [("bos", beginOfSequence), ("eos", endOfSequence)] {
            if let id, !(0..<tokens.count).contains(id) {
                throw fail("tokenizer.ggml.\(key)_token_id = \(id) is outside the vocabulary of \(tokens.count)")
            }
        }
        let unicodeToByte = Self.unicodeToByte
        var ids: [String: Int] = [:]
        var bytes: [[UInt8]] = []
        bytes.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            if ids[token] == nil { ids[token] = id }
            switch types?[id] ?? .normal {
            case .control, .unused: bytes.append([])
            case .userDefined: bytes.append(Array(token.utf8))
            case .byte where token.hasPrefix("<0x") && token.hasSuffix(">") && token.count == 6:
                bytes.append([UInt8(token.dropFirst(3).dropLast(), radix: 16) ?? 0])
            default:
                // Characters outside the byte alphabet (rare) stand for their own UTF-8.
                bytes.append(token.unicodeScalars.flatMap { unicodeToByte[$0].map { [$0] } ?? Array(String($0).utf8) })
            }
        }
        // Some vocabularies (SmolLM2's among them) lack a few control bytes; like Hugging Face
        // tokenizers without an unknown token, encoding drops such bytes.
        let byteTokens = (0..<256).map { ids[String(Self.byteToUnicode[$0])] }
        guard byteTokens.filter({ $0 != nil }).count >= 128 else {
            throw fail("the vocabulary has tokens for only \(byteTokens.filter { $0 != nil }.count) of the 256 "
                       + "byte symbols: not a byte-level BPE vocabulary")
        }
        var table: [UInt64: (rank: Int, token: Int)] = [:]
        table.reserveCapacity(mergeList.count)
        for (rank, merge) in mergeList.enumerated() {
            let parts = merge.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw fail("tokenizer.ggml.merges[\(rank)] = \"\(merge)\": expected two tokens separated by one space")
            }
            // A merge whose parts or result are not tokens can never apply; skip it as the references do.
            guard let left = ids[String(parts[0])], let right = ids[String(parts[1])],
                  let merged = ids[String(parts[0]) + String(parts[1])] else { continue }
            let key = UInt64(left) << 32 | UInt64(right)
            if table[key] == nil { table[key] = (rank, merged) }
        }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for text in tokens + ["\u{0}merges"] + mergeList + [preTokenizer.rawValue] {
            for byte in text.utf8 + [0] { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        }
        fingerprint = "bpe-" + String(hash, radix: 16)
        vocabularySize = tokens.count
        self.ids = ids
        tokenBytes = bytes
        self.byteTokens = byteTokens
        merges = table
        self.preTokenizer = preTokenizer
        self.beginOfSequence = beginOfSequence
        self.endOfSequence = endOfSequence
        self.addsBeginOfSequence = addsBeginOfSequence && beginOfSequence != nil
        expressions = preTokenizer.compile()
    }

    public func encode(_ text: String, addSpecial: Bool) -> [Int] {
        var output: [Int] = []
        if addSpecial && addsBeginOfSequence, let beginOfSequence { output.append(beginOfSequence) }
        for piece in PreTokenizer.split(text, with: expressions) {
            output.append(contentsOf: merge(piece.utf8.compactMap { byteTokens[Int($0)] }))
        }
        return output
    }

    /// Applies the merges to one piece's tokens.
    func merge(_ start: [Int]) -> [Int] {
        var symbols = start
        while symbols.count >= 2 {
            var best: (rank: Int, index: Int, token: Int)?
            for index in 0..<(symbols.count - 1) {
                let key = UInt64(symbols[index]) << 32 | UInt64(symbols[index + 1])
                if let merge = merges[key], merge.rank < (best?.rank ?? .max) {
                    best = (merge.rank, index, merge.token)
                }
            }
            guard let best else { break }
            symbols[best.index] = best.token
            symbols.remove(at: best.index + 1)
        }
        return symbols
    }

    /// The id of a token given as its vocabulary string (GPT-2 byte alphabet).
    public func tokenID(_ token: String) -> Int? { ids[token] }

    public func decode(_ tokens: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        for token in tokens where token >= 0 && token < tokenBytes.count { bytes += tokenBytes[token] }
        return bytes
    }

    /// GPT-2's map of bytes to printable characters: printable Latin-1 bytes map to
    /// themselves, the other 68 to U+0100 onwards in byte order.
    public static let byteToUnicode: [Character] = {
        let printable = Set(Array(33...126) + Array(161...172) + Array(174...255))
        var next = 256
        return (0..<256).map { byte in
            if printable.contains(byte) { return Character(Unicode.Scalar(UInt32(byte))!) }
            defer { next += 1 }
            return Character(Unicode.Scalar(UInt32(next))!)
        }
    }()

    static let unicodeToByte: [Unicode.Scalar: UInt8] = {
        var map: [Unicode.Scalar: UInt8] = [:]
        for (byte, character) in byteToUnicode.enumerated() { map[character.unicodeScalars.first!] = UInt8(byte) }
        return map
    }()
}
