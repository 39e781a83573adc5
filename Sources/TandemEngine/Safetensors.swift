import Foundation

/// What went wrong reading or writing a checkpoint; every message names the file and, where it
/// applies, the tensor and what was expected.
public struct CheckpointError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "checkpoint \(path): \(message)" }

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

/// Reads and writes safetensors files (Hugging Face format: an 8-byte little-endian header
/// length, a JSON header mapping tensor names to dtype, shape and data offsets, then raw
/// little-endian data), with the model config in `__metadata__`.
public enum Safetensors {
    /// One tensor as read: its shape and values converted to Float.
    public struct Tensor {
        public var shape: [Int]
        public var values: [Float]
    }

    static let elementSize = ["F32": 4, "F16": 2, "BF16": 2]

    /// Writes `tensors` (name, shape, values) and `metadata` atomically: a temporary file in
    /// the same directory is renamed over `path` only once complete.
    public static func write(_ tensors: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)],
                             metadata: [String: String], to path: String) throws {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for tensor in tensors {
            guard tensor.shape.reduce(1, *) == tensor.values.count else {
                throw CheckpointError(path: path, message: "tensor '\(tensor.name)': shape \(tensor.shape) "
                                      + "does not match \(tensor.values.count) values")
            }
            header[tensor.name] = ["dtype": "F32", "shape": tensor.shape,
                                   "data_offsets": [offset, offset + tensor.values.count * 4]]
            offset += tensor.values.count * 4
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data starts 8-byte aligned (as the reference writer does).
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        // Little-endian on every platform Swift runs on here (x86-64, arm64).
        for tensor in tensors { data.append(contentsOf: UnsafeRawBufferPointer(tensor.values)) }
        try AtomicFile.write(data, to: path)
    }

    /// Reads every tensor of the file at `path` and its metadata.
    public static func read(path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError(path: path, message: "cannot be read (missing or unreadable)")
        }
        return try read(data: data, path: path)
    }

    /// Parses the bytes of a safetensors file; `path` names it in errors. Every length, shape and
    /// offset is checked against the bytes present before anything is allocated.
    public static func read(data: Data, path: String)
        throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        func fail(_ message: String) -> CheckpointError { CheckpointError(path: path, message: message) }
        guard data.count >= 8 else {
            throw fail("truncated: \(data.count) bytes, expected at least 8 for the header length")
        }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * UInt64($1.offset))
        }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("truncated or corrupt: header length \(headerLength) exceeds the \(data.count - 8) "
                       + "bytes after it")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        guard let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw fail("corrupt: the header is not a JSON object")
        }
        let body = data.subdata(in: (8 + Int(headerLength))..<data.count)
        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let dictionary = raw as? [String: String] else {
                throw fail("__metadata__ must map strings to strings")
            }
            metadata = dictionary
        }
        var tensors: [String: Tensor] = [:]
        for (name, entry) in header where name != "__metadata__" {
            guard let entry = entry as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int],
                  offsets.count == 2
            else { throw fail("tensor '\(name)': expected dtype, shape and two data_offsets") }
            guard let size = elementSize[dtype] else {
                throw fail("tensor '\(name)': dtype \(dtype) is not supported (expected F32, F16 or BF16)")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw fail("tensor '\(name)': negative dimension in shape \(shape)")
            }
            let count = shape.reduce(1, *)
            guard offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] <= body.count else {
                throw fail("tensor '\(name)': data_offsets \(offsets) outside the \(body.count) data bytes "
                           + "(truncated file?)")
            }
            guard offsets[1] - offsets[0] == count * size else {
                throw fail("tensor '\(name)': shape \(shape) in \(dtype) needs \(count * size) bytes, "
                           + "data_offsets span \(offsets[1] - offsets[0])")
            }
            tensors[name] = Tensor(shape: shape, values: decode(body, from: offsets[0], count: count, dtype: dtype))
        }
        return (tensors, metadata)
    }

    private static func decode(_ body: Data, from offset: Int, count: Int, dtype: String) -> [Float] {
        body.withUnsafeBytes { raw in
            let base = raw.baseAddress! + offset
            switch dtype {
            case "F32":
                return (0..<count).map {
                    Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                }
            case "F16":
                return (0..<count).map {
                    Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * $0,
                                                                                       as: UInt16.self))))
                }
            default: // BF16: the high half of an F32
                return (0..<count).map {
                    Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * $0,
                                                                                     as: UInt16.self))) << 16)
                }
            }
        }
    }
}

extension Array where Element == ParameterSpec {
    /// The tensors these specs describe inside `storage`, ready for `Safetensors.write`.
    func views(in storage: UnsafeMutablePointer<Float>)
        -> [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)] {
        map {
            (name: $0.name, shape: $0.shape,
             values: UnsafeBufferPointer(start: UnsafePointer(storage + $0.offset), count: $0.count))
        }
    }

    /// Copies every tensor these specs name from `tensors` into `storage`; a missing tensor or a
    /// wrong shape is an error naming the file and the tensor.
    func fill(_ storage: UnsafeMutablePointer<Float>, from tensors: [String: Safetensors.Tensor], path: String) throws {
        for spec in self {
            guard let tensor = tensors[spec.name] else {
                throw CheckpointError(path: path,
                                      message: "tensor '\(spec.name)' is missing (expected shape \(spec.shape))")
            }
            guard tensor.shape == spec.shape else {
                throw CheckpointError(path: path,
                                      message: "tensor '\(spec.name)' has shape \(tensor.shape), "
                                      + "expected \(spec.shape)")
            }
            tensor.values.withUnsafeBufferPointer {
                (storage + spec.offset).update(from: $0.baseAddress!, count: spec.count)
            }
        }
    }
}

extension ModelWeights {
    /// Writes every parameter (F32) with the config in `__metadata__`.
    public func save(to path: String) throws {
        let tensors = table.specs.views(in: storage)
        var metadata = config.metadata
        metadata["format"] = "pt"
        try Safetensors.write(tensors, metadata: metadata, to: path)
    }

    /// Loads a checkpoint: the config comes from `__metadata__`; every tensor of the table must
    /// be present with its shape, and no unknown tensor may be present.
    public static func load(path: String) throws -> ModelWeights {
        let (tensors, metadata) = try Safetensors.read(path: path)
        return try load(tensors: tensors, metadata: metadata, path: path)
    }

    /// Loads a checkpoint from its bytes; `path` names it in errors.
    public static func load(data: Data, path: String) throws -> ModelWeights {
        let (tensors, metadata) = try Safetensors.read(data: data, path: path)
        return try load(tensors: tensors, metadata: metadata, path: path)
    }

    /// Builds weights from tensors already read; tensors whose names start with one of
    /// `otherPrefixes` belong to someone else (e.g. tandem projections) and are ignored.
    static func load(tensors: [String: Safetensors.Tensor], metadata: [String: String], path: String,
                     otherPrefixes: [String] = []) throws -> ModelWeights {
        let config: ModelConfig
        do { config = try ModelConfig(metadata: metadata) } catch {
            throw CheckpointError(path: path, message: "\(error)")
        }
        let weights = try ModelWeights(config: config)
        try weights.table.specs.fill(weights.storage, from: tensors, path: path)
        let unknown = tensors.keys.sorted().filter { name in
            weights.table[name] == nil && !otherPrefixes.contains { name.hasPrefix($0) }
        }
        if let unexpected = unknown.first {
            throw CheckpointError(path: path, message: "unexpected tensor '\(unexpected)' for this config")
        }
        return weights
    }
}
