/// SwiGLU a = silu(gate) * up, silu(g) = g sigma(g), on rows [gate | up] of width 2f.
public enum FeedForwardOps {
    // a[rows x f] = silu(gu[:, :f]) * gu[:, f:]
    public static func forward<S: TrainingScalar>(_ gateUp: UnsafePointer<S>, rows: Int, width f: Int,
                                                  _ a: UnsafeMutablePointer<S>) {
        for row in 0..<rows {
            let g = gateUp + row * 2 * f, u = g + f, ar = a + row * f
            for i in 0..<f {
                let sigma = 1 / (1 + S.exponential(-g[i]))
                ar[i] = g[i] * sigma * u[i]
            }
        }
    }

    // dgu[rows x 2f] = d/d[gate|up] from da[rows x f]   (same argument order as forward)
    public static func backward<S: TrainingScalar>(_ gateUp: UnsafePointer<S>, rows: Int, width f: Int,
                                                   _ da: UnsafePointer<S>, dGateUp: UnsafeMutablePointer<S>) {
        for row in 0..<rows {
            let g = gateUp + row * 2 * f, u = g + f, dar = da + row * f
            let dg = dGateUp + row * 2 * f, du = dg + f
            for i in 0..<f {
                let sigma = 1 / (1 + S.exponential(-g[i]))
                let silu = g[i] * sigma
                du[i] = dar[i] * silu
                dg[i] = dar[i] * u[i] * sigma * (1 + g[i] * (1 - sigma))
            }
        }
    }
}
