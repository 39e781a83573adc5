import Foundation
import Synchronization

/// Persistent worker threads for splitting one kernel call across cores. Dispatch's
/// `concurrentPerform` wakes threads per call, which costs tens of microseconds on these VMs:
/// a decode step makes about 60 parallel calls, so that overhead ate the second core's gain.
/// Workers here spin briefly on a generation counter, then yield, then sleep.
public final class WorkerPool: @unchecked Sendable {
    /// Total threads including the caller's.
    public let threads: Int
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private var task: ((Int) -> Void)?
    private var taskCount = 0
    private let lock = NSLock()

    private static let registry = Mutex<[Int: WorkerPool]>([:])

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
    /// returns when every call has finished. Calls must not overlap (one engine at a time).
    public func run(_ count: Int, _ body: (Int) -> Void) {
        guard threads > 1, count > 1 else {
            for i in 0..<count { body(i) }
            return
        }
        lock.lock()
        defer { lock.unlock() }
        withoutActuallyEscaping(body) { escapable in
            task = escapable
            taskCount = count
            pending.store(threads - 1, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            for i in stride(from: 0, to: count, by: threads) { escapable(i) }
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins > 20_000 { sched_yield() }
            }
            task = nil
        }
    }

    private func workerLoop(_ worker: Int) {
        var seen = 0
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                if spins > 200_000 { usleep(50) } else if spins > 20_000 { sched_yield() }
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
