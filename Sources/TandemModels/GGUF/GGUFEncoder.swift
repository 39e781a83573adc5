import Foundation
import TandemEngine

/// The bytes of a GGUF v3 file, built in memory: header, metadata, tensor descriptions, then
/// each tensor's data at an offset aligned to `alignment` (little-endian throughout, as the
/// GGUF specification and `GGUFFile` expect).
///
/// Usage: add every metadata entry and every tensor, then take `bytes`. The alignment is
/// recorded as `general.alignment` (uint32) when it is not GGUF's default of 32.
struct GGUFEncoder {
    let alignment: Int
    private var metadata: [(key: String, value: GGUFValue)] = []
    private var tensors: [(name: String, dimensions: [Int], type: GGMLType, data: Data)] = []

    /// `alignment` must be a power of two.
    init(alignment: Int = 32) {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment \(alignment) is not a power of two")
        self.alignment = alignment
    }

    /// Adds a metadata entry; keys must be unique. Arrays must hold values of one type; an
    /// empty array is written as an array of strings.
    mutating func add(_ key: String, _ value: GGUFValue) {
        precondition(!metadata.contains { $0.key == key }, "metadata key '\(key)' added twice")
        metadata.append((key, value))
    }

    /// Adds a tensor: `shape` row-major, outermost first (written in GGML order, innermost
    /// first); `data` holds exactly `type.byteCount(elements:)` bytes of its elements.
    mutating func addTensor(_ name: String, shape: [Int], type: GGMLType, data: Data) {
        precondition(!tensors.contains { $0.name == name }, "tensor '\(name)' added twice")
        precondition(type.byteCount(elements: shape.reduce(1, *)) == data.count,
                     "tensor '\(name)': \(data.count) bytes do not hold \(shape) elements of \(type)")
        tensors.append((name, shape.reversed(), type, data))
    }

    /// The whole file.
    var bytes: Data {
        var out = Data()
        append(&out, GGUFFile.magic)
        append(&out, UInt32(3))
        append(&out, UInt64(tensors.count))
        append(&out, UInt64(metadata.count))
        for (key, value) in metadata {
            appendString(&out, key)
            append(&out, Self.typeID(value))
            appendValue(&out, value)
        }
        var offset = 0
        var offsets: [Int] = []
        for tensor in tensors {
            appendString(&out, tensor.name)
            append(&out, UInt32(tensor.dimensions.count))
            for dimension in tensor.dimensions { append(&out, UInt64(dimension)) }
            append(&out, tensor.type.id)
            append(&out, UInt64(offset))
            offsets.append(offset)
            offset = aligned(offset + tensor.data.count)
        }
        pad(&out)
        for tensor in tensors {
            out.append(tensor.data)
            pad(&out)
        }
        return out
    }

    private func aligned(_ value: Int) -> Int { (value + alignment - 1) / alignment * alignment }

    private func pad(_ out: inout Data) {
        out.append(Data(count: aligned(out.count) - out.count))
    }

    private func append<T: FixedWidthInteger>(_ out: inout Data, _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private func appendString(_ out: inout Data, _ string: String) {
        let utf8 = Array(string.utf8)
        append(&out, UInt64(utf8.count))
        out.append(contentsOf: utf8)
    }

    /// GGUF's type id of a value (gguf.h `gguf_type`).
    static func typeID(_ value: GGUFValue) -> UInt32 {
        switch value {
        case .uint8: return 0
        case .int8: return 1
        case .uint16: return 2
        case .int16: return 3
        case .uint32: return 4
        case .int32: return 5
        case .float32: return 6
        case .bool: return 7
        case .string: return 8
        case .array: return 9
        case .uint64: return 10
        case .int64: return 11
        case .float64: return 12
        }
    }

    private func appendValue(_ out: inout Data, _ value: GGUFValue) {
        switch value {
        case .uint8(let v): append(&out, v)
        case .int8(let v): append(&out, v)
        case .uint16(let v): append(&out, v)
        case .int16(let v): append(&out, v)
        case .uint32(let v): append(&out, v)
        case .int32(let v): append(&out, v)
        case .uint64(let v): append(&out, v)
        case .int64(let v): append(&out, v)
        case .float32(let v): append(&out, v.bitPattern)
        case .float64(let v): append(&out, v.bitPattern)
        case .bool(let v): append(&out, UInt8(v ? 1 : 0))
        case .string(let v): appendString(&out, v)
        case .array(let values):
            let elementType = values.first.map(Self.typeID) ?? 8
            precondition(values.allSatisfy { Self.typeID($0) == elementType }, "GGUF arrays hold values of one type")
            append(&out, elementType)
            append(&out, UInt64(values.count))
            for element in values { appendValue(&out, element) }
        }
    }
}
