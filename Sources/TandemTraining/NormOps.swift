/// RMSNorm y = x / sqrt(mean(x^2) + eps) * w, per row.
public enum NormOps {
    // y[rows x d] = rmsnorm(x[rows x d]) * w[d]; inverseRMS[rows] saved for backward
    public static func forward<S: TrainingScalar>(
        _ x: UnsafePointer<S>, _ w: UnsafePointer<S>, rows: Int, width d: Int, epsilon: S,
        _ y: UnsafeMutablePointer<S>, inverseRMS: UnsafeMutablePointer<S>
    ) {
        for row in 0..<rows {
            let xr = x + row * d, yr = y + row * d
            var sum: S = 0
            for i in 0..<d { sum += xr[i] * xr[i] }
            let r = 1 / (sum / S(d) + epsilon).squareRoot()
            inverseRMS[row] = r
            for i in 0..<d { yr[i] = xr[i] * r * w[i] }
        }
    }

    // dx[rows x d] (+)= ..., dw[d] += ...   from dy[rows x d]   (same argument order as forward)
    public static func backward<S: TrainingScalar>(
        _ x: UnsafePointer<S>, _ w: UnsafePointer<S>, rows: Int, width d: Int, inverseRMS: UnsafePointer<S>,
        _ dy: UnsafePointer<S>, dx: UnsafeMutablePointer<S>, accumulate: Bool, dw: UnsafeMutablePointer<S>
    ) {
        for row in 0..<rows {
            let xr = x + row * d, dyr = dy + row * d, dxr = dx + row * d
            let r = inverseRMS[row]
            // y_i = x_i r w_i, r = (mean x^2 + eps)^-1/2, dr/dx_j = -r^3 x_j / d
            var dot: S = 0
            for i in 0..<d {
                dot += dyr[i] * w[i] * xr[i]
                dw[i] += dyr[i] * xr[i] * r
            }
            let c = dot * r * r * r / S(d)
            for i in 0..<d {
                let g = dyr[i] * w[i] * r - xr[i] * c
                dxr[i] = accumulate ? dxr[i] + g : g
            }
        }
    }
}
