import Foundation

/// How the packed F32 kernel walks its panels for blocks of 1-6 rows. Both loops sum every
/// column over k in the same order, so they give the same bits; only their speed differs, and
/// which is faster depends on where the weights live.
///
/// Measured with `tandem bench --quick --backends packed --skinny-loop cache-resident|streaming` on
/// the AVX-512 EPYC, one thread, two runs of each loop, alternating (the slower loop streams DRAM
/// better; why is not understood). The choice ignores the
/// thread count: at two threads the two loops came out within the run-to-run noise (P150). It
/// also looks at each model alone; a small secondary whose weights a primary's pass evicts still
/// keeps the cache-resident loops (not measured either way).
/// - P150 (154 MB of weights, streamed from DRAM each pass): `streaming` took 5.4-6.1 ms for one
///   token and 5.6-7.0 ms for 3-5, `cacheResident` 6.7-7.6 and 7.2-8.3 ms;
/// - SmolLM2-135M at F32 (540 MB): one token 19.1-19.3 ms and 3 tokens 19.3-20.0 with `streaming`,
///   21.7-21.8 and 25.0-26.2 with `cacheResident`;
/// - s10 (a few MB, resident in L3): one token 0.37-0.39 ms with `streaming`, 0.26-0.27 ms with
///   `cacheResident`, whose loops are as fast as the FMA latency allows.
public enum SkinnyLoop: String, Sendable {
    /// The fastest loop per row count: one or two rows over 4 or 2 panels at once (8 FMA chains),
    /// prefetching the next panels into L1; 3-6 rows in a loop of their own size.
    case cacheResident = "cache-resident"
    /// Every block of 1-6 rows in the 6-row loop over one panel at a time (its spare rows
    /// recompute row 0 and are not stored), prefetching the next panel into L2.
    case streaming

    /// `streaming` when a model's packed weights (`bytes`) exceed the last-level cache, so each
    /// pass reads them from DRAM; `cacheResident` otherwise.
    public static func forWeights(bytes: Int, lastLevelCache: Int = CacheHierarchy.lastLevelBytes) -> SkinnyLoop {
        bytes > lastLevelCache ? .streaming : .cacheResident
    }
}

/// The machine's cache sizes, as Linux reports them in sysfs.
public enum CacheHierarchy {
    /// Bytes of the largest cache level cpu0 sees (32 MB on the EPYC here), or 32 MB when sysfs
    /// has no answer. Read from /sys/devices/system/cpu/cpu0/cache, not sysconf: under this
    /// machine's hypervisor glibc's sysconf reports a 320 MB L3.
    public static let lastLevelBytes: Int = {
        var best = (level: 0, bytes: 32 << 20)
        for index in 0..<8 {
            let directory = "/sys/devices/system/cpu/cpu0/cache/index\(index)/"
            guard let level = read(directory + "level").flatMap({ Int($0) }),
                  let size = read(directory + "size").flatMap(parseSize), level > best.level else { continue }
            best = (level, size)
        }
        return best.bytes
    }()

    private static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// "32768K", "1M" or a plain byte count.
    public static func parseSize(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = text.last, let unit = units[last] { return Int(text.dropLast()).map { $0 * unit } }
        return Int(text)
    }
}
