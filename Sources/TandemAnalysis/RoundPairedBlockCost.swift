/// One block size's cost against one token's and against the roofline, from rounds in which
/// every block size and the machine's limits were measured seconds apart (`tandem bench`).
///
/// Ratios are taken within each round, then summarized: on this machine the two-thread DRAM
/// bandwidth moves between states (30-46 GB/s) from one round to the next, and a ratio of two
/// medians can then divide a fast-state T(n) by a slow-state T(1). In three consecutive runs of
/// `tandem bench --threads 2` the ratio of medians put the worst block at 1.27, 1.94 and 1.39x
/// its roofline ratio while the runs' decode steps took 5.5, 3.8 and 5.3 ms.
public struct RoundPairedBlockCost: Equatable, Sendable {
    /// Median over rounds of T(n) / T(1) measured in the same round.
    public let ratioToOneToken: Double
    /// Median over rounds of the roofline's T(n) / T(1) at that round's measured limits.
    public let rooflineRatio: Double
    /// Median over rounds of (T(n) / T(1)) / (roofline T(n) / T(1)), each from one round: how much
    /// more a block costs than the machine's limits say it must, relative to one token.
    public let ratioOverRoofline: Double
    /// Its 10th and 90th percentiles over the rounds.
    public let ratioOverRooflineP10: Double, ratioOverRooflineP90: Double
    /// Median over rounds of roofline T(n) / measured T(n) (1 = at the roofline).
    public let efficiency: Double

    /// Block size n's summary from per-round times: `times[r]` and `oneToken[r]` are round r's
    /// block and one-token times, `rooflineTimes[r]` and `rooflineOneToken[r]` the roofline's at
    /// round r's limits (same units within each pair). All four have one entry per round.
    public init(times: [Double], oneToken: [Double], rooflineTimes: [Double], rooflineOneToken: [Double]) {
        let rounds = times.count
        precondition(rounds > 0 && oneToken.count == rounds && rooflineTimes.count == rounds
                     && rooflineOneToken.count == rounds,
                     "per-round series of unequal length: \(rounds), \(oneToken.count), "
                     + "\(rooflineTimes.count), \(rooflineOneToken.count)")
        let ratios = (0..<rounds).map { times[$0] / oneToken[$0] }
        let rooflineRatios = (0..<rounds).map { rooflineTimes[$0] / rooflineOneToken[$0] }
        let over = Statistics.summarize((0..<rounds).map { ratios[$0] / rooflineRatios[$0] })
        ratioToOneToken = Statistics.summarize(ratios).median
        rooflineRatio = Statistics.summarize(rooflineRatios).median
        ratioOverRoofline = over.median
        ratioOverRooflineP10 = over.percentile10
        ratioOverRooflineP90 = over.percentile90
        efficiency = Statistics.summarize((0..<rounds).map { rooflineTimes[$0] / times[$0] }).median
    }
}
