/// Precomputed cos/sin of rotary position embeddings, [position][headDimension / 2], in the
/// Hugging Face Llama "rotate half" convention: element i pairs with element i + d/2.
public struct RotaryTable: Sendable {
    let half: Int
    let cosines: [Float]
    let sines: [Float]

    public init(headDimension: Int, maxContext: Int, theta: Float) {
        half = headDimension / 2
        var cosines = [Float](repeating: 0, count: maxContext * half)
        var sines = cosines
        for position in 0..<maxContext {
            for i in 0..<half {
                // Angles in Double: position * frequency reaches ~2000 radians at long contexts.
                let frequency = _pow(Double(theta), -2 * Double(i) / Double(2 * half))
                let angle = Double(position) * frequency
                cosines[position * half + i] = Float(_cosine(angle))
                sines[position * half + i] = Float(_sine(angle))
            }
        }
        self.cosines = cosines
        self.sines = sines
    }

    // v[2 * half] rotated in place for `position`: eight pairs at a time (a block's rotary took
    // 1.6% of a SmolLM2 pass as a scalar loop), each element's arithmetic the same multiply,
    // multiply, add as the scalar tail's, so every half width gives the same bits.
    @inline(__always)
    public func rotate(_ v: UnsafeMutablePointer<Float>, position: Int) {
        precondition(position >= 0 && (position + 1) * half <= cosines.count,
                     "rotary position \(position) outside the table of \(cosines.count / max(half, 1))")
        cosines.withUnsafeBufferPointer { cosine in
            sines.withUnsafeBufferPointer { sine in
                let c0 = cosine.baseAddress! + position * half, s0 = sine.baseAddress! + position * half
                var i = 0
                while i + 8 <= half {
                    let c = VectorMath.load(c0 + i), s = VectorMath.load(s0 + i)
                    let a = VectorMath.load(v + i), b = VectorMath.load(v + i + half)
                    VectorMath.store(a * c - b * s, v + i)
                    VectorMath.store(b * c + a * s, v + i + half)
                    i += 8
                }
                while i < half {
                    let c = c0[i], s = s0[i]
                    let a = v[i], b = v[i + half]
                    v[i] = a * c - b * s
                    v[i + half] = b * c + a * s
                    i += 1
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
@inline(__always) func _cosine(_ x: Double) -> Double { Glibc.cos(x) }
@inline(__always) func _sine(_ x: Double) -> Double { Glibc.sin(x) }
#else
import Darwin
@inline(__always) func _pow(_ x: Double, _ y: Double) -> Double { Darwin.pow(x, y) }
@inline(__always) func _cosine(_ x: Double) -> Double { Darwin.cos(x) }
@inline(__always) func _sine(_ x: Double) -> Double { Darwin.sin(x) }
#endif
