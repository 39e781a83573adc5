import Foundation

/// Rotary position embeddings, Hugging Face "rotate half" convention (as the engine's
/// `RotaryTable`): element i pairs with i + hd/2, angle position * theta^(-2i/hd).
public struct RotaryOps<S: TrainingScalar>: Sendable {
    let half: Int
    let cosines: [S], sines: [S] // [position][half]

    public init(headDimension: Int, positions: Int, theta: Float) {
        half = headDimension / 2
        var cosines = [S](repeating: 0, count: positions * half), sines = cosines
        for position in 0..<positions {
            for i in 0..<half {
                let angle = Double(position) * RotaryOps.power(Double(theta), -2 * Double(i) / Double(headDimension))
                cosines[position * half + i] = S(RotaryOps.cosine(angle))
                sines[position * half + i] = S(RotaryOps.sine(angle))
            }
        }
        self.cosines = cosines
        self.sines = sines
    }

    // v[rows x stride]: heads at columns offset + h*hd, h < heads; row r at position r % period
    public func forward(_ v: UnsafeMutablePointer<S>, rows: Int, stride: Int, offset: Int, heads: Int, period: Int) {
        apply(v, rows: rows, stride: stride, offset: offset, heads: heads, period: period, sign: 1)
    }

    // the gradient of a rotation is the inverse rotation   (same argument order as forward)
    public func backward(_ dv: UnsafeMutablePointer<S>, rows: Int, stride: Int, offset: Int, heads: Int, period: Int) {
        apply(dv, rows: rows, stride: stride, offset: offset, heads: heads, period: period, sign: -1)
    }

    private func apply(_ v: UnsafeMutablePointer<S>, rows: Int, stride: Int, offset: Int, heads: Int, period: Int,
                       sign: S) {
        cosines.withUnsafeBufferPointer { cosine in
            sines.withUnsafeBufferPointer { sine in
                for row in 0..<rows {
                    let base = (row % period) * half
                    for head in 0..<heads {
                        let p = v + row * stride + offset + head * 2 * half
                        for i in 0..<half {
                            let c = cosine[base + i], s = sign * sine[base + i]
                            let a = p[i], b = p[i + half]
                            p[i] = a * c - b * s
                            p[i + half] = b * c + a * s
                        }
                    }
                }
            }
        }
    }

    static func power(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
    static func cosine(_ x: Double) -> Double { Foundation.cos(x) }
    static func sine(_ x: Double) -> Double { Foundation.sin(x) }
}

