#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A read-only memory map of a whole file; unmapped when released.
///
/// Pages are read from disk on first touch, so opening a large model costs nothing until its
/// tensors are read.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let byteCount: Int
    public let bytes: UnsafeRawPointer

    public init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw GGUFError(path: path, message: "cannot be opened (\(Self.reason()))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw GGUFError(path: path, message: "cannot be examined (\(Self.reason()))")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError(path: path, message: "is not a regular file")
        }
        byteCount = Int(status.st_size)
        guard byteCount > 0 else {
            bytes = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64))
            return
        }
        guard let mapped = mmap(nil, byteCount, PROT_READ, MAP_PRIVATE, descriptor, 0), mapped != MAP_FAILED else {
            throw GGUFError(path: path, message: "cannot be memory-mapped (\(Self.reason()))")
        }
        bytes = UnsafeRawPointer(mapped)
    }

    deinit {
        if byteCount > 0 {
            munmap(UnsafeMutableRawPointer(mutating: bytes), byteCount)
        } else {
            UnsafeMutableRawPointer(mutating: bytes).deallocate()
        }
    }

    private static func reason() -> String { String(cString: strerror(errno)) }
}
