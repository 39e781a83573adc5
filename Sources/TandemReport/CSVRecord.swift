/// A row type of a CSV file, written and read by column name (never by position), so a stage
/// reading another stage's file names what it needs and a reordered or extended file still reads.
public protocol CSVRecord {
    /// The header, in the order `fields` writes.
    static var columns: [String] { get }
    /// The row's values, one per column.
    var fields: [CSVValue] { get }
    /// Reads a row by column name; the error names the file, line, column and expectation.
    init(row: CSVRow) throws
    /// Columns added after files of this type were first written: a header may lack them (the
    /// record then reads them as absent, see `CSVRow.has`). Default: none.
    static var optionalColumns: Set<String> { get }
}

extension CSVRecord {
    public static var optionalColumns: Set<String> { [] }
}

/// A malformed CSV file or field.
public struct CSVFormatError: Error, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: String?
    public var expectation: String

    public init(file: String, line: Int?, column: String?, expectation: String) {
        self.file = file
        self.line = line
        self.column = column
        self.expectation = expectation
    }

    public var description: String {
        var location = file
        if let line { location += ", line \(line)" }
        if let column { location += ", column '\(column)'" }
        return "\(location): \(expectation)"
    }
}

/// One data row with access by column name.
public struct CSVRow {
    public let file: String
    /// 1-based line of the row in its file (the header is line 1).
    public let line: Int
    let fields: [String]
    let index: [String: Int]

    func fail(_ column: String, _ expectation: String) -> CSVFormatError {
        CSVFormatError(file: file, line: line, column: column, expectation: expectation)
    }

    /// Whether the file's header has `column` (for the record's optional columns).
    public func has(_ column: String) -> Bool { index[column] != nil }

    public func string(_ column: String) throws -> String {
        guard let position = index[column] else { throw fail(column, "missing from the header") }
        return fields[position]
    }

    public func integer(_ column: String) throws -> Int {
        let text = try string(column)
        guard let value = Int(text) else { throw fail(column, "an integer, got \"\(text)\"") }
        return value
    }

    public func real(_ column: String) throws -> Double {
        let text = try string(column)
        guard let value = Double(text) else { throw fail(column, "a number, got \"\(text)\"") }
        return value
    }

    /// An empty field reads as nil.
    public func optionalReal(_ column: String) throws -> Double? {
        try string(column).isEmpty ? nil : try real(column)
    }

    public func optionalInteger(_ column: String) throws -> Int? {
        try string(column).isEmpty ? nil : try integer(column)
    }

    /// A list written as "1;2;3" (empty: no elements).
    public func integers(_ column: String) throws -> [Int] {
        let text = try string(column)
        guard !text.isEmpty else { return [] }
        return try text.split(separator: ";", omittingEmptySubsequences: false).map {
            guard let value = Int($0) else { throw fail(column, "integers separated by ';', got \"\(text)\"") }
            return value
        }
    }
}

extension CSVTable {
    /// A table of `records`.
    public init<Record: CSVRecord>(records: [Record]) {
        self.init(header: Record.columns)
        for record in records { append(record.fields) }
    }

    /// Appends one record (its type's columns must be this table's header).
    public mutating func append<Record: CSVRecord>(record: Record) {
        precondition(header == Record.columns, "appending a \(Record.self) to a table of other columns")
        append(record.fields)
    }

    /// Reads every row of `text` as `Record`, by column name: each of its columns must be in
    /// the header (in any order); a row of the wrong length or a bad field is an error naming
    /// `file`, the line and the column.
    public static func records<Record: CSVRecord>(_ type: Record.Type, text: String, file: String) throws -> [Record] {
        let rows = parse(text)
        guard let header = rows.first else {
            throw CSVFormatError(file: file, line: nil, column: nil, expectation: "a header row, got an empty file")
        }
        var index: [String: Int] = [:]
        for (position, name) in header.enumerated() where index[name] == nil { index[name] = position }
        for column in Record.columns where index[column] == nil && !Record.optionalColumns.contains(column) {
            throw CSVFormatError(file: file, line: 1, column: column,
                                 expectation: "a column of \(Record.self), missing from the header")
        }
        return try rows.dropFirst().enumerated().map { offset, fields in
            guard fields.count == header.count else {
                throw CSVFormatError(file: file, line: offset + 2, column: nil,
                                     expectation: "\(header.count) fields like the header, got \(fields.count)")
            }
            return try Record(row: CSVRow(file: file, line: offset + 2, fields: fields, index: index))
        }
    }
}
