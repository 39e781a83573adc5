/// Linear layers y = x W^T with W [outputs x inputs] row-major (the checkpoint layout), on
/// rows of activations with arbitrary strides. Large products go to BLAS gemm.
public enum LinearOps {
    // y[rows x outputs] (+)= x[rows x inputs] . W^T
    @inline(__always)
    public static func forward<S: TrainingScalar>(
        _ x: UnsafePointer<S>, xStride: Int, _ w: UnsafePointer<S>, rows: Int, inputs: Int, outputs: Int,
        _ y: UnsafeMutablePointer<S>, yStride: Int, accumulate: Bool = false
    ) {
        S.gemm(false, true, rows, outputs, inputs, 1, x, xStride, w, inputs, accumulate ? 1 : 0, y, yStride)
    }

    // dx[rows x inputs] (+)= dy . W;  dW[outputs x inputs] += dy^T . x   (same argument order as forward)
    @inline(__always)
    public static func backward<S: TrainingScalar>(
        _ x: UnsafePointer<S>, xStride: Int, _ w: UnsafePointer<S>, rows: Int, inputs: Int, outputs: Int,
        _ dy: UnsafePointer<S>, dyStride: Int,
        dx: UnsafeMutablePointer<S>?, dxStride: Int, accumulateInput: Bool, dw: UnsafeMutablePointer<S>
    ) {
        if let dx {
            S.gemm(false, false, rows, inputs, outputs, 1, dy, dyStride, w, inputs, accumulateInput ? 1 : 0,
                   dx, dxStride)
        }
        S.gemm(true, false, outputs, inputs, rows, 1, dy, dyStride, x, xStride, 1, dw, inputs)
    }
}
