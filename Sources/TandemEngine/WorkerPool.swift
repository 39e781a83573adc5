import Foundation
import Synchronization

/// Persistent worker threads for splitting one kernel call across cores. Dispatch's
/// `concurrentPerform` wakes threads per call, which costs tens of microseconds on these VMs:
/// a decode step makes about 60 parallel calls, so that overhead ate the second core's gain.
/// Workers here spin briefly on a generation counter (a decode step's calls come microseconds
/// apart), then yield, then block on a condition variable, so an idle pool costs no CPU.
public final class WorkerPool: @unchecked Sendable {
    /// Total threads including the caller's.
    public let threads: Int
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private var task: ((Int) -> Void)?
    private var taskCount = 0
    private let lock = NSLock()
    /// Workers blocked (or about to block) in `sleeping`; `run` wakes them only when non-zero.
    private let sleepers = Atomic<Int>(0)
    private let sleeping = NSCondition()
    /// Threads done with the current call's prologue (`run(_:prologue:_:)`).
    private let arrived = Atomic<Int>(0)
    /// Arrivals at the barriers of the current region (`region`), counted from its start.
    private let regionArrivals = Atomic<Int>(0)

    private static let registry = Mutex<[Int: WorkerPool]>([:])
    /// Each worker's CPU-time clock (for `workerCPUSeconds`), registered as it starts.
    private let workerClocks = Mutex<[clockid_t]>([])

    /// The shared pool with `threads` threads (created on first use, never torn down).
    public static func shared(threads: Int) -> WorkerPool {
        registry.withLock { pools in
            if let pool = pools[threads] { return pool }
            let pool = WorkerPool(threads: threads)
            pools[threads] = pool
            return pool
        }
    }

    private init(threads: Int) {
        self.threads = max(threads, 1)
        for worker in 1..<self.threads {
            let thread = Thread { [unowned self] in self.workerLoop(worker) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs body(i) for i in 0..<count, split over the pool's threads (the caller takes part);
    /// returns when every call has finished. Calls from several threads (tests run engines side
    /// by side) take turns on the pool's lock; a body must not call the same pool again.
    public func run(_ count: Int, _ body: (Int) -> Void) {
        guard threads > 1, count > 1 else {
            for i in 0..<count { body(i) }
            return
        }
        lock.lock()
        defer { lock.unlock() }
        dispatch(count, body)
    }

    // `run` for a caller that holds `lock`
    private func dispatch(_ count: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            task = escapable
            taskCount = count
            pending.store(threads - 1, ordering: .relaxed)
            // Sequentially consistent with the workers' sleepers.add / generation.load: either a
            // worker going to sleep sees the new generation, or this sees the sleeper and wakes it.
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                sleeping.lock()
                sleeping.broadcast()
                sleeping.unlock()
            }
            for i in stride(from: 0, to: count, by: threads) { escapable(i) }
            Self.spin { pending.load(ordering: .acquiring) == 0 }
            task = nil
        }
    }

    /// Runs prologue(t) on every thread t in 0..<threads (the caller is 0), waits until all have
    /// finished it, then body(i) for i in 0..<count as `run` does: one wake-up for both phases, so
    /// work that must precede a product (a norm, the activations' quantization) splits over the
    /// threads for the price of a spin on a counter instead of another call.
    public func run(_ count: Int, prologue: (Int) -> Void, _ body: (Int) -> Void) {
        guard threads > 1 else {
            prologue(0)
            for i in 0..<count { body(i) }
            return
        }
        // Under the lock: resetting the counter while another caller's threads wait on it would
        // leave them spinning forever (tests run engines on several threads of their own).
        lock.lock()
        defer { lock.unlock() }
        arrived.store(0, ordering: .relaxed)
        dispatch(threads) { thread in
            prologue(thread)
            arrived.add(1, ordering: .acquiringAndReleasing)
            Self.spin { arrived.load(ordering: .acquiring) == threads }
            for i in stride(from: thread, to: count, by: threads) { body(i) }
        }
    }

    /// One thread's view of a parallel region: its index, the thread count, and the barrier
    /// every thread of the region must reach the same number of times.
    public struct Region {
        public let thread: Int
        public let threads: Int
        let pool: WorkerPool
        var passed = 0

        /// Returns once every thread of the region has called `barrier` as often as this one:
        /// writes before it (by any thread) are visible to reads after it.
        public mutating func barrier() {
            passed += 1
            guard threads > 1 else { return }
            let target = passed * threads, pool = pool
            pool.regionArrivals.add(1, ordering: .acquiringAndReleasing)
            WorkerPool.spin { pool.regionArrivals.load(ordering: .acquiring) >= target }
        }

        /// This thread's contiguous share of `count` items (`WorkerPool.share`).
        public func share(of count: Int) -> Range<Int> { WorkerPool.share(of: count, part: thread, parts: threads) }
    }

    /// Runs body on every thread of the pool at once (the caller is thread 0) and returns when
    /// all have returned: one wake-up and one join for a whole sequence of phases, which the
    /// body separates with `Region.barrier()` (a spin on one counter) instead of a call each.
    /// Every thread must pass the same number of barriers; a body must not call the pool again.
    public func region(_ body: (inout Region) -> Void) {
        guard threads > 1 else {
            var region = Region(thread: 0, threads: 1, pool: self)
            return body(&region)
        }
        lock.lock()
        defer { lock.unlock() }
        regionArrivals.store(0, ordering: .relaxed)
        dispatch(threads) { thread in
            var region = Region(thread: thread, threads: threads, pool: self)
            body(&region)
        }
    }

    // Waits for `done` on this thread: spins (the other threads' shares end microseconds apart),
    // yielding the core after 20,000 checks.
    @inline(__always)
    private static func spin(until done: () -> Bool) {
        var spins = 0
        while !done() {
            spins += 1
            if spins > 20_000 { sched_yield() }
        }
    }

    /// Part `part` of `count` items cut into `parts` contiguous shares whose sizes differ by at
    /// most one, the larger ones first (a thread's panels of a product, its rows of a prologue):
    /// one item goes to part 0, the calling thread, which then keeps a decode step's row.
    public static func share(of count: Int, part: Int, parts: Int) -> Range<Int> {
        (count * part + parts - 1) / parts ..< (count * (part + 1) + parts - 1) / parts
    }

    /// CPU time the worker threads have used so far (seconds, all workers together): an idle
    /// pool must not add to it.
    public func workerCPUSeconds() -> Double {
        workerClocks.withLock { clocks in
            clocks.reduce(0.0) { total, clock in
                var time = timespec()
                clock_gettime(clock, &time)
                return total + Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
            }
        }
    }

    /// Workers that have started (and registered their clocks).
    public var startedWorkers: Int { workerClocks.withLock { $0.count } }

    private func workerLoop(_ worker: Int) {
        var clock = clockid_t()
        if pthread_getcpuclockid(pthread_self(), &clock) == 0 { workerClocks.withLock { $0.append(clock) } }
        var seen = 0
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            var idleSince: UInt64 = 0
            while current == seen {
                spins += 1
                // Spin (calls within a step come microseconds apart), then yield for up to 2 ms
                // (a drafting phase between the primary's calls), then block.
                if spins == 20_000 { idleSince = DispatchTime.now().uptimeNanoseconds }
                if spins > 20_000 && spins % 64 == 0
                    && DispatchTime.now().uptimeNanoseconds - idleSince > 2_000_000 {
                    sleeping.lock()
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen { sleeping.wait() }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    sleeping.unlock()
                } else if spins > 20_000 {
                    sched_yield()
                }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if let task {
                for i in stride(from: worker, to: taskCount, by: threads) { task(i) }
            }
            pending.subtract(1, ordering: .releasing)
        }
    }
}
