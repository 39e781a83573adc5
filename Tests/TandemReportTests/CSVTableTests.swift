import Testing
import TandemReport

@Suite struct CSVTableTests {
    /// RFC 4180: CRLF line ends, fields with commas, quotes or line breaks quoted, quotes doubled;
    /// the parser reads back exactly what was written.
    @Test func escapesAndRoundTrips() {
        var table = CSVTable(header: ["name", "value", "note"])
        table.append([.string("plain"), .integer(3), .real(0.5)])
        table.append([.string("a,b"), .integer(-1), .string("say \"hi\"\r\nnext line")])
        let text = table.text
        #expect(text.hasPrefix("name,value,note\r\nplain,3,0.5\r\n\"a,b\",-1,\"say \"\"hi\"\"\r\nnext line\"\r\n"),
                "\(text.debugDescription)")
        let parsed = CSVTable.parse(text)
        #expect(parsed == [["name", "value", "note"], ["plain", "3", "0.5"], ["a,b", "-1", "say \"hi\"\r\nnext line"]])
    }

    /// Non-finite reals are written as empty (missing) fields.
    @Test func nonFiniteIsMissing() {
        var table = CSVTable(header: ["x"])
        table.append([.real(.nan)])
        #expect(CSVTable.parse(table.text) == [["x"], [""]])
    }

    @Test func relativePaths() {
        #expect(Gnuplot.relativePath(from: "/a/plots/q", to: "/a/results/q") == "../../results/q")
        #expect(Gnuplot.relativePath(from: "/a/b", to: "/a/b/c") == "c")
    }
}
