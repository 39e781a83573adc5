import Foundation
import Testing
import TandemEngine

/// The persistent worker pool: every index runs exactly once per call, also when the workers
/// had gone to sleep between calls, a prologue phase ends everywhere before the bodies start,
/// and an idle pool does not burn CPU.
@Suite(.serialized) struct WorkerPoolTests {
    /// Reference: a per-index counter; each call must leave every index at exactly one.
    @Test func everyIndexOnceAcrossSleeps() {
        let pool = WorkerPool.shared(threads: 3)
        for round in 0..<40 {
            let count = 1 + (round * 7) % 23
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
            hits.initialize(repeating: 0, count: count)
            defer { hits.deallocate() }
            pool.run(count) { hits[$0] += 1 }
            let counts = Array(UnsafeBufferPointer(start: hits, count: count))
            #expect(counts.allSatisfy { $0 == 1 }, "round \(round): per-index calls \(counts)")
            // Every fifth round the workers get time to fall asleep; the next call must wake them.
            if round % 5 == 4 { usleep(30_000) }
        }
    }

    /// The prologue phase ends on every thread before any body starts (a product reads the rows
    /// another thread's prologue wrote), and every body index still runs exactly once. The
    /// worker's prologue is made slow, so a missing barrier lets the caller's bodies run early.
    @Test func prologueFinishesBeforeAnyBody() {
        let pool = WorkerPool.shared(threads: 3)
        for round in 0..<20 {
            let count = 1 + round % 7
            let done = UnsafeMutablePointer<Int>.allocate(capacity: 3)
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
            done.initialize(repeating: 0, count: 3)
            hits.initialize(repeating: 0, count: count)
            defer { done.deallocate(); hits.deallocate() }
            let early = UnsafeMutablePointer<Int>.allocate(capacity: count)
            early.initialize(repeating: 0, count: count)
            defer { early.deallocate() }
            pool.run(count, prologue: { thread in
                if thread == 2 { usleep(2_000) }
                done[thread] = 1
            }) { i in
                hits[i] += 1
                if done[0] + done[1] + done[2] != 3 { early[i] = 1 }
            }
            let counts = Array(UnsafeBufferPointer(start: hits, count: count))
            let started = Array(UnsafeBufferPointer(start: early, count: count)).reduce(0, +)
            #expect(counts.allSatisfy { $0 == 1 }, "round \(round): per-index calls \(counts)")
            #expect(started == 0, "round \(round): \(started) bodies started before every prologue ended")
        }
    }

    /// Phased calls from two threads at once on one pool (tests run engines concurrently) all
    /// finish: the barrier's counter is reset under the pool's lock. Reset outside it, one caller
    /// zeroed the other's count and left its threads spinning forever (seen as a hung test run).
    @Test func concurrentPhasedCallsFinish() {
        // A pool of its own (5 threads): if this hangs, it must not take the other tests' pool along.
        let pool = WorkerPool.shared(threads: 5)
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<2 {
            Thread {
                for round in 0..<300 { pool.run(1 + round % 5, prologue: { _ in }) { _ in } }
                done.signal()
            }.start()
        }
        let finished = (0..<2).map { _ in done.wait(timeout: .now() + 20) == .success }
        #expect(finished.allSatisfy { $0 }, "phased calls from two threads still running after 20 s")
    }

    /// A region runs its body once on every thread, and a barrier separates phases: after it,
    /// every thread sees what every other wrote before it. Each thread writes its own slot of a
    /// phase, then (after the barrier) checks every slot of that phase; one thread is slowed so
    /// a barrier that lets threads through early is caught. Reference: the slot values written.
    @Test func regionBarriersSeparatePhases() {
        let pool = WorkerPool.shared(threads: 3), phases = 50
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: phases * 3)
        slots.initialize(repeating: -1, count: phases * 3)
        let stale = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        let runs = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        stale.initialize(repeating: 0, count: 3)
        runs.initialize(repeating: 0, count: 3)
        defer { slots.deallocate(); stale.deallocate(); runs.deallocate() }
        pool.region { region in
            runs[region.thread] += 1
            for phase in 0..<phases {
                if region.thread == phase % 3 { usleep(200) }
                slots[phase * 3 + region.thread] = phase
                region.barrier()
                for other in 0..<3 where slots[phase * 3 + other] != phase { stale[region.thread] += 1 }
            }
        }
        let staleReads = Array(UnsafeBufferPointer(start: stale, count: 3))
        #expect(Array(UnsafeBufferPointer(start: runs, count: 3)) == [1, 1, 1], "each thread runs the body once")
        #expect(staleReads == [0, 0, 0], "reads after a barrier that missed another thread's write: \(staleReads)")
    }

    /// Idle workers block instead of polling: over 400 ms of idleness (after the spin phase,
    /// which lasts a few ms), the two workers together may use at most 8 ms of CPU (1% of their
    /// time). A pool that polls with usleep(50) uses several times that on these machines.
    @Test func idleWorkersUseNoCPU() throws {
        let pool = WorkerPool.shared(threads: 3)
        pool.run(64) { _ in }
        for _ in 0..<100 where pool.startedWorkers < 2 { usleep(1_000) }
        try #require(pool.startedWorkers == 2, "the pool's workers did not start")
        usleep(100_000)
        let before = pool.workerCPUSeconds()
        usleep(400_000)
        let used = pool.workerCPUSeconds() - before
        #expect(used <= 0.008, "idle workers used \(used * 1e3) ms of CPU in 400 ms (bound 8 ms)")
    }
}
