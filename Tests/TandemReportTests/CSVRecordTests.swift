import Testing
import TandemReport

/// Typed records are read by column name: a reordered or extended file reads the same, and a
/// missing column or bad field is an error naming the file, line and column.
@Suite struct CSVRecordTests {
    struct Point: CSVRecord, Equatable {
        var name: String
        var count: Int
        var value: Double?
        var list: [Int]
        static let columns = ["name", "count", "value", "list"]
        var fields: [CSVValue] {
            [.string(name), .integer(count), value.map { .real($0) } ?? "",
             .string(list.map(String.init).joined(separator: ";"))]
        }
        init(name: String, count: Int, value: Double?, list: [Int]) {
            (self.name, self.count, self.value, self.list) = (name, count, value, list)
        }
        init(row: CSVRow) throws {
            name = try row.string("name")
            count = try row.integer("count")
            value = try row.optionalReal("value")
            list = try row.integers("list")
        }
    }

    @Test func roundTripAndReorderedColumns() throws {
        let records = [Point(name: "a,b", count: 3, value: 0.5, list: [1, 2]),
                       Point(name: "c", count: -1, value: nil, list: [])]
        let text = CSVTable(records: records).text
        #expect(try CSVTable.records(Point.self, text: text, file: "x.csv") == records)
        let reordered = "extra,list,value,count,name\r\nz,7;8,2.5,4,q\r\n"
        #expect(try CSVTable.records(Point.self, text: reordered, file: "y.csv")
                == [Point(name: "q", count: 4, value: 2.5, list: [7, 8])])
    }

    @Test func errorsNameFileLineAndColumn() {
        func message(_ text: String) -> String {
            do { _ = try CSVTable.records(Point.self, text: text, file: "runs.csv"); return "accepted" } catch {
                return "\(error)"
            }
        }
        #expect(message("name,count,value\r\na,1,2\r\n").contains("column 'list'"))
        #expect(message("name,count,value,list\r\na,x,2,1\r\n")
                == "runs.csv, line 2, column 'count': an integer, got \"x\"")
        #expect(message("name,count,value,list\r\na,1,2\r\n").contains("line 2"))
        #expect(message("name,count,value,list\r\na,1,2,1;q\r\n").contains("column 'list'"))
        #expect(message("").contains("header"))
    }
}
