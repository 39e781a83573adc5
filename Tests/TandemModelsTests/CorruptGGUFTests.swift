import Foundation
import Testing
import TandemModels

/// Hostile or damaged GGUF files give a `GGUFError` naming the problem: no crash, no absurd
/// allocation (a count is checked against the bytes left before anything is reserved).
@Suite struct CorruptGGUFTests {
    let original: [UInt8]

    init() throws {
        original = Array(try Data(contentsOf: URL(fileURLWithPath: fixture("gguf/types.gguf"))))
    }

    func error(_ bytes: [UInt8], _ name: String) throws -> String? {
        let path = try temporaryFile(bytes, name: name)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let file = try GGUFFile(path: path)
            for tensor in file.tensors { _ = try file.floats(tensor) }
            return nil
        } catch let error as GGUFError {
            return error.message
        }
    }

    func patched(_ offset: Int, _ value: UInt64, bytes count: Int = 8) -> [UInt8] {
        var bytes = original
        for i in 0..<count { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        return bytes
    }

    /// Byte offset of the tensor info of `name` (just past its name string).
    func tensorInfo(_ name: String) throws -> Int {
        let needle = Array(name.utf8)
        var lengthPrefix = withUnsafeBytes(of: UInt64(needle.count).littleEndian, Array.init)
        lengthPrefix += needle
        for start in 0...(original.count - lengthPrefix.count)
        where Array(original[start..<(start + lengthPrefix.count)]) == lengthPrefix {
            return start + lengthPrefix.count
        }
        throw GGUFError(path: "fixture", message: "no tensor info \(name)")
    }

    @Test func badMagicAndVersion() throws {
        var bytes = original
        bytes[0] = UInt8(ascii: "X")
        #expect(try error(bytes, "magic")?.contains("not a GGUF file") == true)
        #expect(try error(patched(4, 99, bytes: 4), "version")?.contains("version 99") == true)
    }

    @Test func everyTruncationIsAnError() throws {
        // Every cut inside the header and a sample of cuts inside the data.
        let headerEnd = try tensorInfo("t.Q4_1") + 40
        var cuts = Array(0..<min(headerEnd, original.count))
        cuts += stride(from: headerEnd, to: original.count, by: 97)
        for cut in cuts {
            let message = try error(Array(original[0..<cut]), "cut")
            #expect(message != nil, "a file cut to \(cut) of \(original.count) bytes was accepted")
        }
    }

    @Test func absurdCountsAreRejectedBeforeAllocating() throws {
        let tensorCount = try error(patched(8, 1 << 60), "tensors")
        #expect(tensorCount?.contains("tensor count") == true && tensorCount?.contains("absurd") == true,
                "\(tensorCount ?? "accepted")")
        let metadataCount = try error(patched(16, UInt64.max), "metadata")
        #expect(metadataCount?.contains("absurd") == true, "\(metadataCount ?? "accepted")")
        let keyLength = try error(patched(24, 1 << 62), "key")
        #expect(keyLength?.contains("absurd") == true, "\(keyLength ?? "accepted")")
        let info = try tensorInfo("t.F32")
        let dimensions = try error(patched(info, 1000, bytes: 4), "dims")
        #expect(dimensions?.contains("1000 dimensions") == true, "\(dimensions ?? "accepted")")
        let huge = try error(patched(info + 4, 1 << 40), "huge")
        #expect(huge?.contains("absurd") == true, "\(huge ?? "accepted")")
    }

    @Test func offsetsOutOfRange() throws {
        let info = try tensorInfo("t.F32") // u32 dims, 2 x u64, u32 type, u64 offset
        let beyond = try error(patched(info + 4 + 16 + 4, UInt64(original.count) * 4), "beyond")
        #expect(beyond?.contains("beyond the file") == true, "\(beyond ?? "accepted")")
        let unaligned = try error(patched(info + 4 + 16 + 4, 3), "unaligned")
        #expect(unaligned?.contains("alignment") == true, "\(unaligned ?? "accepted")")
        let pastEnd = try error(patched(info + 4 + 16 + 4, UInt64(original.count - 64) / 64 * 64), "past")
        #expect(pastEnd?.contains("past the end") == true || pastEnd?.contains("beyond") == true,
                "\(pastEnd ?? "accepted")")
    }

    @Test func unsupportedTypeIsNamed() throws {
        let info = try tensorInfo("t.F32")
        let message = try error(patched(info + 4 + 16, 12, bytes: 4), "q4k") // 12 = Q4_K
        #expect(message?.contains("Q4_K") == true && message?.contains("not supported") == true, "\(message ?? "")")
    }

    @Test func randomByteFlipsNeverCrash() throws {
        // Not a fuzzer (issue 10 builds that), but 300 seeded single-byte corruptions of the header.
        let headerEnd = try tensorInfo("t.Q4_1") + 40
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for trial in 0..<300 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var bytes = original
            bytes[Int(state >> 33) % headerEnd] ^= UInt8(truncatingIfNeeded: state >> 13) | 1
            _ = try error(bytes, "flip\(trial)") // an error or a valid file; never a crash
        }
    }
}
