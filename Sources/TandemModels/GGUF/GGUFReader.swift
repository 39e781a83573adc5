/// A bounds-checked little-endian cursor over a GGUF file's bytes.
struct GGUFReader {
    let bytes: UnsafeRawPointer
    let count: Int
    let path: String
    private(set) var position = 0

    init(bytes: UnsafeRawPointer, count: Int, path: String) {
        self.bytes = bytes
        self.count = count
        self.path = path
    }

    var remaining: Int { count - position }

    func truncated(_ what: String, needing bytes: Int) -> GGUFError {
        GGUFError(path: path, message: "truncated: reading \(what) at byte \(position) needs \(bytes) bytes, "
                  + "\(remaining) remain")
    }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw truncated(what, needing: size) }
        defer { position += size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
    }

    /// A uint64 count of items, each at least `minimumBytesEach` bytes long: rejected when the
    /// rest of the file could not hold that many, before anything is allocated for them.
    mutating func count(_ what: String, minimumBytesEach: Int) throws -> Int {
        let raw = try read(UInt64.self, what)
        guard raw <= UInt64(remaining / max(minimumBytesEach, 1)) else {
            throw GGUFError(path: path, message: "\(what) \(raw) is absurd: the remaining \(remaining) bytes "
                            + "hold at most \(remaining / max(minimumBytesEach, 1)) (truncated or corrupt file)")
        }
        return Int(raw)
    }

    mutating func string(_ what: String) throws -> String {
        let length = try count("the length of \(what)", minimumBytesEach: 1)
        defer { position += length }
        let buffer = UnsafeRawBufferPointer(start: bytes + position, count: length)
        // Invalid UTF-8 is repaired (U+FFFD), as the Python reader's errors="replace" would.
        return String(decoding: buffer, as: UTF8.self)
    }

    /// A value of GGUF type `type`; arrays may nest (to a sane depth).
    mutating func value(of type: UInt32, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try read(UInt8.self, "'\(key)'"))
        case 1: return .int8(try read(Int8.self, "'\(key)'"))
        case 2: return .uint16(try read(UInt16.self, "'\(key)'"))
        case 3: return .int16(try read(Int16.self, "'\(key)'"))
        case 4: return .uint32(try read(UInt32.self, "'\(key)'"))
        case 5: return .int32(try read(Int32.self, "'\(key)'"))
        case 6: return .float32(Float(bitPattern: try read(UInt32.self, "'\(key)'")))
        case 7:
            let byte = try read(UInt8.self, "'\(key)'")
            guard byte <= 1 else {
                throw GGUFError(path: path, message: "metadata '\(key)': bool byte \(byte) (expected 0 or 1)")
            }
            return .bool(byte == 1)
        case 8: return .string(try string("'\(key)'"))
        case 9:
            guard depth < 4 else {
                throw GGUFError(path: path, message: "metadata '\(key)': arrays nested deeper than 4")
            }
            let elementType = try read(UInt32.self, "the element type of '\(key)'")
            let minimum = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 8, 9: 12, 10: 8, 11: 8, 12: 8]
            guard let each = minimum[Int(elementType)] else {
                throw GGUFError(path: path, message: "metadata '\(key)': unknown array element type \(elementType)")
            }
            let n = try count("the length of '\(key)'", minimumBytesEach: each)
            var values: [GGUFValue] = []
            values.reserveCapacity(n)
            for _ in 0..<n { values.append(try value(of: elementType, key: key, depth: depth + 1)) }
            return .array(values)
        case 10: return .uint64(try read(UInt64.self, "'\(key)'"))
        case 11: return .int64(try read(Int64.self, "'\(key)'"))
        case 12: return .float64(Double(bitPattern: try read(UInt64.self, "'\(key)'")))
        default:
            throw GGUFError(path: path, message: "metadata '\(key)': unknown value type \(type) (expected 0-12)")
        }
    }
}
