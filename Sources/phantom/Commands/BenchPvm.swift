import ArgumentParser
import Foundation
import PhantomSpace
import PhantomStore
import PhantomVM

extension Bench {
    /// The Phantom VM side by side with the WebAssembly engine: the same
    /// algorithm as Phantom bytecode and as a C program compiled to
    /// WebAssembly (Programs/bench/vm_compare.c), each timed as time(N) −
    /// time(0) so that starting up is not counted; plus the collector's pause
    /// and the snapshot pause of a large heap.
    struct Pvm: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pvm",
            abstract: "Phantom VM: calls, allocation and a numeric loop against the Wasm engine; GC and snapshot pauses.")
        @OptionGroup var place: Place
        @Option(help: "The .wasm build of Programs/bench/vm_compare.c.") var module = "Programs/wasm/bench/vm_compare.wasm"
        @Option(help: "Runs per measurement (the median is reported).") var runs = 3
        @Option(help: "Objects for the collector and snapshot measurements.") var objects = 1_000_000

        func validate() throws {
            try checkRange("--runs", runs, 1...100)
            try checkRange("--objects", objects, 1000...100_000_000)
        }

        func run() throws {
            let directory = try place.make()
            defer { place.cleanUp(directory) }
            print("| workload | N | Phantom VM | Wasm engine | PVM / Wasm | PVM rate |")
            print("|---|---|---|---|---|---|")
            for (mode, n, unit) in [("calls", 2_000_000, "calls/s"), ("alloc", 2_000_000, "objects/s"), ("loop", 20_000_000, "iterations/s")] {
                var pvmTimes: [UInt64] = [], wasmTimes: [UInt64] = []
                for run in 0..<runs {
                    let (pvm, pvmResult) = try timePVM(mode, n, directory: directory, run: run)
                    let (pvmZero, _) = try timePVM(mode, 0, directory: directory, run: run)
                    let (wasm, wasmResult) = try timeWasm(mode, n, directory: directory, run: run)
                    let (wasmZero, _) = try timeWasm(mode, 0, directory: directory, run: run)
                    guard pvmResult == wasmResult else {
                        throw CommandFailure("\(mode) \(n): the PVM computed \(pvmResult), the Wasm program \(wasmResult)")
                    }
                    pvmTimes.append(pvm > pvmZero ? pvm - pvmZero : 1)
                    wasmTimes.append(wasm > wasmZero ? wasm - wasmZero : 1)
                }
                let pvm = median(pvmTimes), wasm = median(wasmTimes)
                let rate = Double(n) / (Double(pvm) / 1e9)
                print("| \(mode) | \(n) | \(millis(pvm)) | \(millis(wasm)) | \(String(format: "%.2f", Double(pvm) / Double(wasm)))× | \(String(format: "%.2e", rate)) \(unit) |")
            }
            try pauses(directory: directory)
        }

        // MARK: The bytecode side

        /// A fresh image with the VM booted on `program`; runs to the end and
        /// returns the nanoseconds and the number the program printed.
        private func timePVM(_ mode: String, _ n: Int, directory: URL, run: Int) throws -> (UInt64, String) {
            let path = directory.appendingPathComponent("pvm-\(mode)-\(n)-\(run).img").path
            let (vm, space) = try freshVM(path: path, classes: try PvmBenchPrograms.classes(mode: mode, n: n))
            defer { _ = space; try? FileManager.default.removeItem(atPath: path) }
            let output = OutputText()
            vm.output = { output.text += $0 }
            let start = DispatchTime.now().uptimeNanoseconds
            try vm.boot(className: ".bench.main")
            while try vm.runRound(fuel: 1_000_000) == .ran {}
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            return (elapsed, output.text.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        fileprivate func freshVM(path: String, classes: [ClassDefinition]) throws -> (VirtualMachine, ObjectSpace) {
            try? FileManager.default.removeItem(atPath: path)
            let store = try ImageFile.create(at: path, options: .init(retention: 2), replacing: nil)
            let space = try ObjectSpace(store: store)
            let vm = try VirtualMachine(space: space, classSource: DefinitionClassSource(classes))
            return (vm, space)
        }

        private func timeWasm(_ mode: String, _ n: Int, directory: URL, run: Int) throws -> (UInt64, String) {
            let start = DispatchTime.now().uptimeNanoseconds
            let program = try BenchProgram(module: module, arguments: [mode, String(n)],
                                           image: directory.appendingPathComponent("wasm-\(mode)-\(n)-\(run).img").path)
            _ = program.run { false }
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            let result = program.output.components(separatedBy: "result=").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            return (elapsed, result)
        }

        // MARK: Pauses

        /// A heap of `objects` nodes, 10 % of them garbage in rings of ten;
        /// the collector's pause (median of `runs` fresh heaps), then 100
        /// threads running over the live heap and the snapshot pause.
        private func pauses(directory: URL) throws {
            var whole: [UInt64] = [], longestSteps: [UInt64] = [], cycles: [UInt64] = []
            var freed = 0, reachable = 0, steps = 0
            for run in 0..<runs {
                for incremental in [false, true] {
                    let path = directory.appendingPathComponent("gc-\(run)-\(incremental).img").path
                    let (vm, space) = try freshVM(path: path, classes: try PvmBenchPrograms.heap(objects: objects))
                    defer { _ = space; try? FileManager.default.removeItem(atPath: path) }
                    vm.collectionThreshold = .max
                    try vm.boot(className: ".bench.main")
                    while try vm.runRound(fuel: 1_000_000) == .ran {}
                    if incremental {
                        let statistics = vm.collectInSteps(budget: vm.collectionStepBudget)
                        longestSteps.append(statistics.longestStepNanoseconds)
                        cycles.append(statistics.nanoseconds)
                        steps = statistics.steps
                    } else {
                        let statistics = vm.collectGarbage()
                        whole.append(statistics.nanoseconds)
                        freed = statistics.freed
                        reachable = statistics.reachable
                    }
                }
            }
            print("| collector, \(objects) objects, \(freed) garbage in cycles of 10 (\(reachable) reachable) | | whole cycle at once \(millis(median(whole))) | in \(steps) steps of \(2000) objects: longest step \(micro(median(longestSteps))), cycle \(millis(median(cycles))) | | |")

            try referenceCountingPause(directory: directory)

            let path = directory.appendingPathComponent("snapshot.img").path
            let (vm, space) = try freshVM(path: path, classes: try PvmBenchPrograms.heap(objects: objects, threads: 100))
            defer { try? FileManager.default.removeItem(atPath: path) }
            vm.collectionThreshold = .max
            try vm.boot(className: ".bench.main")
            // Boot builds the heap and starts the threads; run until they all loop.
            // Boot builds the heap and starts the threads; it is done when only they remain.
            var result = try vm.runRound(fuel: 1_000_000)
            while result == .ran && vm.threads.count != 100 { result = try vm.runRound(fuel: 1_000_000) }
            _ = try space.snapshot()
            var pauses: [UInt64] = [], pages: [UInt64] = []
            for _ in 0..<max(20, runs * 10) {
                for _ in 0..<3 { _ = try vm.runRound(fuel: 2_000) }
                let result = try space.snapshot()
                pauses.append(result.pauseNanoseconds)
                pages.append(UInt64(result.pages))
            }
            print("| snapshot pause, \(vm.threads.count) threads running, \(vm.objectCount) objects | \(median(pages)) pages dirty (median) | p50 \(micro(percentile(pauses, 50))) | p99 \(micro(percentile(pauses, 99))) | | |")
        }
    }
}

extension Bench.Pvm {
    /// The same heap; then the chain (90 % of the objects) loses its last
    /// reference, and reference counting frees it in reclamations of
    /// `reclamationBudget` objects: the longest one is the pause threads see.
    func referenceCountingPause(directory: URL) throws {
        var longest: [UInt64] = [], totals: [UInt64] = []
        var freed = 0, reclamations = 0
        for run in 0..<runs {
            let path = directory.appendingPathComponent("rc-\(run).img").path
            let (vm, space) = try freshVM(path: path, classes: try PvmBenchPrograms.heap(objects: objects))
            defer { _ = space; try? FileManager.default.removeItem(atPath: path) }
            vm.collectionThreshold = .max
            try vm.boot(className: ".bench.main")
            while try vm.runRound(fuel: 1_000_000) == .ran {}
            vm.reclaimUnreferenced()
            let before = vm.reclaimed.freed
            let environment = vm.heap.ref(vm.heap.root, RootLayout.kernelEnvironment)
            try vm.heap.setArrayElement(environment, 3, .null)
            var slowest: UInt64 = 0, total: UInt64 = 0
            reclamations = 0
            while true {
                let start = DispatchTime.now().uptimeNanoseconds
                let statistics = vm.reclaimUnreferenced(budget: vm.reclamationBudget)
                let elapsed = DispatchTime.now().uptimeNanoseconds - start
                if statistics.freed == 0 { break }
                slowest = max(slowest, elapsed)
                total += elapsed
                reclamations += 1
            }
            freed = vm.reclaimed.freed - before
            longest.append(slowest)
            totals.append(total)
        }
        print("| reference counting, a chain of \(freed) objects dropped | | all freed in \(millis(median(totals))) | in \(reclamations) reclamations of \(VirtualMachine.defaultReclamationBudget) objects: longest \(micro(median(longest))) | | |")
    }
}

/// Collects what a benchmark program printed.
private final class OutputText { var text = "" }

private func millis(_ nanoseconds: UInt64) -> String { String(format: "%.1f ms", Double(nanoseconds) / 1e6) }

/// The benchmark programs as Phantom bytecode: the algorithms of
/// Programs/bench/vm_compare.c, in the shapes Phantom's compiler emits.
enum PvmBenchPrograms {
    static func method(_ name: String, _ ordinal: Int, _ build: (inout BytecodeWriter) throws -> Void) throws -> ClassDefinition.Method {
        var writer = BytecodeWriter()
        try build(&writer)
        return ClassDefinition.Method(name: name, ordinal: ordinal, code: try writer.finish())
    }

    /// `.bench.node`: one field, `setNext` (16).
    static func node() throws -> ClassDefinition {
        ClassDefinition(name: ".bench.node", objectSlotCount: 1, methods: [
            try method("setNext", 16) { w in
                try w.emit(.arg_count, 1); try w.emit(.os_get32, 0); try w.emit(.os_save8, 0); w.op(.summon_null); w.op(.ret)
            },
        ])
    }

    /// Prints the integer on top of the integer stack through the boot object (slot 0).
    static func printResult(_ w: inout BytecodeWriter) throws {
        w.op(.i2o); try w.emit(.call_8bit, 5, 0)
        try w.emit(.os_get32, 0); try w.emit(.os_pull32, 1); try w.emit(.call_8bit, 16, 1); w.op(.os_drop); w.op(.os_drop)
    }

    static func classes(mode: String, n: Int) throws -> [ClassDefinition] {
        let startup = try method("startup", 8) { w in
            try w.emit(.arg_count, 1)
            switch mode {
            case "calls":
                try w.emit(.stack_reserve, 1, 0)
                w.op(.iconst_0); w.op(.i2o); try w.emit(.os_set32, 1)
                if n > 0 {
                    try w.emit(.iconst_32bit, Int64(n))
                    try w.label("loop")
                    w.op(.summon_this); try w.emit(.os_get32, 1); try w.emit(.call_8bit, 16, 1); try w.emit(.os_set32, 1)
                    w.emit(.djnz, to: "loop")
                    w.op(.is_drop)
                }
                try w.emit(.os_get32, 1); w.op(.o2i); try printResult(&w)
            case "alloc":
                try w.emit(.stack_reserve, 1, 0)
                if n > 0 {
                    try w.emit(.iconst_32bit, Int64(n / 1000))
                    try w.label("outer")
                    w.op(.summon_null); try w.emit(.os_set32, 1)
                    try w.emit(.iconst_32bit, 1000)
                    try w.label("inner")
                    w.emit(.summon_by_name, string: ".bench.node"); w.op(.new)
                    w.op(.os_dup); try w.emit(.os_get32, 1); try w.emit(.call_8bit, 16, 1); w.op(.os_drop)
                    try w.emit(.os_set32, 1)
                    w.emit(.djnz, to: "inner")
                    w.op(.is_drop)
                    w.emit(.djnz, to: "outer")
                    w.op(.is_drop)
                }
                try w.emit(.iconst_32bit, Int64(n / 1000 * 1000)); try printResult(&w)
            default:
                try w.emit(.stack_reserve, 0, 1)
                if n > 0 {
                    try w.emit(.iconst_32bit, Int64(n))
                    try w.label("loop")
                    w.op(.is_dup); w.op(.is_dup); w.op(.imul); try w.emit(.iconst_8bit, 7); w.op(.iremlu)
                    try w.emit(.is_get32, 0); w.op(.isum); try w.emit(.is_set32, 0)
                    w.emit(.djnz, to: "loop")
                    w.op(.is_drop)
                }
                try w.emit(.is_get32, 0); try printResult(&w)
            }
            w.op(.summon_null); w.op(.ret)
        }
        let next = try method("next", 16) { w in
            try w.emit(.arg_count, 1); try w.emit(.os_get32, 0); w.op(.o2i); w.op(.iconst_1); w.op(.isum); w.op(.i2o); w.op(.ret)
        }
        return [ClassDefinition(name: ".bench.main", methods: [startup, next]), try node()]
    }

    /// Boot builds a chain of 90 % of `objects` nodes, kept reachable in the
    /// kernel environment array, and 10 % in garbage rings of ten; then
    /// starts `threads` threads that loop on their integer stacks forever.
    static func heap(objects: Int, threads: Int = 0) throws -> [ClassDefinition] {
        let groups = objects / 100
        let startup = try method("startup", 8) { w in
            try w.emit(.arg_count, 1)
            try w.emit(.stack_reserve, 3, 0)                    // 1: chain head, 2: ring head, 3: ring's newest node
            try w.emit(.iconst_32bit, Int64(groups))
            try w.label("group")
            try w.emit(.iconst_8bit, 90)
            try w.label("chain")
            w.emit(.summon_by_name, string: ".bench.node"); w.op(.new)
            w.op(.os_dup); try w.emit(.os_get32, 1); try w.emit(.call_8bit, 16, 1); w.op(.os_drop)
            try w.emit(.os_set32, 1)
            w.emit(.djnz, to: "chain")
            w.op(.is_drop)
            // A ring of ten that nothing keeps: garbage in a cycle (counting cannot free it).
            w.emit(.summon_by_name, string: ".bench.node"); w.op(.new); w.op(.os_dup)
            try w.emit(.os_set32, 2); try w.emit(.os_set32, 3)
            try w.emit(.iconst_8bit, 9)
            try w.label("ring")
            w.emit(.summon_by_name, string: ".bench.node"); w.op(.new)
            w.op(.os_dup); try w.emit(.os_get32, 3); try w.emit(.call_8bit, 16, 1); w.op(.os_drop)   // new.next = newest
            try w.emit(.os_set32, 3)                                                                // newest = new
            w.emit(.djnz, to: "ring")
            w.op(.is_drop)
            try w.emit(.os_get32, 2); try w.emit(.os_get32, 3); try w.emit(.call_8bit, 16, 1); w.op(.os_drop)   // head.next = newest closes it
            w.emit(.djnz, to: "group")
            w.op(.is_drop)
            // Keep the chain: kernelEnvironment.set(chain, 3).
            try w.emit(.os_get32, 0); try w.emit(.call_8bit, 23, 0)
            try w.emit(.os_get32, 1); try w.emit(.iconst_8bit, 3); w.op(.i2o); try w.emit(.call_8bit, 11, 2); w.op(.os_drop)
            if threads > 0 {
                try w.emit(.iconst_32bit, Int64(threads))
                try w.label("start")
                try w.emit(.os_get32, 0)
                w.emit(.summon_by_name, string: ".bench.spinner"); w.op(.new)
                try w.emit(.call_8bit, 18, 1); w.op(.os_drop)
                w.emit(.djnz, to: "start")
                w.op(.is_drop)
            }
            w.op(.summon_null); w.op(.ret)
        }
        let spinner = ClassDefinition(name: ".bench.spinner", objectSlotCount: 1, methods: [
            try method("run", 8) { w in
                try w.emit(.arg_count, 1)
                try w.emit(.stack_reserve, 0, 1)
                try w.label("forever")
                try w.emit(.is_get32, 0); w.op(.iconst_1); w.op(.isum); try w.emit(.is_set32, 0)
                w.emit(.summon_by_name, string: ".bench.node"); w.op(.new); try w.emit(.os_save8, 0)
                w.emit(.jmp, to: "forever")
            },
        ])
        return [ClassDefinition(name: ".bench.main", objectSlotCount: 0, methods: [startup]), try node(), spinner]
    }
}
