/// The tensor element types of GGML (the ids GGUF files store) and their block layouts.
///
/// A quantized type stores `blockSize` consecutive elements of a row in `blockBytes` bytes;
/// rows are a whole number of blocks. The layouts are GGML's (ggml-common.h): little-endian,
/// scales as IEEE half floats.
public struct GGMLType: Hashable, Sendable, CustomStringConvertible {
    public let id: UInt32

    public init(id: UInt32) { self.id = id }

    public static let f32 = GGMLType(id: 0)
    public static let f16 = GGMLType(id: 1)
    public static let q4_0 = GGMLType(id: 2)
    public static let q4_1 = GGMLType(id: 3)
    public static let q8_0 = GGMLType(id: 8)
    public static let bf16 = GGMLType(id: 30)

    /// The types this engine can read (dequantize).
    public static let supported: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1]

    /// GGML's name for every type id it defines (so an unsupported one is named in errors).
    static let names: [UInt32: String] = [
        0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
        10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
        17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S", 23: "IQ4_XS",
        24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M", 30: "BF16",
        34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
    ]

    public var name: String { Self.names[id] ?? "unknown type \(id)" }
    public var description: String { name }
    public var isSupported: Bool { Self.supported.contains(self) }

    /// Elements per block (1 for the float types); nil for a type this engine cannot read.
    public var blockSize: Int? {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q8_0: return 32
        default: return nil
        }
    }

    /// Bytes per block; nil for a type this engine cannot read.
    public var blockBytes: Int? {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18 // half scale, 16 bytes of nibbles
        case .q4_1: return 20 // half scale, half minimum, 16 bytes of nibbles
        case .q8_0: return 34 // half scale, 32 signed bytes
        default: return nil
        }
    }

    /// Bytes of `count` elements (a whole number of blocks), nil when unsupported or not whole.
    public func byteCount(elements count: Int) -> Int? {
        guard let blockSize, let blockBytes, count >= 0, count % blockSize == 0 else { return nil }
        let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }
}

/// Conversions of GGML's stored element types to Float.
public enum GGMLDequantize {
    /// IEEE 754 binary16 bits to Float (exact; subnormals, infinities and NaN included).
    @inline(__always)
    public static func half(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
        if exponent == 0 {
            // Subnormal (or zero): mantissa * 2^-24, exact in Float.
            let magnitude = Float(mantissa) * (1.0 / 16_777_216.0)
            return sign == 0 ? magnitude : -magnitude
        }
        return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | mantissa << 13)
    }

    /// bfloat16 bits to Float (the upper half of a Float).
    @inline(__always)
    public static func brain(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// Dequantizes `count` elements of `type` stored at `source` into `destination`.
    /// `count` must be a whole number of blocks and `type` supported (callers check both).
    public static func run(_ type: GGMLType, _ source: UnsafeRawPointer, count: Int,
                           into destination: UnsafeMutablePointer<Float>) {
        func half(at offset: Int) -> Float { Self.half(source.loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
        switch type {
        case .f32:
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
        case .f16:
            for i in 0..<count { destination[i] = half(at: 2 * i) }
        case .bf16:
            for i in 0..<count { destination[i] = brain(source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .q8_0:
            for block in 0..<count / 32 {
                let base = block * 34, scale = half(at: base)
                let quants = (source + base + 2).assumingMemoryBound(to: Int8.self)
                let out = destination + block * 32
                for j in 0..<32 { out[j] = Float(quants[j]) * scale }
            }
        case .q4_0, .q4_1:
            let hasMinimum = type == .q4_1
            let stride = hasMinimum ? 20 : 18
            for block in 0..<count / 32 {
                let base = block * stride, scale = half(at: base)
                let nibbles = (source + base + (hasMinimum ? 4 : 2)).assumingMemoryBound(to: UInt8.self)
                let out = destination + block * 32
                if hasMinimum { // Q4_1: q * d + m, as ggml rounds it
                    let minimum = half(at: base + 2)
                    for j in 0..<16 {
                        out[j] = Float(nibbles[j] & 0x0F) * scale + minimum
                        out[j + 16] = Float(nibbles[j] >> 4) * scale + minimum
                    }
                } else { // Q4_0: (q - 8) * d, one rounding
                    for j in 0..<16 {
                        out[j] = Float(Int(nibbles[j] & 0x0F) - 8) * scale
                        out[j + 16] = Float(Int(nibbles[j] >> 4) - 8) * scale
                    }
                }
            }
        default:
            preconditionFailure("dequantizing unsupported type \(type)")
        }
    }
}
