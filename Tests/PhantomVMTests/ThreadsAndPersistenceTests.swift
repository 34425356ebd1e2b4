import Testing
import PhantomSpace
import PhantomStore
@testable import PhantomVM

@Suite struct ThreadsAndPersistenceTests {
    /// `.test.box`: field 0 mutex, 1 cond, 2 value, 3 the boot object.
    static func box() throws -> ClassDefinition {
        ClassDefinition(name: ".test.box", objectSlotCount: 4, methods: [
            try method("init", 18) { w in
                try w.emit(.arg_count, 1)
                try w.emit(.os_get32, 0); try w.emit(.os_save8, 3)
                w.emit(.summon_by_name, string: ".internal.mutex"); w.op(.new); try w.emit(.os_save8, 0)
                w.emit(.summon_by_name, string: ".internal.cond"); w.op(.new); try w.emit(.os_save8, 1)
                w.op(.summon_null); w.op(.ret)
            },
            // consume(name): lock; while value == null: cond.wait(mutex); print name + " got " + value; unlock
            try method("consume", 16) { w in
                try w.emit(.arg_count, 1)
                try w.emit(.os_load8, 0); try w.emit(.call_8bit, 8, 0); w.op(.os_drop)
                try w.label("check")
                try w.emit(.os_load8, 2); w.op(.os_isnull); w.emit(.jz, to: "ready")
                try w.emit(.os_load8, 1); try w.emit(.os_load8, 0); try w.emit(.call_8bit, 8, 1); w.op(.os_drop)
                w.emit(.jmp, to: "check")
                try w.label("ready")
                try w.emit(.os_load8, 3)
                try w.emit(.os_get32, 0); w.emit(.sconst_bin, string: " got "); try w.emit(.call_8bit, 10, 1)
                try w.emit(.os_load8, 2); try w.emit(.call_8bit, 10, 1)
                w.emit(.sconst_bin, string: "\n"); try w.emit(.call_8bit, 10, 1)
                try w.emit(.call_8bit, 16, 1); w.op(.os_drop)
                try w.emit(.os_load8, 0); try w.emit(.call_8bit, 9, 0); w.op(.os_drop)
                w.op(.summon_null); w.op(.ret)
            },
            // produce(value): sleep 10 ms; lock; value = v; broadcast; unlock
            try method("produce", 17) { w in
                try w.emit(.arg_count, 1)
                try w.emit(.os_load8, 3); try w.emit(.iconst_8bit, 10); w.op(.i2o); try w.emit(.call_8bit, 21, 1); w.op(.os_drop)
                try w.emit(.os_load8, 0); try w.emit(.call_8bit, 8, 0); w.op(.os_drop)
                try w.emit(.os_get32, 0); try w.emit(.os_save8, 2)
                try w.emit(.os_load8, 1); try w.emit(.call_8bit, 10, 0); w.op(.os_drop)
                try w.emit(.os_load8, 0); try w.emit(.call_8bit, 9, 0); w.op(.os_drop)
                w.op(.summon_null); w.op(.ret)
            },
        ])
    }

    /// A thread class whose run(box) (method 8) calls box.consume(NAME) or box.produce(NAME).
    static func worker(_ name: String, calls ordinal: Int) throws -> ClassDefinition {
        ClassDefinition(name: ".test.\(name)", methods: [
            try method("run", 8) { w in
                try w.emit(.arg_count, 1)
                try w.emit(.os_get32, 0); w.emit(.sconst_bin, string: name); try w.emit(.call_8bit, Int64(ordinal), 1)
                w.op(.ret)
            },
        ])
    }

    @Test func threadsWaitOnAConditionAndWakeUnderTheMutex() throws {
        let boot = try bootClass(objectSlots: 1) { w in
            w.emit(.summon_by_name, string: ".test.box"); w.op(.new)
            try w.emit(.os_get32, 0)
            try w.emit(.os_pull32, 1)
            w.emit(.summon_by_name, string: ".test.box")
            try w.emit(.static_invoke, 18, 1); w.op(.os_drop)
            try w.emit(.os_save8, 0)
            for name in ["first", "second", "producer"] {
                w.emit(.summon_by_name, string: ".internal.world"); w.op(.new)
                w.emit(.summon_by_name, string: ".test.\(name)"); w.op(.new)
                try w.emit(.os_load8, 0)
                try w.emit(.call_8bit, 9, 2); w.op(.os_drop)
            }
        }
        let harness = try VMHarness([try Self.box(), try Self.worker("first", calls: 16), try Self.worker("second", calls: 16),
                                     try Self.worker("producer", calls: 17), boot])
        try harness.vm.boot(className: ".test.boot")
        // Run until both consumers wait and the producer sleeps; restart there.
        var result = try harness.vm.runRound()
        while result == .ran { result = try harness.vm.runRound() }
        guard case .idle = result else { Issue.record("expected the producer asleep, got \(result)"); return }
        #expect(harness.vm.threads.map(harness.vm.state(of:)) == [.waiting, .waiting, .sleeping])
        try harness.restart()
        #expect(try harness.runRounds(100) == .finished)
        #expect(harness.output == "first got producer\nsecond got producer\n")
    }

    @Test func aDeadlockIsReportedNotSpun() throws {
        let boot = try bootClass(objectSlots: 1) { w in
            w.emit(.summon_by_name, string: ".test.box"); w.op(.new)
            try w.emit(.os_get32, 0)
            try w.emit(.os_pull32, 1)
            w.emit(.summon_by_name, string: ".test.box")
            try w.emit(.static_invoke, 18, 1); w.op(.os_drop)
            try w.emit(.os_save8, 0)
            w.emit(.summon_by_name, string: ".internal.world"); w.op(.new)
            w.emit(.summon_by_name, string: ".test.first"); w.op(.new)
            try w.emit(.os_load8, 0)
            try w.emit(.call_8bit, 9, 2); w.op(.os_drop)
        }
        let harness = try VMHarness([try Self.box(), try Self.worker("first", calls: 16), boot])
        #expect(try harness.run() == .deadlocked)
    }

    @Test func sleepWaitsOnTheClockAndSurvivesARestart() throws {
        let harness = try VMHarness([try bootClass { w in
            try w.print("before\n")
            try w.emit(.os_get32, 0); try w.emit(.iconst_32bit, 60_000); w.op(.i2o); try w.emit(.call_8bit, 21, 1); w.op(.os_drop)
            try w.print("after\n")
        }])
        try harness.vm.boot(className: ".test.boot")
        let start = harness.now
        // One round: prints, then sleeps.
        #expect(try harness.vm.runRound() == .ran)
        guard case let .idle(until) = try harness.vm.runRound() else { Issue.record("not idle"); return }
        #expect(until == start + 60_000 * 1_000_000)
        #expect(harness.output == "before\n")
        try harness.restart()
        #expect(!harness.vm.isNewHeap)
        // After the restart the thread sleeps on until its wake-up time.
        #expect(try harness.vm.runRound() == .idle(until: until))
        harness.now = until
        #expect(try harness.runRounds(10) == .finished)
        #expect(harness.output == "before\nafter\n")
    }

    @Test func killedMidLoopResumesFromTheSnapshot() throws {
        // A counter loop in a local: prints 0..<200, each 20th value; a
        // restart at any round boundary must continue, not start over.
        let harness = try VMHarness([try bootClass { w in
            try w.emit(.stack_reserve, 0, 1)
            try w.label("loop")
            try w.emit(.is_get32, 0); try w.emit(.iconst_8bit, 20); w.op(.iremlu)
            w.op(.log_not); w.emit(.jz, to: "skip")
            try w.emit(.is_get32, 0); try w.printInt(); try w.print(" ")
            try w.label("skip")
            try w.emit(.is_get32, 0); w.op(.iconst_1); w.op(.isum); w.op(.is_dup); try w.emit(.is_set32, 0)
            try w.emit(.iconst_32bit, 200); w.op(.ilt)
            w.op(.log_not); w.emit(.jz, to: "loop")
        }])
        try harness.vm.boot(className: ".test.boot")
        var restarts = 0
        while true {
            let result = try harness.vm.runRound(fuel: 97)
            if result == .finished { break }
            if restarts < 30 { try harness.restart(); restarts += 1 }
        }
        #expect(restarts == 30)
        #expect(harness.output == (0..<10).map { "\($0 * 20) " }.joined())
    }

    @Test func collectorFreesCyclesAndKeepsWhatIsReachable() throws {
        // Boot builds 1000 cycles: an array whose element 0 is a directory
        // that holds the array under "self" (directory → its values array →
        // storage → the array → its storage → the directory: reference
        // counting never frees them), keeps the last in field 0, and ends.
        let harness = try VMHarness([try bootClass(objectSlots: 1) { w in
            try w.emit(.iconst_32bit, 1000)
            try w.label("loop")
            w.emit(.summon_by_name, string: ".internal.directory"); w.op(.new)
            w.emit(.summon_by_name, string: ".internal.container.array"); w.op(.new)
            try w.emit(.os_pull32, 0)      // this: the array
            try w.emit(.os_pull32, 2)      // value: the directory
            w.op(.iconst_0); w.op(.i2o)    // index 0
            try w.emit(.call_8bit, 11, 2); w.op(.os_drop)   // array[0] = dir
            try w.emit(.os_pull32, 1)      // this: the directory
            w.emit(.sconst_bin, string: "self")
            try w.emit(.os_pull32, 2)      // value: the array
            try w.emit(.call_8bit, 8, 2); w.op(.os_drop)    // dir.put("self", array)
            w.op(.os_drop)                 // the array
            try w.emit(.os_save8, 0)       // keep the directory
            w.emit(.djnz, to: "loop")
            w.op(.is_drop)
        }])
        try harness.vm.boot(className: ".test.boot")
        #expect(try harness.runRounds(1000) == .finished)
        try harness.vm.verifyHeap()
        // Counting freed the boxed indexes (and the boot frame's leftovers)
        // but none of the cycles.
        harness.vm.reclaimUnreferenced()
        #expect(harness.vm.reclaimed.freed >= 1000)
        let before = harness.vm.objectCount
        #expect(before >= 1000 * 8)
        let statistics = harness.vm.collectGarbage()
        // Each cycle is a directory, its two arrays with their storage, the
        // key, and the array with its storage.
        #expect(statistics.freed >= 1000 * 8)
        #expect(harness.vm.objectCount == before - statistics.freed)
        try harness.vm.verifyHeap()
        // Everything still reachable works: classes load, the boot class is in the directory.
        #expect(harness.vm.classes.isLoaded(".test.boot"))
        // A second collection finds nothing more to free.
        #expect(harness.vm.collectGarbage().freed == 0)
    }

    @Test func aHeapOfTheFirstFormatIsRefusedByName() throws {
        // What the first format's root looked like: 32-byte header, the
        // format word in data word 103.
        let space = try ObjectSpace(store: Store.create(on: MemoryBlockDevice()), options: .init(limitBytes: 1 << 24))
        let root = try space.allocate(32 + 111 * 8)
        space.store(UInt64(0x3130_304D_5650_4850), at: root + 32 + 103 * 8)
        space.setRoot(PVMRoots.heap, root)
        #expect(throws: VMError.notAPhantomHeap("the Phantom VM heap is format version 1 (too old to upgrade); this build reads version 2 only")) {
            _ = try VirtualMachine(space: space)
        }
    }

    @Test func aHeapOfAFutureFormatIsRefusedByName() throws {
        let space = try ObjectSpace(store: Store.create(on: MemoryBlockDevice()), options: .init(limitBytes: 1 << 24))
        let vm = try VirtualMachine(space: space)
        vm.heap.setRootWord(RootLayout.magic, 0x3330_304D_5650_4850)  // "PHPVM003"
        #expect(throws: VMError.notAPhantomHeap("the Phantom VM heap is format version 3 (written by a newer build); this build reads version 2 only")) {
            _ = try VirtualMachine(space: space)
        }
    }
}
