import Foundation

/// A one-line progress bar on stderr with the estimated time left; when stderr is not a
/// terminal, a plain line at every tenth of the work instead.
final class ProgressLine {
    let total: Int
    let label: String
    let start = Date()
    let interactive = isatty(STDERR_FILENO) != 0

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    private var lastTenth = 0

    func update(_ done: Int) {
        let elapsed = Date().timeIntervalSince(start)
        let left = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        guard interactive else {
            let tenth = total > 0 ? 10 * done / total : 10
            if tenth > lastTenth && done < total {
                lastTenth = tenth
                printError(String(format: "%@: %d/%d, %.0f s elapsed, %.0f s left", label, done, total, elapsed, left))
            }
            return
        }
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
