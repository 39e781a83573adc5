import Foundation

/// A one-line progress bar on stderr with the estimated time left; silent when stderr is not a
/// terminal except for the final line.
final class ProgressLine {
    let total: Int
    let label: String
    let start = Date()
    let interactive = isatty(STDERR_FILENO) != 0

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    func update(_ done: Int) {
        guard interactive else { return }
        let elapsed = Date().timeIntervalSince(start)
        let left = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let width = 30, filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        printErrorRaw(String(format: "\r%@ [%@] %d/%d, %.0f s left ", label, bar, done, total, left))
    }

    func finish() {
        if interactive { printErrorRaw("\n") }
        printError(String(format: "%@: %d done in %.1f s", label, total, Date().timeIntervalSince(start)))
    }
}

func printErrorRaw(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
