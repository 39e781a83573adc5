import Foundation
import Testing
import TandemEngine

/// `RotaryTable.rotate` (eight pairs at a time, then a scalar tail) against the rotation written
/// out one pair at a time from the table's own angles, bit for bit: every element is the same
/// multiply, multiply, add, so any head width must give the oracle's bits exactly.
@Suite struct RotaryTableTests {
    // Half widths on both paths: a tail only (1, 3), whole groups of eight (32), groups and a
    // tail (35); positions at the start, in the middle and at the table's end.
    @Test(arguments: [2, 6, 64, 70])
    func rotationMatchesThePairwiseOracle(headDimension: Int) {
        let half = headDimension / 2, maxContext = 300, theta: Float = 10_000
        let table = RotaryTable(headDimension: headDimension, maxContext: maxContext, theta: theta)
        var generator = SeededGenerator(seed: UInt64(headDimension))
        for position in [0, 1, 117, maxContext - 1] {
            let input = (0..<headDimension).map { _ in generator.nextUnitFloat() * 4 - 2 }
            var rotated = input
            rotated.withUnsafeMutableBufferPointer { table.rotate($0.baseAddress!, position: position) }
            var worst: Float = 0, differingBits = 0
            for i in 0..<half {
                // The table's angle, computed as its initializer does (in Double).
                let frequency = Foundation.pow(Double(theta), -2 * Double(i) / Double(headDimension))
                let angle = Double(position) * frequency
                let c = Float(Foundation.cos(angle)), s = Float(Foundation.sin(angle))
                let a = input[i], b = input[i + half]
                let first = a * c - b * s, second = b * c + a * s
                worst = max(worst, abs(rotated[i] - first), abs(rotated[i + half] - second))
                differingBits += (rotated[i].bitPattern != first.bitPattern ? 1 : 0)
                    + (rotated[i + half].bitPattern != second.bitPattern ? 1 : 0)
            }
            let message = "hd \(headDimension), position \(position): \(differingBits) elements differ in their "
                + "bits, worst |difference| \(worst), want identical bits"
            #expect(differingBits == 0, Comment(rawValue: message))
        }
    }
}
