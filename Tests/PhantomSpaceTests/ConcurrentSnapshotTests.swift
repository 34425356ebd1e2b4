import Foundation
import Synchronization
import Testing
@testable import PhantomSpace
@testable import PhantomStore

/// Snapshots requested from many threads at once: they start one at a time,
/// in order; no captured page and no completion is lost; every request
/// commits its own generation.
@Suite struct ConcurrentSnapshotTests {
    @Test func manyThreadsSnapshotAtOnce() throws {
        let device = MemoryBlockDevice()
        let space = try freshSpace(device)

        // A registered mutator keeps writing one value to 16 pages meanwhile.
        let stop = Stop()
        let mutatorDone = DispatchSemaphore(value: 0)
        let lastValue = Atomic<UInt64>(0)
        Thread {
            space.safepoints.register()
            var value: UInt64 = 0
            while !stop.isSet {
                value += 1
                for page in 0..<16 { space.store(value, at: UInt64(100 + page) * 4096) }
                lastValue.store(value, ordering: .relaxed)
                space.safepoints.poll()
            }
            space.safepoints.unregister()
            mutatorDone.signal()
        }.start()

        let rounds = 6
        let perRound = 16
        let completions = Mutex<[Int: Int]>([:])
        let generations = Mutex<[UInt64]>([])
        let failures = Mutex<[String]>([])
        let pending = DispatchGroup()
        for round in 0..<rounds {
            // Pages only this round writes, before its snapshot storm.
            for page in 0..<8 { space.store(UInt64(round + 1), at: UInt64(1 + round * 8 + page) * 4096) }
            DispatchQueue.concurrentPerform(iterations: perRound) { index in
                let request = round * perRound + index
                if index % 2 == 0 {
                    do {
                        let result = try space.snapshot()
                        completions.withLock { $0[request, default: 0] += 1 }
                        generations.withLock { $0.append(result.generation.generation) }
                    } catch {
                        failures.withLock { $0.append("request \(request): \(error)") }
                    }
                } else {
                    pending.enter()
                    space.snapshotInBackground { result in
                        completions.withLock { $0[request, default: 0] += 1 }
                        switch result {
                        case let .success(snapshot): generations.withLock { $0.append(snapshot.generation.generation) }
                        case let .failure(error): failures.withLock { $0.append("request \(request): \(error)") }
                        }
                        pending.leave()
                    }
                }
            }
        }
        // Bounded, so that a lost completion fails the test instead of hanging it.
        let allCompleted = pending.wait(timeout: .now() + 120) == .success
        #expect(allCompleted, "a background completion was never called")
        stop.set()
        mutatorDone.wait()
        let final = try space.snapshot()

        let requests = rounds * perRound
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let counts = completions.withLock { $0 }
        #expect(counts.count == requests && counts.values.allSatisfy { $0 == 1 }, "every completion exactly once")
        let committed = generations.withLock { $0 }.sorted()
        #expect(committed == Array(1...UInt64(requests)), "one generation per request, none lost or shared")
        #expect(final.generation.generation == UInt64(requests + 1))

        // Every page committed: the rounds' pages and the mutator's last value.
        let reopened = try reopen(device)
        for round in 0..<rounds {
            for page in 0..<8 {
                #expect(reopened.load(UInt64.self, at: UInt64(1 + round * 8 + page) * 4096) == UInt64(round + 1))
            }
        }
        let last = lastValue.load(ordering: .relaxed)
        for page in 0..<16 { #expect(reopened.load(UInt64.self, at: UInt64(100 + page) * 4096) == last) }
        #expect(try Store.open(device).verify().isClean)
    }

    /// Waiters enter in the order they arrived.
    @Test func gateAdmitsInArrivalOrder() throws {
        let gate = FIFOGate()
        let order = Mutex<[Int]>([])
        let done = DispatchGroup()
        gate.enter()
        for index in 0..<6 {
            done.enter()
            Thread {
                gate.enter()
                order.withLock { $0.append(index) }
                gate.leave()
                done.leave()
            }.start()
            // Wait (bounded) until this thread is queued before starting the next.
            let deadline = Date().addingTimeInterval(10)
            while gate.waiting < index + 1 && Date() < deadline { usleep(100) }
            #expect(gate.waiting == index + 1)
        }
        gate.leave()
        done.wait()
        #expect(order.withLock { $0 } == Array(0..<6))
    }

    /// The space, once released, lets go of its image: reopening at once works.
    @Test func releasingTheSpaceReleasesTheImageLock() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("release-\(UUID()).img").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        for round in 0..<5 {
            let store = try ImageFile.openOrCreate(path, unfinished: .refuse).store
            let space = try ObjectSpace(store: store, options: .init(limitBytes: 1 << 30))
            space.store(UInt64(round), at: 4096)
            try space.snapshot()
            space.snapshotInBackground { _ in }
        }
        let store = try ImageFile.openForReading(path)
        #expect(store.current.generation == 10)
    }
}
