import Foundation
import TandemEngine

/// A byte-level corpus: every byte of a UTF-8 text file is one token (vocabulary 256).
public struct ByteCorpus: Sendable {
    public let path: String
    public let tokens: [UInt8]

    /// Reads `path`; the error names the file and what is wrong with it.
    public init(path: String, minimumBytes: Int = 2) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CorpusError(path: path, message: "cannot be read (missing or not a file)")
        }
        guard data.count >= minimumBytes else {
            throw CorpusError(path: path, message: "has \(data.count) bytes, need at least \(minimumBytes)")
        }
        self.path = path
        tokens = [UInt8](data)
    }

    /// Batch `step` of a run seeded `seed`: `batch` windows of length + 1 tokens at seeded
    /// offsets, as inputs and next-token targets ([batch][length] each). It depends only on
    /// (seed, step), so a resumed run sees exactly the batches an uninterrupted one would.
    public func batch(step: Int, seed: UInt64, batch: Int, length: Int) -> (inputs: [Int32], targets: [Int32]) {
        precondition(tokens.count > length + 1, "corpus shorter than one window")
        var generator = SeededGenerator(seed: seed ^ (UInt64(step) &* 0x9E37_79B9_7F4A_7C15))
        var inputs = [Int32](), targets = [Int32]()
        inputs.reserveCapacity(batch * length)
        targets.reserveCapacity(batch * length)
        for _ in 0..<batch {
            let start = Int(generator.next() % UInt64(tokens.count - length - 1))
            for i in 0..<length {
                inputs.append(Int32(tokens[start + i]))
                targets.append(Int32(tokens[start + i + 1]))
            }
        }
        return (inputs, targets)
    }
}

public struct CorpusError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "corpus '\(path)': \(message)" }
}
