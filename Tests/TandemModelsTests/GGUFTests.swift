import Foundation
import Testing
import TandemModels
import TandemEngine

/// The GGUF reader against the Python `gguf` package (llama.cpp's own gguf-py): a file it wrote
/// with metadata of every value type and tensors of every supported element type, and the
/// values its `gguf.quants.dequantize` gives (Tests/Fixtures/make_gguf_fixtures.py).
@Suite struct GGUFTests {
    struct Expected: Decodable {
        struct Tensor: Decodable {
            var type: String
            var shape_ne: [Int]
            var values: [Double]
        }
        var tensors: [String: Tensor]
    }

    @Test func metadataOfEveryValueType() throws {
        let file = try GGUFFile(path: fixture("gguf/types.gguf"))
        let expected: [String: GGUFValue] = [
            "test.u8": .uint8(200), "test.i8": .int8(-100), "test.u16": .uint16(60000), "test.i16": .int16(-30000),
            "test.u32": .uint32(4_000_000_000), "test.i32": .int32(-2_000_000_000), "test.f32": .float32(0.15625),
            "test.bool": .bool(true), "test.str": .string("héllo wörld ✓"), "test.u64": .uint64(1 << 40 + 3),
            "test.i64": .int64(-(1 << 40)), "test.f64": .float64(0.1),
            "test.arr_i32": .array([.int32(1), .int32(-2), .int32(3)]),
            "test.arr_str": .array([.string("a"), .string("bc"), .string("")]),
            "test.arr_f32": .array([.float32(0.5), .float32(-1.25)]),
        ]
        for (key, value) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(file.metadata[key] == value,
                    "\(key): read \(String(describing: file.metadata[key])), expected \(value)")
        }
        #expect(file.version == 3)
        #expect(file.metadata["general.architecture"]?.string == "tandem-test")
    }

    /// Reference: gguf.quants.dequantize; tolerance: exact (bit-identical floats).
    @Test func tensorsOfEverySupportedTypeDequantizeExactly() throws {
        let file = try GGUFFile(path: fixture("gguf/types.gguf"))
        let expected = try loadJSON(Expected.self, "gguf/types.expected.json")
        #expect(Set(expected.tensors.values.map(\.type)) == Set(GGMLType.supported.map(\.name)),
                "the fixture covers every supported type")
        for (name, reference) in expected.tensors.sorted(by: { $0.key < $1.key }) {
            let info = try #require(file.tensor(named: name), "tensor \(name) missing")
            #expect(info.type.name == reference.type)
            #expect(info.dimensions == reference.shape_ne)
            #expect(info.fileOffset % file.alignment == 0)
            let values = try file.floats(info)
            try #require(values.count == reference.values.count)
            var worst = 0.0, mismatches = 0
            for (got, want) in zip(values, reference.values) where Double(got) != want {
                mismatches += 1
                worst = max(worst, abs(Double(got) - want))
            }
            let message = "\(name) (\(reference.type)): \(mismatches) of \(values.count) values differ, "
                + "worst |difference| \(worst)"
            #expect(mismatches == 0, "\(message)")
        }
    }

    @Test func halfFloatConversionIsExactForEveryBitPattern() {
        // Reference: Swift's own Float16 where available (exact by IEEE 754).
        #if arch(x86_64) || arch(arm64)
        for bits in 0...UInt16.max {
            let got = GGMLDequantize.half(bits), want = Float(Float16(bitPattern: bits))
            if want.isNaN { #expect(got.isNaN); continue }
            if got.bitPattern != want.bitPattern {
                Issue.record("half 0x\(String(bits, radix: 16)): got \(got), expected \(want)")
                return
            }
        }
        #endif
    }
}
