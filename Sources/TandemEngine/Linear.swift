import CBLAS

/// Which code multiplies activations by a weight matrix.
public enum KernelBackend: String, CaseIterable, Sendable, Codable {
    /// OpenBLAS only: sgemv for one token, sgemm for blocks (the baseline every peer uses).
    case openblas
    /// The packed skinny kernel for every block size.
    case packed
    /// Per shape and block size, whichever of the two measured faster on this machine.
    case auto
}

/// Work that writes rows of a product's input (a norm, SwiGLU), run by the product before it reads
/// them: with several threads each takes a share of the rows in the same wake-up as the product
/// (`WorkerPool.run(_:prologue:_:)`), where on its own it ran on one thread while the others
/// waited. Row r's result must not depend on which range it comes in.
public typealias RowPrologue = (Range<Int>) -> Void

/// One linear layer y = x W^T, W [N x K] in canonical layout (inside `ModelWeights`) plus its
/// packed copy for the skinny kernel, or a quantized copy that then serves every block size.
/// Several adjacent matrices may be fused along N (e.g. the q, k, v projections), which works
/// because the parameter table stores them adjacently.
public final class Linear: @unchecked Sendable {
    public let outputs: Int   // N
    public let inputs: Int    // K
    let canonical: UnsafePointer<Float>
    let packed: PackedMatrix?
    /// The weights kept quantized (Q8_0, Q4_0, Q4_1): when present, every product uses it.
    public let quantized: QuantizedMatrix?
    /// usePacked[n - 1]: whether a block of n tokens goes to the packed kernel.
    var usePacked: [Bool]
    /// The packed kernel's loop for blocks of 1-6 rows; the model chooses it from its footprint.
    public internal(set) var loop: SkinnyLoop = .cacheResident

    public init(canonical: UnsafePointer<Float>, outputs: Int, inputs: Int, backend: KernelBackend) {
        self.canonical = canonical
        self.outputs = outputs
        self.inputs = inputs
        packed = backend == .openblas ? nil : PackedMatrix(source: canonical, rows: outputs, columns: inputs)
        usePacked = backend == .openblas ? [] : Array(repeating: true, count: Linear.maxPackedTokens)
        quantized = nil
    }

    /// A layer whose products all run on `quantized` (of the same shape); `canonical` is its
    /// dequantized F32 form, kept for reference and for the embedding it may share.
    public init(quantized: QuantizedMatrix, canonical: UnsafePointer<Float>) {
        self.canonical = canonical
        outputs = quantized.rows
        inputs = quantized.columns
        packed = nil
        usePacked = []
        self.quantized = quantized
    }

    /// Beyond this block size the product is compute-bound and OpenBLAS's sgemm is used.
    public static let maxPackedTokens = 32

    /// Bytes of weights this layer reads per call.
    public var weightBytes: Int { quantized?.byteCount ?? outputs * inputs * 4 }

    // y[n x N] (+)= x[n x K] . W^T[K x N], after `prologue` has written the rows of x (see
    // RowPrologue)
    @inline(__always)
    public func apply(_ x: UnsafePointer<Float>, xStride: Int, tokens: Int,
                      into y: UnsafeMutablePointer<Float>, yStride: Int,
                      accumulate: Bool, threads: Int, prologue: RowPrologue? = nil,
                      activations: QuantizedActivations? = nil) {
        if let quantized {
            quantized.multiply(x, xStride: xStride, tokens: tokens, into: y, yStride: yStride,
                               accumulate: accumulate, threads: threads, prologue: prologue, activations: activations)
        } else if let packed, tokens <= usePacked.count, usePacked[tokens - 1] {
            packed.multiply(x, xStride: xStride, tokens: tokens, into: y, yStride: yStride,
                            accumulate: accumulate, threads: threads, loop: loop, prologue: prologue)
        } else {
            prologue?(0..<tokens)
            Linear.blas(canonical, outputs, inputs, x, xStride, tokens, y, yStride, accumulate)
        }
    }

    /// Whether a block of `tokens` can run in a parallel region: split into panel shares
    /// (quantized, or the packed kernel at this size), not handed to OpenBLAS whole.
    func splitsIntoShares(tokens: Int) -> Bool {
        quantized != nil || (packed != nil && tokens <= usePacked.count && usePacked[tokens - 1])
    }

    /// A region thread's preparation of rows of X before the product (quantized weights: their
    /// quantization into `activations`, which is nil for F32 weights); a barrier must follow
    /// before any thread's `multiply(part:)`.
    @inline(__always)
    func prepare(_ x: UnsafePointer<Float>, xStride: Int, rows: Range<Int>, activations: QuantizedActivations?) {
        activations?.quantize(x, xStride: xStride, rows: rows)
    }

    // Part `part` of `parts` of y[n x N] (+)= x[n x K] . W^T (see splitsIntoShares and prepare)
    @inline(__always)
    func multiply(part: Int, parts: Int, _ x: UnsafePointer<Float>, xStride: Int, tokens: Int,
                  into y: UnsafeMutablePointer<Float>, yStride: Int, accumulate: Bool,
                  activations: QuantizedActivations?) {
        if let quantized, let activations {
            quantized.multiply(part: part, parts: parts, tokens: tokens, activations, into: y, yStride: yStride,
                               accumulate: accumulate)
        } else if let packed {
            packed.multiply(part: part, parts: parts, x, xStride: xStride, tokens: tokens, into: y, yStride: yStride,
                            accumulate: accumulate, loop: loop)
        } else {
            preconditionFailure("multiply(part:) on a layer that does not split into shares")
        }
    }

    /// Forces the OpenBLAS path (used when measuring the plan).
    func applyBLAS(_ x: UnsafePointer<Float>, xStride: Int, tokens: Int,
                   into y: UnsafeMutablePointer<Float>, yStride: Int, accumulate: Bool) {
        Linear.blas(canonical, outputs, inputs, x, xStride, tokens, y, yStride, accumulate)
    }

    // y[n x N] (+)= x[n x K] . W^T, with W [N x K] row-major
    static func blas(_ w: UnsafePointer<Float>, _ outputs: Int, _ inputs: Int,
                     _ x: UnsafePointer<Float>, _ xStride: Int, _ tokens: Int,
                     _ y: UnsafeMutablePointer<Float>, _ yStride: Int, _ accumulate: Bool) {
        let beta: Float = accumulate ? 1 : 0
        if tokens == 1 {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(outputs), Int32(inputs), 1, w, Int32(inputs),
                        x, 1, beta, y, 1)
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(tokens), Int32(outputs), Int32(inputs),
                        1, x, Int32(xStride), w, Int32(inputs), beta, y, Int32(yStride))
        }
    }
}

/// Sets the number of threads OpenBLAS uses (process-wide).
public func setBLASThreads(_ threads: Int) {
    openblas_set_num_threads(Int32(max(threads, 1)))
}

/// The BLAS core OpenBLAS selected for this CPU (e.g. "Zen").
public func blasCoreName() -> String {
    guard let name = openblas_get_corename() else { return "unknown" }
    return String(cString: name)
}
