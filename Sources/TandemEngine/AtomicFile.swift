import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A write that did not happen: names the file and the system's reason (e.g. "No space left on
/// device"); the file at `path`, if it existed, is unchanged.
public struct DurableWriteError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String {
        "cannot write \(path): \(reason); the previous version of the file (if any) is unchanged"
    }
}

/// Writes files so that a reader never sees a half-written one: data goes to a temporary file
/// beside the target, is flushed to disk, then renamed over it (rename is atomic on POSIX), and
/// the directory is flushed so the rename itself survives a crash. A failure at any step (a
/// full disk, a read-only directory) removes the temporary file and throws `DurableWriteError`,
/// leaving the old file as it was.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DurableWriteError(path: path, reason: "its directory \(directory) cannot be created "
                                    + "(\((error as NSError).localizedDescription))")
        }
        let temporary = directory + "/.\(url.lastPathComponent).tmp-\(getpid())"
        func fail(_ step: String) -> DurableWriteError {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return DurableWriteError(path: path, reason: "\(step) failed: \(reason)")
        }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw fail("creating the temporary file \(temporary)") }
        let written = data.withUnsafeBytes { bytes -> Bool in
            var offset = 0
            while offset < bytes.count {
                let count = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += count
            }
            return true
        }
        guard written, fsync(descriptor) == 0 else {
            let error = fail("writing")
            close(descriptor)
            throw error
        }
        guard close(descriptor) == 0 else { throw fail("closing") }
        guard rename(temporary, path) == 0 else { throw fail("renaming \(temporary) over it") }
        // The rename is durable once the directory entry is on disk.
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}
