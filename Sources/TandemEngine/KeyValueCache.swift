/// Keys and values of past positions, per layer and KV head. Swappable (a paged or quantized
/// cache would conform), so decoding strategies depend only on this contract.
public protocol KeyValueCache: AnyObject {
    /// Number of positions held; the next block is written at `length`.
    var length: Int { get }
    /// Positions the cache can hold.
    var capacity: Int { get }
    /// Keys of `layer`, `head`: [capacity][headDimension], valid up to `length`.
    func keys(layer: Int, head: Int) -> UnsafeMutablePointer<Float>
    /// Values of `layer`, `head`: [capacity][headDimension], valid up to `length`.
    func values(layer: Int, head: Int) -> UnsafeMutablePointer<Float>
    /// Marks `count` more positions as written (after a forward pass filled them).
    func extend(by count: Int)
    /// Forgets every position at or after `length` (rollback); `length` must not grow.
    func truncate(to length: Int)
}

/// A cache in one contiguous allocation, [layer][key|value][head][capacity][headDimension].
public final class ContiguousKeyValueCache: KeyValueCache, @unchecked Sendable {
    public private(set) var length = 0
    public let capacity: Int
    let layers: Int, heads: Int, headDimension: Int
    private let storage: UnsafeMutablePointer<Float>

    public init(config: ModelConfig, capacity: Int? = nil) {
        self.capacity = capacity ?? config.maxContext
        layers = config.layerCount
        heads = config.keyValueHeadCount
        headDimension = config.headDimension
        let count = layers * 2 * heads * self.capacity * headDimension
        // 64-byte aligned (malloc's 16 split every other 32-byte load of attention over a cache
        // line: its value sum ran 1.45x slower in a throwaway C harness), on huge pages when large.
        storage = HugePages.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride)
            .bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { HugePages.free(storage) }

    @inline(__always)
    private func slab(_ layer: Int, _ kind: Int, _ head: Int) -> UnsafeMutablePointer<Float> {
        storage + ((layer * 2 + kind) * heads + head) * capacity * headDimension
    }

    public func keys(layer: Int, head: Int) -> UnsafeMutablePointer<Float> { slab(layer, 0, head) }
    public func values(layer: Int, head: Int) -> UnsafeMutablePointer<Float> { slab(layer, 1, head) }

    public func extend(by count: Int) {
        precondition(length + count <= capacity, "KV cache overflow: \(length) + \(count) > \(capacity)")
        length += count
    }

    public func truncate(to newLength: Int) {
        precondition(newLength >= 0 && newLength <= length, "truncate(to: \(newLength)) with length \(length)")
        length = newLength
    }
}
