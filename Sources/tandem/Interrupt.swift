import ArgumentParser
import Foundation
import TandemHarness

/// SIGINT / SIGTERM turn into a flag that long loops poll, so they stop at a safe point with
/// their work saved instead of dying mid-write. A second signal exits at once.
enum Interrupt {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    static var requested: Bool { flag != 0 }

    static func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { _ in
                if Interrupt.flag != 0 { _exit(130) }
                Interrupt.flag = 1
            }
        }
    }
}

/// Runs a stage that polls `Interrupt.requested`; a stop it reports exits with status 130
/// (128 + SIGINT, as shells expect) after saying how to resume.
@discardableResult
func runInterruptible<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch where error is TrainingInterrupted || error is RunInterrupted {
        printError("Stopped: \(error)")
        throw ExitCode(130)
    }
}
