#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Allocation of large weight arrays on transparent huge pages where the kernel offers them
/// (`madvise` mode): a 540 MB model then costs about a thousand page faults instead of
/// 130,000, which on a virtual machine is seconds of system time at load.
public enum HugePages {
    static let pageBytes = 2 << 20

    /// `byteCount` bytes aligned to 64 (to 2 MB when at least 2 MB), zero-filled. Free with `free`.
    public static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let bytes = max(byteCount, 1)
        let alignment = bytes >= pageBytes ? pageBytes : 64
        let rounded = (bytes + alignment - 1) / alignment * alignment
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, alignment, rounded) == 0, let raw else {
            preconditionFailure("out of memory allocating \(rounded) bytes")
        }
        #if os(Linux)
        if alignment == pageBytes { _ = madvise(raw, rounded, 14) } // MADV_HUGEPAGE
        #endif
        memset(raw, 0, rounded)
        return raw
    }

    public static func free(_ pointer: UnsafeMutableRawPointer) { Glibc.free(pointer) }
}
