import Testing
import TandemHarness
import TandemReport

/// sweep_runs.csv rows round-trip through `SweepRun` by column name, including the in-run draft
/// step costs and phase times; a file written before those columns existed still reads, with
/// them empty. Reference: the fields written; tolerance: exact (integers).
@Suite struct SweepRunRecordTests {
    static let header = SweepRun.columns.joined(separator: ",")

    // One row of values, by column name (lists `;`-separated, as the writer spells them).
    static func row(_ values: [String: String], dropping dropped: Set<String> = []) -> String {
        let columns = SweepRun.columns.filter { !dropped.contains($0) }
        return columns.joined(separator: ",") + "\r\n" + columns.map { values[$0] ?? "0" }.joined(separator: ",")
            + "\r\n"
    }

    static let values: [String: String] = [
        "strategy": "tandem-speed", "policy": "fixed", "secondary": "s10", "gamma": "4", "alpha": "0.8",
        "context": "64", "threads": "1", "repeat": "2", "tokens": "96", "baseline_ns": "500000000",
        "strategy_ns": "250000000", "baseline_first": "1", "rounds": "30", "drafted": "120", "accepted": "70",
        "drafted_by_position": "30;30;30;30", "judged_by_position": "30;24;19;15",
        "accepted_by_position": "24;19;15;12", "full_round_histogram": "6;5;4;3;12",
        "draft_length_histogram": "0;0;0;0;30", "draft_step_mean_ns_by_position": "700000;360000;290000;265000",
        "verify_ns": "180000000", "draft_ns": "60000000", "local_primary_one_ns": "5500000",
        "local_block_ratio": "1.25", "local_secondary_cold_ns": "680000", "local_secondary_warm_ns": "450000",
    ]

    @Test func roundTripsByColumnName() throws {
        let runs = try CSVTable.records(SweepRun.self, text: Self.row(Self.values), file: "sweep_runs.csv")
        try #require(runs.count == 1)
        let run = runs[0]
        #expect(run.draftStepMeanNanoseconds == [700_000, 360_000, 290_000, 265_000],
                "draft steps read \(run.draftStepMeanNanoseconds)")
        #expect(run.verifyNanoseconds == 180_000_000 && run.draftNanoseconds == 60_000_000)
        let written = CSVTable(records: runs).text
        let again = try CSVTable.records(SweepRun.self, text: written, file: "again.csv")
        #expect(CSVTable(records: again).text == written, "written and read back differ")
    }

    @Test func olderFileWithoutTheNewColumnsReads() throws {
        let text = Self.row(Self.values, dropping: ["draft_step_mean_ns_by_position", "verify_ns", "draft_ns"])
        let run = try #require(try CSVTable.records(SweepRun.self, text: text, file: "old.csv").first)
        #expect(run.draftStepMeanNanoseconds.isEmpty && run.verifyNanoseconds == 0 && run.draftNanoseconds == 0)
        #expect(run.rounds == 30 && run.draftedByPosition == [30, 30, 30, 30])
    }
}
