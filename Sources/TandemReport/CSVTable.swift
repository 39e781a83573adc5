import Foundation

/// A table written as RFC 4180 CSV: a header row, CRLF line ends, fields quoted when they hold
/// a comma, quote, CR or LF (quotes doubled). One row type per table.
public struct CSVTable: Sendable {
    public let header: [String]
    public private(set) var rows: [[String]] = []

    public init(header: [String]) { self.header = header }

    /// Appends a row; its length must equal the header's.
    public mutating func append(_ row: [CSVValue]) {
        precondition(row.count == header.count, "row of \(row.count) fields for \(header.count) columns")
        rows.append(row.map(\.text))
    }

    /// Appends a row of already-formatted fields (e.g. read back from a file).
    public mutating func appendRaw(_ row: [String]) {
        precondition(row.count == header.count, "row of \(row.count) fields for \(header.count) columns")
        rows.append(row)
    }

    public var text: String {
        ([header] + rows).map { $0.map(Self.escape).joined(separator: ",") + "\r\n" }.joined()
    }

    static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Parses RFC 4180 text (for tests and for resuming runs).
    public static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false, afterQuote = false
        var iterator = Array(text).makeIterator()
        while let c = iterator.next() {
            if quoted {
                if c == "\"" { quoted = false; afterQuote = true } else { field.append(c) }
                continue
            }
            switch c {
            case "\"": if afterQuote { field.append("\"") }; quoted = true; afterQuote = false
            case ",": row.append(field); field = ""; afterQuote = false
            case "\r\n", "\n", "\r": row.append(field); rows.append(row); row = []; field = ""; afterQuote = false
            default: field.append(c); afterQuote = false
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}

/// A CSV field: text, integers, or reals written with enough digits to round-trip.
public enum CSVValue: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case integer(Int)
    case real(Double)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }

    var text: String {
        switch self {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .real(let x): return x.isFinite ? String(format: "%.6g", x) : ""
        }
    }
}
