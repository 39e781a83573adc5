/// Characters TOML 1.0 forbids, found before TOMLKit parses the text.
///
/// TOMLKit's parser (toml++ 3, compiled with its assertions on) aborts the whole process on some
/// malformed input instead of reporting it: control characters, and non-ASCII characters where
/// a key starts (`make fuzz` found both; the inputs are in Tests/Fuzz/regressions/scenario).
/// It also aborts on a table header whose first character cannot start a key (e.g. `[=x]`), and
/// on a `}` where an array expects a value (`[1, }]`).
/// TOML 1.0 allows neither: bare keys are ASCII letters, digits, `_` and `-`; other characters
/// live only in strings and comments; control characters other than tab are never allowed raw
/// (CR only before LF; LF only as a line end or in a multi-line string). So a scan that tracks
/// strings and comments can refuse those inputs with a clear error, and TOMLKit never sees them.
enum TOMLPreflight {
    private enum State { case code, comment, basic, literal, multilineBasic, multilineLiteral }

    static func check(_ text: String, file: String) throws {
        let scalars = Array(text.unicodeScalars)
        var state = State.code, line = 1, column = 1, index = 0
        // Open brackets, innermost last: true for an array (a value list), false for a header or
        // an inline table; whether the innermost array expects a value next; and whether only
        // blanks precede on the line (a `[` outside any bracket that starts its line opens a
        // table header).
        var open: [Bool] = [], expectsValue = false, atLineStart = true
        func fail(_ what: String, _ value: UInt32, _ why: String) -> ScenarioError {
            ScenarioError(file: file, key: "", expectation: String(format: "not valid TOML: %@ U+%04X at line %d, "
                                                                   + "column %d (%@)", what, value, line, column, why))
        }
        func starts(with quote: String) -> Bool {
            let quoteScalars = Array(quote.unicodeScalars)
            return index + quoteScalars.count <= scalars.count
                && Array(scalars[index..<(index + quoteScalars.count)]) == quoteScalars
        }
        while index < scalars.count {
            let scalar = scalars[index], value = scalar.value
            var width = 1
            let lineBreak = value == 0x0A || (value == 0x0D && index + 1 < scalars.count && scalars[index + 1] == "\n")
            if (value < 0x20 || value == 0x7F) && value != 0x09 && !lineBreak {
                throw fail("control character", value,
                           "TOML allows only tab and line breaks; escape it inside a string")
            }
            switch state {
            case .code:
                let blank = scalar == " " || scalar == "\t" || lineBreak || value == 0x0D
                if expectsValue && !blank && scalar != "#" {
                    if scalar == "}" { throw fail("array value starting with", value, "expected a value or ']'") }
                    expectsValue = false
                }
                if scalar == "[" && open.isEmpty && atLineStart {
                    // A table header `[key]` or `[[key]]`.
                    var next = index + 1
                    open.append(false)
                    if next < scalars.count && scalars[next] == "[" { next += 1; width = 2; open.append(false) }
                    while next < scalars.count && (scalars[next] == " " || scalars[next] == "\t") { next += 1 }
                    if next < scalars.count, !Self.startsKey(scalars[next]) && scalars[next] != "]" {
                        throw fail("table header starting with", scalars[next].value,
                                   "a key must follow '[': letters, digits, '_', '-' or a quote")
                    }
                } else if scalar == "[" || scalar == "{" {
                    open.append(scalar == "[")
                    expectsValue = scalar == "["
                } else if scalar == "]" || scalar == "}" {
                    _ = open.popLast()
                } else if scalar == ",", open.last == true {
                    expectsValue = true
                }
                if scalar != " " && scalar != "\t" && !lineBreak { atLineStart = false }
                if scalar == "#" {
                    state = .comment
                } else if starts(with: "\"\"\"") {
                    state = .multilineBasic; width = 3
                } else if starts(with: "'''") {
                    state = .multilineLiteral; width = 3
                } else if scalar == "\"" {
                    state = .basic
                } else if scalar == "'" {
                    state = .literal
                } else if value > 0x7F {
                    throw fail("character", value, "outside a string or comment; bare keys and values are ASCII: "
                               + "quote it")
                }
            case .comment:
                if lineBreak { state = .code }
            case .basic:
                if scalar == "\\" { width = 2 } else if scalar == "\"" || lineBreak { state = .code }
            case .literal:
                if scalar == "'" || lineBreak { state = .code }
            case .multilineBasic:
                if scalar == "\\" { width = 2 } else if starts(with: "\"\"\"") { state = .code; width = 3 }
            case .multilineLiteral:
                if starts(with: "'''") { state = .code; width = 3 }
            }
            for consumed in scalars[index..<min(index + width, scalars.count)] {
                if consumed == "\n" { line += 1; column = 1; atLineStart = true } else { column += 1 }
            }
            index += width
        }
    }

    private static func startsKey(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_"
                           || scalar == "-" || scalar == "\"" || scalar == "'")
    }
}
