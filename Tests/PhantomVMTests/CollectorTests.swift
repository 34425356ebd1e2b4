import Testing
@testable import PhantomVM

/// The incremental collector interleaved with running programs: tiny steps
/// and a low threshold make cycles overlap every kind of mutation (rings
/// replaced, arrays grown, directories filled, frames made and freed), and
/// the programs' own checks must still hold.
@Suite struct CollectorTests {
    func runWithTinySteps(_ program: String, boot: String, fuel: Int = 500) throws -> (VMHarness, [VirtualMachine.CollectionStatistics]) {
        let harness = try VMHarness(try RegressionProgramTests.programs(program))
        harness.vm.collectionThreshold = 4 << 10
        harness.vm.collectionStepBudget = 37
        var cycles: [VirtualMachine.CollectionStatistics] = []
        harness.vm.onCollection = { cycles.append($0) }
        #expect(try harness.run(boot: boot, fuel: fuel) == .finished)
        return (harness, cycles)
    }

    @Test func ringsRecursionAndCounterStayIntactUnderIncrementalCycles() throws {
        let (harness, cycles) = try runWithTinySteps("persistence", boot: ".ru.dz.phantom.system.boot")
        for done in ["counter done", "recursion done", "rings done"] { #expect(harness.output.contains(done)) }
        #expect(!harness.output.contains("broken"))
        #expect(!harness.output.contains("Unhandled"))
        #expect(cycles.count >= 10, "\(cycles.count) cycles")
        #expect(cycles.reduce(0) { $0 + $1.freed } > 10_000)
        #expect(cycles.contains { $0.steps > 2 }, "cycles are cut into steps")
        // What is left after a final full collection is what is reachable: a
        // second one frees nothing.
        harness.vm.collectGarbage()
        #expect(harness.vm.collectGarbage().freed == 0)
    }

    @Test func theRegressionProgramPassesUnderIncrementalCycles() throws {
        let (harness, cycles) = try runWithTinySteps("regression", boot: ".ru.dz.phantom.system.boot", fuel: 50)
        #expect(harness.output == RegressionProgramTests.expected)
        #expect(!cycles.isEmpty)
    }

    @Test func aWeakReferenceIsClearedWhenItsTargetIsCollected() throws {
        let harness = try VMHarness([try bootClass(objectSlots: 2) { w in
            // field 0: a weakref to a fresh string that nothing else keeps;
            // field 1: a weakref to this object, which stays reachable.
            for (field, target) in [(0, "fresh"), (1, "this")] {
                w.emit(.summon_by_name, string: ".internal.weakref"); w.op(.new); w.op(.os_dup)
                if target == "fresh" { w.emit(.sconst_bin, string: "gone soon") } else { w.op(.summon_this) }
                try w.emit(.call_8bit, 9, 1); w.op(.os_drop)
                try w.emit(.os_save8, Int64(field))
            }
            // Keep this object (and its weakrefs) reachable: env.set(this, 3).
            try w.emit(.os_get32, 0); try w.emit(.call_8bit, 23, 0)
            w.op(.summon_this); try w.emit(.iconst_8bit, 3); w.op(.i2o); try w.emit(.call_8bit, 11, 2); w.op(.os_drop)
        }])
        #expect(try harness.run() == .finished)
        harness.vm.collectGarbage()
        let environment = harness.vm.heap.ref(harness.vm.heap.root, RootLayout.kernelEnvironment)
        let boot = try #require(harness.vm.heap.arrayElement(environment, 3))
        let weakToFresh = harness.vm.heap.ref(boot, 0), weakToBoot = harness.vm.heap.ref(boot, 1)
        #expect(harness.vm.heap.word(weakToFresh, 0) == 0)
        #expect(harness.vm.heap.word(weakToBoot, 0) != 0)
    }
}

/// The write barrier under a mutator that moves references between objects
/// while a cycle marks: 400 strings are swapped at random between the fields
/// of 200 holders between tiny collector steps, while garbage is made so
/// that freed memory is reused. Every string must survive every cycle with
/// its text (without the barrier, strings moved from an unmarked holder into
/// a marked one were freed and overwritten).
@Suite struct WriteBarrierTests {
    @Test func swappedReferencesSurviveIncrementalCycles() throws {
        let harness = try VMHarness([try bootClass { _ in }])
        #expect(try harness.run() == .finished)
        let vm = harness.vm, heap = vm.heap
        let holderClass = try vm.classes.define(ClassDefinition(name: ".test.holder", objectSlotCount: 2))
        let holders = try heap.makeArray(capacity: 200)
        try heap.setArrayElement(heap.ref(heap.root, RootLayout.kernelEnvironment), 3, holders)
        var expected: [UInt64: String] = [:]
        for index in 0..<200 {
            let holder = try vm.classes.instantiate(holderClass)
            try heap.setArrayElement(holders, index, holder)
            for slot in 0..<2 {
                let text = "value \(index).\(slot)"
                let value = try heap.makeString(text)
                heap.setRef(holder, slot, value)
                expected[value.offset] = text
            }
        }
        var generator = SplitMix64Local(seed: 42)
        var cycles = 0
        var steps = 0
        vm.onCollection = { _ in cycles += 1 }
        for _ in 0..<20 {
            vm.collector.begin()
            var finished = false
            while !finished {
                for _ in 0..<5 {
                    let a = heap.arrayElement(holders, Int(generator.next() % 200))!, i = Int(generator.next() % 2)
                    let b = heap.arrayElement(holders, Int(generator.next() % 200))!, j = Int(generator.next() % 2)
                    let moving = heap.ref(a, i)
                    heap.setRef(a, i, heap.ref(b, j))
                    heap.setRef(b, j, moving)
                    _ = try heap.makeString("garbage \(generator.next())")
                }
                finished = vm.collector.step(budget: 3)
                steps += 1
            }
            for index in 0..<200 {
                let holder = heap.arrayElement(holders, index)!
                for slot in 0..<2 {
                    let value = heap.ref(holder, slot)
                    #expect(heap.kind(of: value) == .string && heap.string(value) == expected[value.offset],
                            "a live string was freed: holder \(index) slot \(slot)")
                }
            }
        }
        #expect(cycles == 20)
        #expect(steps > 20 * 50, "cycles were cut into many steps: \(steps)")
    }
}

/// A small deterministic generator for the test.
struct SplitMix64Local {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
