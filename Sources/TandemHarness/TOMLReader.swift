import TOMLKit

/// A scenario file that cannot be used: names the file, the key and what was expected.
public struct ScenarioError: Error, CustomStringConvertible {
    public var file: String
    public var key: String
    public var expectation: String
    public var description: String { "\(file): \(key.isEmpty ? "" : "key '\(key)': ")\(expectation)" }
}

/// Typed, path-aware access to one TOML table: every read names its full key path in errors,
/// and `finish()` rejects the keys nobody read (typos, unsupported settings).
final class TOMLReader {
    let file: String
    let path: String
    let table: TOMLTable
    private var known: Set<String> = []

    init(file: String, path: String, table: TOMLTable) {
        self.file = file
        self.path = path
        self.table = table
    }

    func key(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    func fail(_ name: String, _ expectation: String) -> ScenarioError {
        ScenarioError(file: file, key: key(name), expectation: expectation)
    }

    private func value(_ name: String) -> TOMLValueConvertible? {
        known.insert(name)
        return table[name]
    }

    private func describe(_ value: TOMLValueConvertible) -> String {
        switch value.type {
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .bool: return "a boolean"
        case .array: return "an array"
        case .table: return "a table"
        default: return "a date or time"
        }
    }

    func has(_ name: String) -> Bool { known.insert(name); return table[name] != nil }

    func string(_ name: String) throws -> String? {
        guard let v = value(name) else { return nil }
        guard let s = v.string else { throw fail(name, "expected a string, got \(describe(v))") }
        return s
    }

    func integer(_ name: String, range: ClosedRange<Int>? = nil) throws -> Int? {
        guard let v = value(name) else { return nil }
        guard let i = v.int else { throw fail(name, "expected an integer, got \(describe(v))") }
        if let range, !range.contains(i) {
            throw fail(name, "expected an integer in \(range.lowerBound)...\(range.upperBound), got \(i)")
        }
        return i
    }

    func number(_ name: String, range: ClosedRange<Double>? = nil) throws -> Double? {
        guard let v = value(name) else { return nil }
        guard let x = v.double ?? v.int.map(Double.init) else {
            throw fail(name, "expected a number, got \(describe(v))")
        }
        if let range, !range.contains(x) {
            throw fail(name, "expected a number in [\(range.lowerBound), \(range.upperBound)], got \(x)")
        }
        return x
    }

    func bool(_ name: String) throws -> Bool? {
        guard let v = value(name) else { return nil }
        guard let b = v.bool else { throw fail(name, "expected true or false, got \(describe(v))") }
        return b
    }

    /// A non-empty array whose elements `element` converts (it returns nil for a wrong type).
    func array<T>(_ name: String, of kind: String, _ element: (TOMLValueConvertible) -> T?) throws -> [T]? {
        guard let v = value(name) else { return nil }
        guard let array = v.array else { throw fail(name, "expected an array of \(kind), got \(describe(v))") }
        guard array.count > 0 else { throw fail(name, "must not be empty") }
        return try array.enumerated().map { index, item in
            guard let converted = element(item) else {
                throw ScenarioError(file: file, key: "\(key(name))[\(index)]",
                                    expectation: "expected \(kind), got \(describe(item))")
            }
            return converted
        }
    }

    func integers(_ name: String, range: ClosedRange<Int>) throws -> [Int]? {
        guard let values = try array(name, of: "integers", { $0.int }) else { return nil }
        for (index, value) in values.enumerated() where !range.contains(value) {
            throw ScenarioError(file: file, key: "\(key(name))[\(index)]",
                                expectation: "expected an integer in \(range.lowerBound)...\(range.upperBound), "
                                + "got \(value)")
        }
        return values
    }

    func numbers(_ name: String, range: ClosedRange<Double>) throws -> [Double]? {
        guard let values = try array(name, of: "numbers", { $0.double ?? $0.int.map(Double.init) }) else { return nil }
        for (index, value) in values.enumerated() where !range.contains(value) {
            throw ScenarioError(file: file, key: "\(key(name))[\(index)]",
                                expectation: "expected a number in [\(range.lowerBound), \(range.upperBound)], "
                                + "got \(value)")
        }
        return values
    }

    func strings(_ name: String) throws -> [String]? { try array(name, of: "strings", { $0.string }) }

    func table(_ name: String) throws -> TOMLReader? {
        guard let v = value(name) else { return nil }
        guard let t = v.table else { throw fail(name, "expected a table, got \(describe(v))") }
        return TOMLReader(file: file, path: key(name), table: t)
    }

    /// One of `choices`, by raw value.
    func choice<T: RawRepresentable & CaseIterable>(_ name: String, _: T.Type) throws -> T? where T.RawValue == String {
        guard let text = try string(name) else { return nil }
        guard let value = T(rawValue: text) else {
            let choices = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw fail(name, "expected one of \(choices), got \"\(text)\"")
        }
        return value
    }

    /// Rejects keys that were never read.
    func finish() throws {
        if let unknown = table.keys.sorted().first(where: { !known.contains($0) }) {
            throw ScenarioError(file: file, key: key(unknown),
                                expectation: "unknown key (known here: \(known.sorted().joined(separator: ", ")))")
        }
    }
}
