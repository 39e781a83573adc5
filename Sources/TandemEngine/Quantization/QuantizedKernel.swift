import CQuantKernels

/// Which code runs the quantized panel products. All give bit-identical results (the integer
/// dots are exact and the float epilogue is the same sequence of operations), so the choice is
/// only about speed; tests compare each available kernel with `portable`.
public enum QuantizedKernel: String, CaseIterable, Sendable {
    /// AVX-512 VNNI (vpdpbusd over 16 rows at once), up to 8 activation rows per pass.
    case avx512vnni
    /// AVX2 (vpmaddubsw + vpmaddwd, two 8-row halves), up to 4 activation rows per pass.
    case avx2
    /// Plain Swift, for CPUs without either, and the oracle the others are tested against.
    case portable

    /// Whether this CPU can run the kernel.
    public var isAvailable: Bool {
        switch self {
        case .avx512vnni: return Self.hasVNNI
        case .avx2: return Self.hasAVX2
        case .portable: return true
        }
    }

    /// The fastest kernel this CPU has.
    public static let best: QuantizedKernel = hasVNNI ? .avx512vnni : hasAVX2 ? .avx2 : .portable

    // The C side answers 0 on CPUs (and architectures) without the instructions.
    private static let hasVNNI = tandem_quant_has_avx512vnni() != 0
    static let hasAVX2 = tandem_quant_has_avx2() != 0
    /// The activation quantizer's widest path on this CPU (tandem_quantize_rows' `simd`): all give the same bytes.
    static let quantizerPath: Int32 = hasVNNI ? 2 : hasAVX2 ? 1 : 0

    /// Runs `iterations` rounds of 8 independent chains of this kernel's integer dot instruction
    /// on registers (the rate its products can at best reach); returns the multiply-adds done,
    /// 0 for `portable` (nothing to measure).
    public func peakLoop(iterations: Int) -> Int {
        guard self != .portable, isAvailable else { return 0 }
        var sink: Int32 = 0
        return Int(tandem_quant_peak_loop(Int64(iterations), self == .avx512vnni ? 1 : 0, &sink))
    }

    /// Rows of activations one pass handles (accumulators that fit the vector registers).
    var maxRows: Int { self == .avx2 ? 4 : 8 }

    @inline(__always)
    func run(_ call: inout tandem_quant_call, rows: Int) {
        switch self {
        case .avx512vnni: tandem_quant_panel_avx512vnni(&call, Int32(rows))
        case .avx2: tandem_quant_panel_avx2(&call, Int32(rows))
        case .portable: Self.portablePanel(call, rows: rows)
        }
    }

    // y[rows x width] (+)= x[rows x 32 blocks] . panel, the exact sequence of tandem_quant.c
    static func portablePanel(_ c: tandem_quant_call, rows: Int) {
        let kind = Int(c.kind), blockBytes = kind == Int(TANDEM_Q8_0) ? 544 : kind == Int(TANDEM_Q4_0) ? 288 : 320
        let hasMinimum = kind == Int(TANDEM_Q4_1), quantOffset = hasMinimum ? 64 : 32
        let panel = UnsafeRawPointer(c.panel!)
        for r in 0..<rows {
            var accumulator = [Float](repeating: 0, count: 16)
            let x = c.x! + r * Int(c.x_stride)
            for b in 0..<Int(c.blocks) {
                let block = panel + b * blockBytes, quants = block + quantOffset
                let at = r * Int(c.scale_stride) + b
                let scale = c.x_scale![at], offsetSum = c.x_offset_sum![at], scaledSum = c.x_scaled_sum![at]
                for lane in 0..<16 {
                    var dot: Int32 = 0
                    for k in 0..<32 {
                        let weight: Int32
                        if kind == Int(TANDEM_Q8_0) {
                            weight = Int32(quants.load(fromByteOffset: 64 * (k / 4) + 4 * lane + k % 4,
                                                       as: UInt8.self))
                        } else {
                            let byte = quants.load(fromByteOffset: 64 * (k / 8) + 4 * lane + k % 4, as: UInt8.self)
                            weight = Int32(k % 8 < 4 ? byte & 0x0F : byte >> 4)
                        }
                        dot += weight * Int32(x[32 * b + k])
                    }
                    let d = GGMLDequantize.half(block.loadUnaligned(fromByteOffset: 2 * lane, as: UInt16.self))
                    // exact (a power of two), so this fma equals the kernels' fma(dot, d * 2^e)
                    let scaled = Float(dot - (hasMinimum ? 0 : offsetSum)) * scale
                    accumulator[lane] = accumulator[lane].addingProduct(scaled, d) // fused, as vfmadd
                    if hasMinimum {
                        let m = GGMLDequantize.half(block.loadUnaligned(fromByteOffset: 32 + 2 * lane,
                                                                        as: UInt16.self))
                        accumulator[lane] = accumulator[lane].addingProduct(m, scaledSum)
                    }
                }
            }
            let y = c.y! + r * Int(c.y_stride)
            for j in 0..<Int(c.width) { y[j] = c.accumulate != 0 ? y[j] + accumulator[j] : accumulator[j] }
        }
    }
}

/// Rows of activations quantized for the panel kernels: per row and block of 32 inputs, int8
/// quants (round to nearest, ties to even), the power-of-two scale 2^e (the smallest with
/// amax / 127 <= 2^e, e in [-100, 100]), and the quants' sum times the weights' offset
/// (128 Q8_0, 8 Q4_0) and times the scale (Q4_1's minimum term). Room for `capacity` rows,
/// allocated once per forward state and width (`ForwardState.quantizedActivations`).
public final class QuantizedActivations: @unchecked Sendable {
    let capacity: Int
    let blocks: Int
    let quantStride: Int
    let scales: UnsafeMutablePointer<Float>
    let offsetSums: UnsafeMutablePointer<Int32>
    let scaledSums: UnsafeMutablePointer<Float>
    let quants: UnsafeMutablePointer<Int8>
    /// One allocation holds all four arrays.
    private let storage: UnsafeMutableRawPointer

    let offset: Int32

    // Room for quants [capacity x columns] and the rest [capacity x blocks]; `quantize` fills rows.
    init(capacity: Int, columns: Int, offset: Int32) {
        self.capacity = capacity
        self.offset = offset
        blocks = columns / 32
        quantStride = columns
        let perBlock = capacity * blocks // 4-byte elements of each of the three block arrays
        storage = .allocate(byteCount: max(12 * perBlock + capacity * columns, 1), alignment: 64)
        scales = storage.bindMemory(to: Float.self, capacity: perBlock)
        offsetSums = (storage + 4 * perBlock).bindMemory(to: Int32.self, capacity: perBlock)
        scaledSums = (storage + 8 * perBlock).bindMemory(to: Float.self, capacity: perBlock)
        quants = (storage + 12 * perBlock).bindMemory(to: Int8.self, capacity: capacity * columns)
    }

    deinit { storage.deallocate() }

    /// Quantizes `rows` of x (row r at x + r * xStride) into their places; each row's bytes do not
    /// depend on the others, so ranges may be filled by different threads.
    func quantize(_ x: UnsafePointer<Float>, xStride: Int, rows: Range<Int>) {
        guard !rows.isEmpty else { return }
        precondition(rows.upperBound <= capacity, "\(rows.upperBound) rows, room for \(capacity)")
        let first = rows.lowerBound
        tandem_quantize_rows(x + first * xStride, Int64(xStride), Int32(rows.count), Int32(quantStride), offset,
                             quants + first * quantStride, scales + first * blocks, offsetSums + first * blocks,
                             scaledSums + first * blocks, QuantizedKernel.quantizerPath)
    }
}
