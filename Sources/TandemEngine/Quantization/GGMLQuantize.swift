/// Float to GGML's block-quantized types, with ggml's reference rounding (ggml-quants.c,
/// `quantize_row_*_ref`), so a tensor written here reads back in llama.cpp as it would have had
/// llama.cpp quantized it.
public enum GGMLQuantize {
    /// The types `quantize` can produce.
    public static let supported: [GGMLType] = [.f32, .f16, .q8_0, .q4_0, .q4_1]

    /// Float to IEEE binary16 bits, round to nearest even (what ggml's F16 conversion does).
    @inline(__always)
    public static func half(_ value: Float) -> UInt16 { Float16(value).bitPattern }

    /// Quantizes `count` floats (a whole number of `type`'s blocks) into `destination`, which
    /// must hold `type.byteCount(elements: count)` bytes.
    public static func run(_ type: GGMLType, _ source: UnsafePointer<Float>, count: Int,
                           into destination: UnsafeMutableRawPointer) {
        precondition(supported.contains(type), "quantizing to unsupported type \(type)")
        precondition(type.byteCount(elements: count) != nil, "\(count) elements are not whole \(type) blocks")
        switch type {
        case .f32:
            destination.copyMemory(from: source, byteCount: count * 4)
        case .f16:
            for i in 0..<count { destination.storeBytes(of: half(source[i]), toByteOffset: 2 * i, as: UInt16.self) }
        case .q8_0:
            for block in 0..<count / 32 { q8_0(source + 32 * block, destination + 34 * block) }
        case .q4_0:
            for block in 0..<count / 32 { q4_0(source + 32 * block, destination + 18 * block) }
        case .q4_1:
            for block in 0..<count / 32 { q4_1(source + 32 * block, destination + 20 * block) }
        default:
            preconditionFailure("quantizing unsupported type \(type)")
        }
    }

    /// The quantized bytes of `values` (a whole number of blocks).
    public static func bytes(_ type: GGMLType, _ values: [Float]) -> [UInt8] {
        guard let byteCount = type.byteCount(elements: values.count) else {
            preconditionFailure("\(values.count) elements are not whole \(type) blocks")
        }
        var bytes = [UInt8](repeating: 0, count: byteCount)
        values.withUnsafeBufferPointer { source in
            bytes.withUnsafeMutableBytes { run(type, source.baseAddress!, count: values.count, into: $0.baseAddress!) }
        }
        return bytes
    }

    /// C's (int8_t) cast of an in-range value (truncation); NaN and out-of-range values, where C
    /// is undefined and Swift would trap, give 0 and the nearest bound.
    @inline(__always)
    static func int8(_ value: Float) -> Int8 {
        value.isNaN ? 0 : Int8(max(-128, min(127, value.rounded(.towardZero))))
    }

    // 32 values -> half d = amax / 127, then round(x / d) as int8
    private static func q8_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for j in 0..<32 { amax = max(amax, abs(x[j])) }
        let d = amax / 127, inverse: Float = d != 0 ? 1 / d : 0
        out.storeBytes(of: half(d), as: UInt16.self)
        for j in 0..<32 { out.storeBytes(of: int8((x[j] * inverse).rounded()), toByteOffset: 2 + j, as: Int8.self) }
    }

    // 32 values -> half d = (signed value of largest magnitude) / -8, q = min(15, trunc(x / d + 8.5))
    private static func q4_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        var amax: Float = 0, extreme: Float = 0
        for j in 0..<32 where abs(x[j]) > amax { amax = abs(x[j]); extreme = x[j] }
        let d = extreme / -8, inverse: Float = d != 0 ? 1 / d : 0
        out.storeBytes(of: half(d), as: UInt16.self)
        for j in 0..<16 {
            let low = min(15, int8(x[j] * inverse + 8.5)), high = min(15, int8(x[j + 16] * inverse + 8.5))
            out.storeBytes(of: UInt8(low) | UInt8(high) << 4, toByteOffset: 2 + j, as: UInt8.self)
        }
    }

    // 32 values -> half d = (max - min) / 15, half m = min, q = min(15, trunc((x - min) / d + 0.5))
    private static func q4_1(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        var low = Float.greatestFiniteMagnitude, high = -Float.greatestFiniteMagnitude
        for j in 0..<32 { // as ggml: a tie keeps the first value (so +0 before -0 stays +0)
            if x[j] < low { low = x[j] }
            if x[j] > high { high = x[j] }
        }
        let d = (high - low) / 15, inverse: Float = d != 0 ? 1 / d : 0
        out.storeBytes(of: half(d), as: UInt16.self)
        out.storeBytes(of: half(low), toByteOffset: 2, as: UInt16.self)
        for j in 0..<16 {
            let a = min(15, int8((x[j] - low) * inverse + 0.5)), b = min(15, int8((x[j + 16] - low) * inverse + 0.5))
            out.storeBytes(of: UInt8(a) | UInt8(b) << 4, toByteOffset: 4 + j, as: UInt8.self)
        }
    }
}
