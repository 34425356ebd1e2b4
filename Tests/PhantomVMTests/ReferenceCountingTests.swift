import Testing
@testable import PhantomVM

/// Deferred reference counting (ReferenceCounting.swift): garbage without
/// cycles is freed between rounds without the tracing collector, nothing a
/// stack still holds is freed, and the counts stay exact — `verifyHeap`
/// recomputes every count from the reference words and compares.
@Suite struct ReferenceCountingTests {
    /// Makes garbage of every common kind `iterations` times: a boxed int, a
    /// string, an array holding both, and a shallow copy (`copy`) of this object (whose
    /// field references a directory, so the copied reference counts).
    func garbageLoop(iterations: Int) throws -> ClassDefinition {
        try bootClass(objectSlots: 1) { w in
            w.emit(.summon_by_name, string: ".internal.directory"); w.op(.new)
            try w.emit(.os_save8, 0)
            try w.emit(.iconst_32bit, Int64(iterations))
            try w.label("loop")
            w.emit(.summon_by_name, string: ".internal.container.array"); w.op(.new)
            w.op(.os_dup)
            w.emit(.sconst_bin, string: "some text")
            w.op(.iconst_0); w.op(.i2o)
            try w.emit(.call_8bit, 11, 2); w.op(.os_drop)       // array[0] = text
            w.op(.os_drop)                                       // the array
            w.op(.summon_this); w.op(.copy)                     // a shallow copy of this
            w.op(.os_drop)
            w.emit(.djnz, to: "loop")
            w.op(.is_drop)
            try w.emit(.os_load8, 0)
            try w.emit(.call_8bit, 11, 0)                        // directory.size(): still a directory
            try w.printTop()
        }
    }

    @Test func countingAloneFreesGarbageWithoutCycles() throws {
        let harness = try VMHarness([try garbageLoop(iterations: 20_000)])
        harness.vm.collectionThreshold = .max   // no tracing at all
        harness.vm.zeroCountThreshold = 512
        var tracingCycles = 0
        harness.vm.onCollection = { _ in tracingCycles += 1 }
        try harness.vm.boot(className: ".test.boot")
        var largest = 0
        var result = VirtualMachine.RoundResult.ran
        while result == .ran {
            result = try harness.vm.runRound(fuel: 997)
            largest = max(largest, harness.vm.objectCount)
        }
        #expect(result == .finished)
        #expect(harness.output == "0")
        #expect(tracingCycles == 0)
        // 20,000 iterations made 100,000 objects; the heap never held more
        // than the live ones plus a table's worth of garbage.
        #expect(harness.vm.reclaimed.freed >= 4 * 20_000, "\(harness.vm.reclaimed)")
        #expect(largest < 5_000, "\(largest) objects at most")
        try harness.vm.verifyHeap()
    }

    @Test func anObjectOnlyAStackHoldsIsNotFreed() throws {
        // An array lives only on the object stack while 2,000 iterations of
        // garbage pass and reclamations run every round; then it is used.
        let harness = try VMHarness([try bootClass { w in
            w.emit(.summon_by_name, string: ".internal.container.array"); w.op(.new)
            w.op(.os_dup)
            w.emit(.sconst_bin, string: "kept")
            try w.emit(.iconst_8bit, 5); w.op(.i2o)
            try w.emit(.call_8bit, 11, 2); w.op(.os_drop)        // array[5] = "kept"
            try w.emit(.iconst_32bit, 2_000)
            try w.label("loop")
            w.emit(.sconst_bin, string: "garbage"); w.op(.os_drop)
            try w.emit(.iconst_8bit, 7); w.op(.i2o); w.op(.os_drop)
            w.emit(.djnz, to: "loop")
            w.op(.is_drop)
            try w.emit(.iconst_8bit, 5); w.op(.i2o)
            try w.emit(.call_8bit, 10, 1)                        // array.get(5)
            try w.printTop()
            w.op(.os_drop)
        }])
        harness.vm.collectionThreshold = .max
        harness.vm.zeroCountThreshold = 1
        try harness.vm.boot(className: ".test.boot")
        var rounds = 0
        while try harness.vm.runRound(fuel: 13) == .ran {
            rounds += 1
            if rounds % 7 == 0 { try harness.vm.verifyHeap() }
        }
        #expect(harness.output == "kept")
        #expect(harness.vm.reclaimed.freed >= 4_000)
        try harness.vm.verifyHeap()
    }

    @Test func countsAndTheTableSurviveRestarts() throws {
        // The persistence programs (counter, deep recursion, rings replaced
        // 2,000 times) with a restart every 50 rounds: after each, the heap
        // check recomputes every count against what the image holds.
        let harness = try VMHarness(try RegressionProgramTests.programs("persistence"))
        try harness.vm.boot(className: ".ru.dz.phantom.system.boot")
        var rounds = 0, restarts = 0
        func configure() {
            harness.vm.collectionThreshold = 256 << 10
            harness.vm.zeroCountThreshold = 64
        }
        configure()
        while true {
            let result = try harness.vm.runRound(fuel: 500)
            if result == .finished { break }
            #expect(result == .ran)
            rounds += 1
            if rounds % 50 == 0 {
                try harness.restart()
                configure()
                restarts += 1
                try harness.vm.verifyHeap()
            }
        }
        #expect(restarts >= 5)
        for done in ["counter done", "recursion done", "rings done"] { #expect(harness.output.contains(done)) }
        #expect(!harness.output.contains("broken"))
        try harness.vm.verifyHeap()
        // What counting left is cycles and what is reachable: tracing frees
        // the rest, and a second collection finds nothing.
        harness.vm.collectGarbage()
        #expect(harness.vm.collectGarbage().freed == 0)
    }

    @Test func aWeakTargetIsLeftToTheTracingCollector() throws {
        let harness = try VMHarness([try bootClass(objectSlots: 1) { w in
            w.emit(.summon_by_name, string: ".internal.weakref"); w.op(.new); w.op(.os_dup)
            w.emit(.sconst_bin, string: "weakly held")
            try w.emit(.call_8bit, 9, 1); w.op(.os_drop)
            try w.emit(.os_save8, 0)
            try w.emit(.os_get32, 0); try w.emit(.call_8bit, 23, 0)
            w.op(.summon_this); try w.emit(.iconst_8bit, 3); w.op(.i2o); try w.emit(.call_8bit, 11, 2); w.op(.os_drop)
        }])
        harness.vm.collectionThreshold = .max
        #expect(try harness.run() == .finished)
        harness.vm.reclaimUnreferenced()
        let environment = harness.vm.heap.ref(harness.vm.heap.root, RootLayout.kernelEnvironment)
        let boot = try #require(harness.vm.heap.arrayElement(environment, 3))
        let weak = harness.vm.heap.ref(boot, 0)
        // Counting did not free it (the check would report a weak reference to a freed block)…
        try harness.vm.verifyHeap()
        #expect(harness.vm.heap.string(ObjectRef(harness.vm.heap.word(weak, 0))) == "weakly held")
        // …tracing does, and clears the weak reference.
        harness.vm.collectGarbage()
        #expect(harness.vm.heap.word(weak, 0) == 0)
        try harness.vm.verifyHeap()
    }

    @Test func aLongChainIsFreedOverSeveralRoundsWithinTheBudget() throws {
        // A chain of 10,000 arrays, each holding the one before, kept in
        // field 0; then field 0 is cleared and the thread computes a while
        // without allocating (the table grows by one entry: the interval
        // makes it due).
        let harness = try VMHarness([try bootClass(objectSlots: 1) { w in
            try w.emit(.iconst_32bit, 10_000)
            try w.label("build")
            w.emit(.summon_by_name, string: ".internal.container.array"); w.op(.new)
            w.op(.os_dup)
            try w.emit(.os_load8, 0)                            // the previous link
            w.op(.iconst_0); w.op(.i2o)
            try w.emit(.call_8bit, 11, 2); w.op(.os_drop)       // array[0] = previous
            try w.emit(.os_save8, 0)                            // field 0 = the newest link
            w.emit(.djnz, to: "build")
            w.op(.is_drop)
            w.op(.summon_null); try w.emit(.os_save8, 0)        // the chain is garbage now
            try w.emit(.iconst_32bit, 100_000)
            try w.label("idle")
            w.emit(.djnz, to: "idle")
            w.op(.is_drop)
        }])
        harness.vm.collectionThreshold = .max
        harness.vm.reclamationBudget = 1_000
        try harness.vm.boot(className: ".test.boot")
        // Rounds that made no object (the idle loop) free at most the budget
        // (the first of them also twice what was made since the reclamation
        // before); the chain goes over many of them.
        var idleBatches: [Int] = []
        var freedBefore = harness.vm.reclaimed.freed, countBefore = harness.vm.objectCount
        while try harness.vm.runRound(fuel: 1_000) == .ran {
            let batch = harness.vm.reclaimed.freed - freedBefore
            let made = harness.vm.objectCount - countBefore + batch
            freedBefore = harness.vm.reclaimed.freed
            countBefore = harness.vm.objectCount
            if made == 0 && batch > 0 { idleBatches.append(batch) }
        }
        try harness.vm.verifyHeap()
        #expect(harness.vm.reclaimed.freed >= 20_000, "\(harness.vm.reclaimed)")
        #expect(idleBatches.dropFirst().allSatisfy { $0 <= 1_000 }, "\(idleBatches)")
        #expect(idleBatches.count >= 15, "\(idleBatches)")
        #expect(harness.vm.objectCount < 1_000, "\(harness.vm.objectCount) objects left")
    }
}
