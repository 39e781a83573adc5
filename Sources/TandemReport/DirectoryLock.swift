import Foundation
import TandemEngine
#if canImport(Glibc)
import Glibc
#endif

/// Another process holds the directory.
public struct DirectoryBusyError: Error, CustomStringConvertible {
    public var directory: String
    public var holder: String
    public var description: String {
        "\(directory) is in use by another tandem run (\(holder)); two runs writing one results directory "
            + "would interleave their rows: wait for it to finish, or give this run another --results directory"
    }
}

/// An exclusive claim on a directory by one process, held until the lock is released (at
/// deinit): `flock` on DIRECTORY/.lock. The kernel drops the claim when the process ends, even
/// by `kill -9`, so a crashed run never leaves a stale lock behind. The file records the holder
/// (pid, start time, command) for the error the next claimant sees.
public final class DirectoryLock {
    public static let fileName = ".lock"
    public let directory: String
    private let descriptor: Int32

    public init(directory: String, command: String = CommandLine.arguments.joined(separator: " ")) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DurableWriteError(path: directory, reason: "cannot create the directory "
                                    + "(\((error as NSError).localizedDescription))")
        }
        let path = directory + "/" + Self.fileName
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw DurableWriteError(path: path, reason: "cannot create the lock file: \(reason)")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            throw DirectoryBusyError(directory: directory, holder: holder.isEmpty ? "unknown process" : holder)
        }
        self.descriptor = descriptor
        let stamp = ISO8601DateFormatter().string(from: Date())
        let record = Array("pid \(getpid()) since \(stamp): \(command)\n".utf8)
        if ftruncate(descriptor, 0) == 0 {
            _ = record.withUnsafeBytes { pwrite(descriptor, $0.baseAddress!, $0.count, 0) }
        }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
