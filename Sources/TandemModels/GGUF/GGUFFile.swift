import TandemEngine

/// What is wrong with a GGUF file (or a model or tokenizer built from one); the message names
/// the file and, where it applies, the key or tensor and what was expected.
public struct GGUFError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

/// One metadata value of a GGUF file (all thirteen GGUF value types).
public enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    indirect case array([GGUFValue])

    /// Any integer type, as Int (nil for other types or out of range).
    public var integer: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// Either float type (or an integer), as Double.
    public var real: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return integer.map(Double.init)
        }
    }

    public var string: String? { if case .string(let v) = self { return v } else { return nil } }
    public var bool: Bool? { if case .bool(let v) = self { return v } else { return nil } }
    public var array: [GGUFValue]? { if case .array(let v) = self { return v } else { return nil } }

    /// The GGUF name of the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .uint32: return "uint32"
        case .int32: return "int32"
        case .uint64: return "uint64"
        case .int64: return "int64"
        case .float32: return "float32"
        case .float64: return "float64"
        case .bool: return "bool"
        case .string: return "string"
        case .array: return "array"
        }
    }
}

/// One tensor's description: its name, GGML dimensions (ne, innermost first), type and the
/// byte range of its data in the file.
public struct GGUFTensorInfo: Sendable {
    public var name: String
    /// GGML order: dimensions[0] is the row length (the innermost, contiguous axis).
    public var dimensions: [Int]
    public var type: GGMLType
    /// Absolute offset of the data in the file.
    public var fileOffset: Int
    public var byteCount: Int
    public var elementCount: Int { dimensions.reduce(1, *) }
    /// Row-major shape, outermost first (PyTorch / safetensors order).
    public var shape: [Int] { dimensions.reversed() }
}

/// A GGUF file (versions 2 and 3), memory-mapped: its metadata and tensor descriptions are
/// parsed and checked at open; tensor data is read on demand.
///
/// Every count, length and offset is checked against the file's size before anything is
/// allocated, so a corrupt or hostile file gives a `GGUFError` rather than a crash or an
/// absurd allocation.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: Int
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    public let dataOffset: Int
    private let file: MappedFile
    private let tensorIndex: [String: Int]

    public static let magic: UInt32 = 0x4655_4747 // "GGUF" little-endian

    public convenience init(path: String) throws {
        try self.init(file: try MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        path = file.path
        var reader = GGUFReader(bytes: file.bytes, count: file.byteCount, path: file.path)
        let magic = try reader.read(UInt32.self, "the magic number")
        guard magic == Self.magic else {
            throw GGUFError(path: path, message: "not a GGUF file (magic 0x\(String(magic, radix: 16)), "
                            + "expected 0x\(String(Self.magic, radix: 16)) \"GGUF\")")
        }
        let version = Int(try reader.read(UInt32.self, "the version"))
        guard version == 2 || version == 3 else {
            throw GGUFError(path: path, message: "GGUF version \(version) is not supported (expected 2 or 3)")
        }
        self.version = version
        // Each tensor info takes at least 8 + 4 + 8 + 4 + 8 bytes; each key-value at least 8 + 4 + 1.
        let tensorCount = try reader.count("the tensor count", minimumBytesEach: 32)
        let metadataCount = try reader.count("the metadata count", minimumBytesEach: 13)
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for index in 0..<metadataCount {
            let key = try reader.string("the key of metadata entry \(index)")
            let value = try reader.value(of: try reader.read(UInt32.self, "the type of '\(key)'"), key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw GGUFError(path: path, message: "metadata key '\(key)' appears twice")
            }
            keys.append(key)
        }
        self.metadata = metadata
        metadataKeys = keys
        var alignment = 32
        if let value = metadata["general.alignment"] {
            guard case .uint32(let a) = value, a > 0, a & (a - 1) == 0, a <= 1 << 20 else {
                throw GGUFError(path: path, message: "general.alignment must be a uint32 power of two, got \(value)")
            }
            alignment = Int(a)
        }
        self.alignment = alignment
        var infos: [(name: String, dimensions: [Int], type: GGMLType, offset: Int)] = []
        var names: [String: Int] = [:]
        for index in 0..<tensorCount {
            let name = try reader.string("the name of tensor \(index)")
            let dimensionCount = Int(try reader.read(UInt32.self, "the dimension count of '\(name)'"))
            guard (1...4).contains(dimensionCount) else {
                throw GGUFError(path: path, message: "tensor '\(name)': \(dimensionCount) dimensions (expected 1 to 4)")
            }
            var dimensions: [Int] = []
            var elements = 1
            for axis in 0..<dimensionCount {
                let raw = try reader.read(UInt64.self, "dimension \(axis) of '\(name)'")
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(clamping: raw))
                guard raw <= UInt64(Int32.max), !overflow, product <= file.byteCount * 2 else {
                    throw GGUFError(path: path, message: "tensor '\(name)': dimension \(axis) = \(raw) is absurd "
                                    + "for a file of \(file.byteCount) bytes")
                }
                elements = product
                dimensions.append(Int(raw))
            }
            let type = GGMLType(id: try reader.read(UInt32.self, "the type of '\(name)'"))
            let offset = try reader.read(UInt64.self, "the data offset of '\(name)'")
            guard names.updateValue(index, forKey: name) == nil else {
                throw GGUFError(path: path, message: "tensor '\(name)' appears twice")
            }
            guard offset <= UInt64(file.byteCount) else {
                throw GGUFError(path: path, message: "tensor '\(name)': data offset \(offset) lies beyond the file "
                                + "(\(file.byteCount) bytes)")
            }
            infos.append((name, dimensions, type, Int(offset)))
        }
        dataOffset = (reader.position + alignment - 1) / alignment * alignment
        var tensors: [GGUFTensorInfo] = []
        let path = self.path
        for info in infos {
            func fail(_ message: String) -> GGUFError {
                GGUFError(path: path, message: "tensor '\(info.name)': \(message)")
            }
            guard info.offset % alignment == 0 else {
                throw fail("data offset \(info.offset) is not a multiple of the alignment \(alignment)")
            }
            let elements = info.dimensions.reduce(1, *)
            var bytes = 0
            if info.type.isSupported {
                guard let count = info.type.byteCount(elements: elements),
                      info.dimensions[0] % (info.type.blockSize ?? 1) == 0 else {
                    throw fail("row length \(info.dimensions[0]) is not a multiple of the \(info.type) block size "
                               + "\(info.type.blockSize ?? 1)")
                }
                bytes = count
            }
            let start = dataOffset + info.offset
            guard start <= file.byteCount, bytes <= file.byteCount - start else {
                throw fail("data [\(start), \(start + bytes)) runs past the end of the file (\(file.byteCount) bytes; "
                           + "truncated?)")
            }
            tensors.append(GGUFTensorInfo(name: info.name, dimensions: info.dimensions, type: info.type,
                                          fileOffset: start, byteCount: bytes))
        }
        self.tensors = tensors
        tensorIndex = names
    }

    public func tensor(named name: String) -> GGUFTensorInfo? { tensorIndex[name].map { tensors[$0] } }

    /// The tensor's raw bytes as stored (quantized blocks for quantized types).
    public func rawBytes(_ tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: file.bytes + tensor.fileOffset, count: tensor.byteCount)
    }

    /// Dequantizes the tensor's elements (in GGML order: rows of dimensions[0]) into
    /// `destination`, which must hold `elementCount` floats.
    public func dequantize(_ tensor: GGUFTensorInfo, into destination: UnsafeMutablePointer<Float>) throws {
        guard tensor.type.isSupported else {
            throw GGUFError(path: path, message: "tensor '\(tensor.name)' has type \(tensor.type), which is not "
                            + "supported (supported: \(GGMLType.supported.map(\.name).joined(separator: ", ")))")
        }
        GGMLDequantize.run(tensor.type, file.bytes + tensor.fileOffset, count: tensor.elementCount,
                           into: destination)
    }

    /// The tensor's elements as Float (see `dequantize(_:into:)`).
    public func floats(_ tensor: GGUFTensorInfo) throws -> [Float] {
        var values = [Float](repeating: 0, count: tensor.elementCount)
        try values.withUnsafeMutableBufferPointer { try dequantize(tensor, into: $0.baseAddress!) }
        return values
    }
}
