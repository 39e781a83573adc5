import CAttentionKernels
import Testing
import TandemEngine

/// `CausalAttention.attend` against a naive Double-precision causal attention, and its contract
/// that a row's result does not depend on the rows travelling with it.
@Suite struct CausalAttentionTests {
    struct Case: CustomStringConvertible, Sendable {
        let headDimension: Int
        let start: Int
        let rows: Int
        var description: String { "hd \(headDimension), start \(start), rows \(rows)" }
    }

    // Head dimensions on every path: 64-float register blocks, 8-float tails, scalar tails,
    // key counts that leave 0-7 keys for the last pass of eight, one and several key chunks
    // (96 keys at hd 64, 48 at hd 128, 72 at hd 80: its 8-float tail carried between chunks), and
    // more rows than a group holds (8).
    static let cases = [
        Case(headDimension: 80, start: 70, rows: 8),
        Case(headDimension: 128, start: 90, rows: 6), Case(headDimension: 64, start: 93, rows: 8),
        Case(headDimension: 64, start: 0, rows: 1), Case(headDimension: 64, start: 64, rows: 9),
        Case(headDimension: 128, start: 37, rows: 5), Case(headDimension: 80, start: 6, rows: 7),
        Case(headDimension: 8, start: 2, rows: 3), Case(headDimension: 24, start: 13, rows: 4),
        Case(headDimension: 6, start: 5, rows: 2), Case(headDimension: 72, start: 1, rows: 16),
        Case(headDimension: 64, start: 150, rows: 11),
    ]

    func randomValues(_ count: Int, seed: UInt64, magnitude: Float) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in (generator.nextUnitFloat() * 2 - 1) * magnitude }
    }

    // Queries (magnitude 3, so softmax is far from uniform), keys and values of a case
    func inputs(_ c: Case, seed: UInt64) -> (q: [Float], k: [Float], v: [Float]) {
        let hd = c.headDimension, keys = c.start + c.rows
        return (randomValues(c.rows * hd, seed: seed, magnitude: 3),
                randomValues(keys * hd, seed: seed + 1, magnitude: 1),
                randomValues(keys * hd, seed: seed + 2, magnitude: 1))
    }

    // scratchRows: rows of scores the scratch holds (ForwardState's: a full group, scoreRows)
    func attend(_ q: [Float], _ k: [Float], _ v: [Float], _ c: Case, rows: Range<Int>,
                scratchRows: Int = CausalAttention.scoreRows) -> [Float] {
        let hd = c.headDimension
        var out = [Float](repeating: .nan, count: rows.count * hd)
        let scoreCapacity = (c.start + c.rows) * scratchRows
        var scores = [Float](repeating: .nan, count: scoreCapacity)
        q.withUnsafeBufferPointer { q in k.withUnsafeBufferPointer { k in v.withUnsafeBufferPointer { v in
            scores.withUnsafeMutableBufferPointer { s in out.withUnsafeMutableBufferPointer { o in
                CausalAttention.attend(queries: q.baseAddress! + rows.lowerBound * hd, queryStride: hd,
                                       rows: rows.count, start: c.start + rows.lowerBound, keys: k.baseAddress!,
                                       values: v.baseAddress!, headDimension: hd,
                                       scale: 1 / Float(hd).squareRoot(), scores: s.baseAddress!,
                                       scoreCapacity: scoreCapacity,
                                       out: o.baseAddress!, outStride: hd)
            } }
        } } }
        return out
    }

    /// Reference: softmax(q k^T / sqrt(hd)) v in Double with row r seeing keys 0...start + r.
    /// Tolerance 2e-6 absolute (values in [-1, 1], float32 scores of 1e-6 relative error).
    @Test(arguments: cases)
    func matchesNaiveAttention(_ c: Case) {
        let hd = c.headDimension
        let (q, k, v) = inputs(c, seed: 1)
        let out = attend(q, k, v, c, rows: 0..<c.rows)
        var reference = [Float](repeating: 0, count: c.rows * hd)
        for r in 0..<c.rows {
            let visible = c.start + r + 1
            let scores = (0..<visible).map { t in
                (0..<hd).reduce(0.0) { $0 + Double(q[r * hd + $1]) * Double(k[t * hd + $1]) } / Double(hd).squareRoot()
            }
            let m = scores.max()!, weights = scores.map { _exp($0 - m) }, total = weights.reduce(0, +)
            for e in 0..<hd {
                let sum = (0..<visible).reduce(0.0) { $0 + weights[$1] / total * Double(v[$1 * hd + e]) }
                reference[r * hd + e] = Float(sum)
            }
        }
        let worst = worstDifference(out, reference)
        #expect(worst.value <= 2e-6, "\(c): worst |diff| \(worst.value) at \(worst.index)")
    }

    /// A block gives the bits of its rows attended one at a time (what makes a verification
    /// block equal incremental decoding).
    @Test(arguments: cases)
    func rowsAreIndependentOfTheBlock(_ c: Case) {
        let (q, k, v) = inputs(c, seed: 4)
        let block = attend(q, k, v, c, rows: 0..<c.rows)
        let single = (0..<c.rows).flatMap { attend(q, k, v, c, rows: $0..<($0 + 1)) }
        let differing = zip(block, single).filter { $0.0.bitPattern != $0.1.bitPattern }.count
        #expect(differing == 0, "\(c): \(differing) of \(block.count) outputs differ from one-row calls")
    }

    /// A scratch holding fewer rows (groups of 1 or 3 rows instead of 8) gives the same bits: the
    /// grouping changes which rows share a pass over the keys, never a row's arithmetic.
    @Test(arguments: cases)
    func smallerScratchGivesTheSameBits(_ c: Case) {
        let (q, k, v) = inputs(c, seed: 5)
        let full = attend(q, k, v, c, rows: 0..<c.rows)
        for scratchRows in [1, 3] {
            let grouped = attend(q, k, v, c, rows: 0..<c.rows, scratchRows: scratchRows)
            let differing = zip(full, grouped).filter { $0.0.bitPattern != $0.1.bitPattern }.count
            #expect(differing == 0, "\(c), scratch of \(scratchRows) rows: \(differing) outputs differ")
        }
    }

    /// The C score kernel (eight keys per pass, a transposing reduction) against its arithmetic
    /// written one key at a time in Swift (`portableScores`): the same bits, for every key count
    /// 1-40 (0-7 keys in the last pass) and head dimensions 8, 64, 128 and 136 (64 and 128 have their
    /// own unrolled kernel copies).
    @Test(.enabled(if: CausalAttention.vectorScores, "the C kernel runs only on CPUs with AVX2 and FMA"),
          arguments: [8, 64, 128, 136])
    func scoreKernelMatchesItsPortableArithmetic(headDimension hd: Int) throws {
        let keyCount = 40
        let q = randomValues(hd, seed: 7, magnitude: 3), k = randomValues(keyCount * hd, seed: 8, magnitude: 1)
        for visible in 1...keyCount {
            var kernel = [Float](repeating: .nan, count: visible), portable = kernel
            q.withUnsafeBufferPointer { q in k.withUnsafeBufferPointer { k in
                tandem_attention_scores(q.baseAddress!, k.baseAddress!, Int64(hd), Int64(visible), 0.125, &kernel)
                CausalAttention.portableScores(q.baseAddress!, k.baseAddress!, hd, visible, 0.125, &portable)
            } }
            let differing = zip(kernel, portable).filter { $0.0.bitPattern != $0.1.bitPattern }.count
            let worst = worstDifference(kernel, portable)
            #expect(differing == 0, "hd \(hd), \(visible) keys: \(differing) scores differ (worst \(worst.value))")
        }
    }
}

#if canImport(Glibc)
import Glibc
private func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#else
import Darwin
private func _exp(_ x: Double) -> Double { Darwin.exp(x) }
#endif
