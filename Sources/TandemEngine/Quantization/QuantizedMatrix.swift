import CQuantKernels

/// Rows of a GGML block-quantized matrix W [rows x columns] as GGUF stores them (row-major,
/// each row `columns / 32` blocks), viewed in place. `rowOrder[i]`, when given, is the stored
/// row that holds row i (e.g. llama.cpp's rotary permutation undone without a copy).
public struct QuantizedTensor {
    public var type: GGMLType
    public var rows: Int
    public var columns: Int
    public var data: UnsafeRawPointer
    public var rowOrder: [Int]?

    public init(type: GGMLType, rows: Int, columns: Int, data: UnsafeRawPointer, rowOrder: [Int]? = nil) {
        self.type = type
        self.rows = rows
        self.columns = columns
        self.data = data
        self.rowOrder = rowOrder
    }

    /// The stored bytes of row `row` (after `rowOrder`).
    func row(_ row: Int) -> UnsafeRawPointer {
        data + (rowOrder?[row] ?? row) * (type.blockBytes ?? 0) * (columns / 32)
    }
}

/// A weight matrix W [N x K] kept in a GGML quantized type (Q8_0, Q4_0 or Q4_1: the same bits,
/// repacked) for products with blocks of activations, y[n x N] (+)= x[n x K] W^T.
///
/// Layout: panels of 16 output rows; a panel holds K / 32 blocks, each the 16 rows' scales
/// (halves), their minima (Q4_1), then their quants interleaved so that 4 consecutive inputs of
/// one row share a 32-bit lane (tandem_quant.c spells out the bytes). Bytes per weight are
/// GGML's (Q8_0 34, Q4_0 18, Q4_1 20 per 32), so one call streams each weight once.
///
/// Numerics: each row of x is quantized per 32 inputs to int8 like llama.cpp's Q8_1 (round to
/// nearest even) but with a power-of-two scale (the smallest 2^e >= amax / 127, where llama.cpp
/// takes amax / 127 itself): the integer dot of a block is exact, and so is its scaling by 2^e,
/// which the kernels fold into the weight scale with an integer add instead of a float multiply
/// (on the pipes the integer dots need: about 10% of the compute-bound rate). A row's result does
/// not depend on the block size or thread count, and every kernel gives the same bits. The cost
/// against F32 activations is the int8 rounding of x: relative RMS error about 0.5-0.8% over
/// many products on random data, up to 1.6% for one row of one block (1.4-1.6x llama.cpp's
/// scale in RMS; see QuantizedKernelTests).
public final class QuantizedMatrix: @unchecked Sendable {
    public static let panelWidth = 16
    /// Tokens from which a product's first row chunk prefetches the next panel into L2 (AVX2 chunks
    /// hold at most 4 rows, so the count is of the product's rows). With fewer the product is
    /// bound by the weight stream, which the hardware prefetcher alone keeps faster: SmolLM2 Q4_1
    /// on Zen 4, one thread, a decode step took 3.7 ms without and 4.6 ms with the prefetches,
    /// 2 rows 4.0 vs 4.5, 4 rows even, 5-8 rows 5-10% longer without (A/B, `tandem bench-serve`).
    static let prefetchRows = 4
    public let type: GGMLType
    public let rows: Int     // N, outputs
    public let columns: Int  // K, inputs, a multiple of 32
    public let panelCount: Int
    public let kernel: QuantizedKernel
    let blocks: Int
    let blockBytes: Int
    let storage: UnsafeMutableRawPointer

    /// Types this matrix can hold.
    public static let supported: [GGMLType] = [.q8_0, .q4_0, .q4_1]

    /// Bytes of one panel block (16 rows x 32 inputs).
    static func blockBytes(_ type: GGMLType) -> Int { 16 * (type.blockBytes ?? 0) }

    /// Stacks `parts` along the output axis (e.g. the q, k and v projections). Every part must
    /// have the same supported type and column count, a multiple of 32 (callers check; see
    /// `canHold`).
    public init(parts: [QuantizedTensor], kernel: QuantizedKernel = .best) {
        precondition(Self.canHold(parts), "parts cannot be stacked into one quantized matrix")
        precondition(kernel.isAvailable, "the \(kernel) kernel needs a CPU feature this machine lacks")
        let type = parts[0].type, columns = parts[0].columns
        self.type = type
        self.columns = columns
        rows = parts.reduce(0) { $0 + $1.rows }
        self.kernel = kernel
        blocks = columns / 32
        blockBytes = Self.blockBytes(type)
        panelCount = (rows + Self.panelWidth - 1) / Self.panelWidth
        storage = HugePages.allocate(byteCount: max(panelCount * blocks * blockBytes, 1)) // zeroed
        var sources: [UnsafeRawPointer] = []
        for part in parts { for row in 0..<part.rows { sources.append(part.row(row)) } }
        for (row, source) in sources.enumerated() { pack(row: row, from: source) }
    }

    /// Quantizes the F32 matrix at `source` ([rows x columns], row-major) to `type` with ggml's
    /// reference rounding, then packs it.
    public convenience init(quantizing source: UnsafePointer<Float>, rows: Int, columns: Int, type: GGMLType,
                            kernel: QuantizedKernel = .best) {
        let rowBytes = type.byteCount(elements: columns) ?? 0
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: max(rows * rowBytes, 1), alignment: 64)
        defer { bytes.deallocate() }
        for row in 0..<rows {
            GGMLQuantize.run(type, source + row * columns, count: columns, into: bytes + row * rowBytes)
        }
        self.init(parts: [QuantizedTensor(type: type, rows: rows, columns: columns, data: bytes)], kernel: kernel)
    }

    deinit { HugePages.free(storage) }

    /// Whether `parts` can form one matrix: same supported type, same columns (a multiple of 32).
    public static func canHold(_ parts: [QuantizedTensor]) -> Bool {
        guard let first = parts.first, supported.contains(first.type), first.columns % 32 == 0,
              first.columns > 0 else { return false }
        return parts.allSatisfy { $0.type == first.type && $0.columns == first.columns && $0.rows > 0 }
    }

    /// Bytes of weights one product reads.
    public var byteCount: Int { panelCount * blocks * blockBytes }

    /// Writes stored row `row` (its K / 32 GGML blocks at `source`) into its panel. A block whose
    /// scale d is zero (all its d * q terms are 0) is stored with d = 2^-14, the smallest normal
    /// half, and quants equal to the kind's offset (Q8_0 0, Q4_0 8, Q4_1 0), so its offset-corrected
    /// dot is exactly 0: the same result, and the kernels can scale d by 2^e with an unmasked
    /// integer add to its exponent (tandem_quant.c).
    private func pack(row: Int, from source: UnsafeRawPointer) {
        let panel = row / Self.panelWidth, lane = row % Self.panelWidth
        let stored = type.blockBytes!, hasMinimum = type == .q4_1, quantOffset = hasMinimum ? 64 : 32
        let smallestNormalHalf: UInt16 = 0x0400, neutralNibble: UInt8 = type == .q4_0 ? 8 : 0
        for b in 0..<blocks {
            let from = source + b * stored
            let block = storage + (panel * blocks + b) * blockBytes
            let d = from.loadUnaligned(as: UInt16.self), zeroScale = d & 0x7FFF == 0
            block.storeBytes(of: zeroScale ? smallestNormalHalf : d, toByteOffset: 2 * lane, as: UInt16.self)
            if hasMinimum {
                block.storeBytes(of: from.loadUnaligned(fromByteOffset: 2, as: UInt16.self),
                                 toByteOffset: 32 + 2 * lane, as: UInt16.self)
            }
            let quants = block + quantOffset
            if type == .q8_0 {
                for k in 0..<32 {
                    let signed = zeroScale ? 0 : from.load(fromByteOffset: 2 + k, as: UInt8.self)
                    let q = signed ^ 0x80 // + 128 as unsigned
                    quants.storeBytes(of: q, toByteOffset: 64 * (k / 4) + 4 * lane + k % 4, as: UInt8.self)
                }
            } else {
                let nibbles = from + (hasMinimum ? 4 : 2)
                for k in 0..<32 {
                    let byte = nibbles.load(fromByteOffset: k % 16, as: UInt8.self)
                    let q = zeroScale ? neutralNibble : k < 16 ? byte & 0x0F : byte >> 4
                    let at = 64 * (k / 8) + 4 * lane + k % 4, shift: UInt8 = k % 8 < 4 ? 0 : 4
                    let old = quants.load(fromByteOffset: at, as: UInt8.self)
                    quants.storeBytes(of: old | q << shift, toByteOffset: at, as: UInt8.self)
                }
            }
        }
    }

    /// Y[n x N] = X[n x K] W^T, or Y += X W^T when `accumulate`; rows of X are `xStride` floats
    /// apart and rows of Y `yStride`. Any n >= 1 (rows go to the kernel in chunks); work is split
    /// by panels over `threads` threads. `prologue` writes the rows of X first; with several threads
    /// each takes a share of the rows, and of their quantization, before the panels are split.
    /// `activations` (from `makeActivations`, room for n rows) holds X quantized; nil allocates it.
    public func multiply(_ x: UnsafePointer<Float>, xStride: Int, tokens: Int,
                         into y: UnsafeMutablePointer<Float>, yStride: Int,
                         accumulate: Bool, threads: Int = 1, prologue: RowPrologue? = nil,
                         activations scratch: QuantizedActivations? = nil) {
        if let scratch {
            precondition(scratch.quantStride == columns && scratch.offset == Self.weightOffset(type),
                         "activation scratch for \(scratch.quantStride) columns, offset \(scratch.offset)")
        }
        let activations = scratch.flatMap { $0.capacity >= tokens ? $0 : nil } ?? makeActivations(capacity: tokens)
        let workers = min(max(threads, 1), panelCount)
        func panels(_ worker: Int) {
            multiplyPanels(WorkerPool.share(of: panelCount, part: worker, parts: workers), tokens, activations, y,
                           yStride, accumulate)
        }
        func prepare(_ rows: Range<Int>) {
            prologue?(rows)
            activations.quantize(x, xStride: xStride, rows: rows)
        }
        // One row stays on the calling thread (moving it to another core cost more than it saved).
        guard workers > 1, tokens > 1 else {
            prepare(0..<tokens)
            return workers > 1 ? WorkerPool.shared(threads: workers).run(workers, panels) : panels(0)
        }
        WorkerPool.shared(threads: workers).run(workers, prologue: { worker in
            prepare(WorkerPool.share(of: tokens, part: worker, parts: workers))
        }, panels)
    }

    /// Scratch for the quantized rows of X, room for `capacity` rows (this matrix's width and offset).
    func makeActivations(capacity: Int) -> QuantizedActivations {
        QuantizedActivations(capacity: capacity, columns: columns, offset: Self.weightOffset(type))
    }

    /// Part `part` of `parts` of the product of `multiply`, on rows of X already quantized in
    /// `activations`: the same contiguous panel shares, so the same bits as `multiply`.
    func multiply(part: Int, parts: Int, tokens: Int, _ activations: QuantizedActivations,
                  into y: UnsafeMutablePointer<Float>, yStride: Int, accumulate: Bool) {
        multiplyPanels(WorkerPool.share(of: panelCount, part: part, parts: parts), tokens, activations, y, yStride,
                       accumulate)
    }

    private func multiplyPanels(_ panels: Range<Int>, _ tokens: Int, _ x: QuantizedActivations,
                                _ y: UnsafeMutablePointer<Float>, _ yStride: Int, _ accumulate: Bool) {
        let maxRows = kernel.maxRows
        let chunkCount = (tokens + maxRows - 1) / maxRows
        let panelBytes = blocks * blockBytes, kind = Int32(Self.kernelKind(type))
        for panel in panels {
            let weights = UnsafePointer<UInt8>((storage + panel * panelBytes).assumingMemoryBound(to: UInt8.self))
            let next = panel + 1 < panels.upperBound ? weights + panelBytes : nil
            let width = min(Self.panelWidth, rows - panel * Self.panelWidth)
            var row = 0
            for chunk in 0..<chunkCount {
                let chunksLeft = chunkCount - chunk
                let r = (tokens - row + chunksLeft - 1) / chunksLeft // balanced: 9 = 5 + 4
                var call = tandem_quant_call(
                    panel: weights, blocks: Int32(blocks), kind: kind,
                    x: x.quants + row * x.quantStride, x_stride: Int64(x.quantStride),
                    x_scale: x.scales + row * x.blocks, x_offset_sum: x.offsetSums + row * x.blocks,
                    x_scaled_sum: x.scaledSums + row * x.blocks,
                    scale_stride: Int64(x.blocks), y: y + row * yStride + panel * Self.panelWidth,
                    y_stride: Int64(yStride), width: Int32(width), accumulate: accumulate ? 1 : 0,
                    prefetch: chunk == 0 && tokens >= Self.prefetchRows ? next : nil)
                kernel.run(&call, rows: r)
                row += r
            }
        }
    }

    /// What the kernels' unsigned weight quants exceed the signed ones by (Q8_0 is stored + 128).
    static func weightOffset(_ type: GGMLType) -> Int32 { type == .q8_0 ? 128 : type == .q4_0 ? 8 : 0 }

    static func kernelKind(_ type: GGMLType) -> Int {
        switch type {
        case .q8_0: return Int(TANDEM_Q8_0)
        case .q4_0: return Int(TANDEM_Q4_0)
        default: return Int(TANDEM_Q4_1)
        }
    }
}
