import CBLAS
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The element type of training: Float for real runs, Double for gradient checks against
/// central finite differences. Every kernel of this module is generic over it, so the checked
/// code is the code that trains.
public protocol TrainingScalar: BinaryFloatingPoint, Sendable {
    // C[m x n] = alpha op(A) op(B) + beta C, row-major; op(A) [m x k], op(B) [k x n]
    static func gemm(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
                     _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int,
                     _ b: UnsafePointer<Self>, _ ldb: Int,
                     _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
    static func exponential(_ x: Self) -> Self
    static func logarithm(_ x: Self) -> Self
}

extension Float: TrainingScalar {
    @inline(__always)
    public static func gemm(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
                            _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
                            _ b: UnsafePointer<Float>, _ ldb: Int,
                            _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    @inline(__always) public static func exponential(_ x: Float) -> Float { expf(x) }
    @inline(__always) public static func logarithm(_ x: Float) -> Float { logf(x) }
}

extension Double: TrainingScalar {
    @inline(__always)
    public static func gemm(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
                            _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int,
                            _ b: UnsafePointer<Double>, _ ldb: Int,
                            _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int) {
        cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    @inline(__always) public static func exponential(_ x: Double) -> Double { exp(x) }
    @inline(__always) public static func logarithm(_ x: Double) -> Double { log(x) }
}

/// A zero-initialised scratch or parameter array owned by a class (no copy-on-write on the
/// hot path; pointers stay valid for the buffer's lifetime).
public final class Buffer<Scalar: TrainingScalar>: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Scalar>

    public init(_ count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    public func zero() { pointer.update(repeating: 0, count: count) }

    public subscript(index: Int) -> Scalar {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }

    public var array: [Scalar] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
