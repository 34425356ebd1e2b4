import Foundation
import PhantomSpace
import PhantomStore
import Testing
import WAT
@testable import PhantomWasm

/// Programs outlive the engine (DESIGN.md invariant 10): an image saved by one
/// translator resumes under another. The test-only `TranslationLayout.alternate`
/// stands for "another release's translator" (other slot assignment, no
/// fusions); every test here snapshots a program mid-run under one layout,
/// reopens the image under the other, and so on back and forth until the
/// program ends, at many different safepoints — and compares the result and
/// the output with an uninterrupted run. At every reopen the thread's frames
/// in WebAssembly terms (`WasmThread.frames()`) must be what they were.
@Suite struct ResumeStateTests {
    /// Deep recursion through `call` and `call_indirect` with values live on
    /// the operand stack below each call, a loop that carries a value as its
    /// parameter (live on the operand stack at its header) inside the deepest
    /// frames, and loop constants (constant slots in the standard layout).
    static let source = """
        (module
          (type $t (func (param i32 i64) (result i64)))
          (table 2 funcref)
          (elem (i32.const 0) $rec $leaf)
          (func $leaf (param $n i32) (param $acc i64) (result i64)
            (local $i i32)
            i64.const 3
            local.get $acc
            loop $l (param i64) (result i64)
              i64.const 0x9E3779B97F4A7C15
              i64.add
              i64.const 7
              i64.rotl
              i64.const 11
              i64.const 13
              local.get $i
              i32.const 1
              i32.and
              select
              i64.xor
              local.get $i
              i32.const 1
              i32.add
              local.set $i
              local.get $i
              local.get $n
              i32.const 7
              i32.and
              i32.const 5
              i32.add
              i32.lt_u
              br_if $l
            end
            i64.mul)
          (func $rec (param $n i32) (param $acc i64) (result i64)
            (if (result i64) (i32.eqz (local.get $n))
              (then (call_indirect (type $t) (local.get $n) (local.get $acc) (i32.const 1)))
              (else
                (i64.add
                  (i64.xor (i64.mul (local.get $acc) (i64.const 31))
                    (call_indirect (type $t) (i32.sub (local.get $n) (i32.const 1))
                      (i64.add (local.get $acc) (i64.extend_i32_u (local.get $n))) (i32.const 0)))
                  (call $leaf (local.get $n) (local.get $acc))))))
          (func (export "run") (param $n i32) (result i64)
            (local $i i32) (local $sum i64)
            (loop $outer
              (local.set $sum
                (i64.add (i64.rotl (local.get $sum) (i64.const 5))
                  (call $rec (i32.add (i32.const 20) (i32.and (local.get $i) (i32.const 31)))
                             (i64.extend_i32_u (local.get $i)))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))
            (local.get $sum))
        )
        """

    static let options = ObjectSpace.Options(limitBytes: 2 << 30)
    static let wasiRoot = 7

    static func programsDirectory() -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Programs/wasm")
    }

    /// A program to run: module bytes, entry, arguments, and (for WASI programs) its argv.
    struct Program {
        var name: String
        var bytes: [UInt8]
        var entry: String
        var arguments: [RawValue] = []
        var argv: [String]? = nil
    }

    /// What a run ends with: its result and what it wrote to stdout and stderr.
    struct Outcome: Equatable {
        var result: RunResult
        var stdout: String
        var stderr: String
    }

    /// One image: its device, its space, and the program's thread in it.
    final class Machine {
        let device = MemoryBlockDevice()
        var space: ObjectSpace
        var engine: WasmEngine
        var thread: WasmThread
        let console = TestConsole()

        init(_ program: Program, layout: TranslationLayout) throws {
            space = try ObjectSpace(store: try Store.create(on: device), options: ResumeStateTests.options)
            var imports: HostModuleResolver?
            if let argv = program.argv {
                let state = try WASIState.create(in: space, args: argv, environment: [])
                space.setRoot(ResumeStateTests.wasiRoot, state)
                imports = try WASI(space: space, stateOffset: state, io: console.io)
            }
            let module = try WasmModule(bytes: program.bytes, layout: layout)
            let instance = try Instance.instantiate(module, in: space, imports: imports)
            engine = instance.engine
            thread = try instance.makeThread(program.entry, program.arguments)
        }

        /// Snapshot, drop this process's view, reopen the image with the engine
        /// translating for `layout`, and find the thread again.
        func reopen(layout: TranslationLayout) throws {
            try space.snapshot()
            let id = thread.id
            engine.close()
            space = try ObjectSpace(store: try Store.open(device), options: ResumeStateTests.options)
            let state = space.root(ResumeStateTests.wasiRoot)
            let imports: HostModuleResolver? = state == 0 ? nil : try WASI(space: space, stateOffset: state, io: console.io)
            engine = try WasmEngine.restore(space, imports: imports, layout: layout)
            thread = try #require(try WasmThread.restore(engine, id: id))
        }

        func outcome(_ result: RunResult) -> Outcome { Outcome(result: result, stdout: console.stdout, stderr: console.stderr) }
    }

    static func uninterrupted(_ program: Program) throws -> Outcome {
        let machine = try Machine(program, layout: .standard)
        return machine.outcome(machine.thread.run())
    }

    /// Runs `program` in slices of `fuel` safepoints, starting under `first`;
    /// after each of the first `reopens` slices, snapshots and reopens the
    /// image under the other layout (checking that the frames, in WebAssembly
    /// terms, are unchanged); then runs to the end. Returns the outcome and
    /// how many reopens found the thread inside a call chain (depth > 1).
    static func alternating(_ program: Program, first: TranslationLayout, fuel: Int, reopens: Int) throws
        -> (outcome: Outcome, reopened: Int, deep: Int, maximumDepth: Int)
    {
        let machine = try Machine(program, layout: first)
        var layout = first
        var reopened = 0, deep = 0, maximumDepth = 0
        while true {
            let result = machine.thread.run(fuel: fuel)
            guard case .yielded = result else { return (machine.outcome(result), reopened, deep, maximumDepth) }
            guard reopened < reopens else { continue }
            let before = try #require(try machine.thread.frames())
            layout = layout == .standard ? .alternate : .standard
            try machine.reopen(layout: layout)
            let after = try #require(try machine.thread.frames())
            #expect(after == before, "frames changed across a reopen under \(layout) (\(program.name), fuel \(fuel))")
            reopened += 1
            if before.count > 1 { deep += 1 }
            maximumDepth = max(maximumDepth, before.count)
        }
    }

    /// Both directions, several slice lengths: the outcome is always the uninterrupted one.
    static func check(_ program: Program, fuels: [Int], reopens: Int) throws {
        let expected = try uninterrupted(program)
        for fuel in fuels {
            for first in [TranslationLayout.alternate, .standard] {
                let run = try alternating(program, first: first, fuel: fuel, reopens: reopens)
                #expect(run.outcome == expected, "\(program.name), fuel \(fuel), first layout \(first)")
                #expect(run.reopened > 0)
            }
        }
    }

    static func fixture(_ path: String, argv: [String]) throws -> Program {
        let bytes = try [UInt8](Data(contentsOf: programsDirectory().appendingPathComponent(path)))
        return Program(name: path, bytes: bytes, entry: "_start", argv: argv)
    }

    // MARK: - The proof

    @Test func recursionAndLoopsWithLiveOperandsResumeUnderTheOtherLayout() throws {
        let program = Program(name: "rec", bytes: try wat2wasm(Self.source), entry: "run", arguments: [40])
        let expected = try Self.uninterrupted(program)
        guard case .finished = expected.result else { Issue.record("\(expected.result)"); return }
        var deep = 0, maximumDepth = 0
        for fuel in [1, 2, 5, 17, 101] {
            for first in [TranslationLayout.alternate, .standard] {
                let run = try Self.alternating(program, first: first, fuel: fuel, reopens: 16)
                #expect(run.outcome == expected, "fuel \(fuel), first layout \(first)")
                deep += run.deep
                maximumDepth = max(maximumDepth, run.maximumDepth)
            }
        }
        #expect(deep > 80, "reopens inside a call chain: \(deep)")
        #expect(maximumDepth > 20, "deepest chain reopened: \(maximumDepth)")
    }

    @Test func recursionProgramResumesUnderTheOtherLayout() throws {
        // chain depth 100, 2 chains, then ackermann(3, 2): up to a hundred live
        // frames with values on the operand stack below the recursive call.
        let program = try Self.fixture("c/recursion.wasm", argv: ["recursion", "100", "2", "2"])
        try Self.check(program, fuels: [7, 61], reopens: 10)
    }

    @Test func coremarkLikeResumesUnderTheOtherLayout() throws {
        let program = try Self.fixture("bench/coremark_like.wasm", argv: ["coremark_like", "1"])
        try Self.check(program, fuels: [5, 4001], reopens: 8)
    }

    @Test func nbodyResumesUnderTheOtherLayout() throws {
        try Self.check(try Self.fixture("bench/nbody.wasm", argv: ["nbody", "20"]), fuels: [97], reopens: 6)
    }

    // MARK: - The switch, the maps and the versions

    /// The alternate layout is really another translation: other frame slots,
    /// no constant slots, no fused or immediate instructions, more words — and
    /// the same resume points in WebAssembly terms.
    @Test func alternateLayoutIsAnotherTranslationWithTheSameResumePoints() throws {
        let bytes = try [UInt8](Data(contentsOf: Self.programsDirectory().appendingPathComponent("bench/coremark_like.wasm")))
        let standard = try WasmModule(bytes: bytes, layout: .standard)
        let alternate = try WasmModule(bytes: bytes, layout: .alternate)
        #expect(standard.codeChecksum != alternate.codeChecksum)
        var standardWords = 0, alternateWords = 0, constantSlots = 0, movedPoints = 0
        for (s, a) in zip(standard.functions, alternate.functions) {
            standardWords += s.count
            alternateWords += a.count
            constantSlots += s.constantCount
            #expect(a.constantCount == 0 && a.headerOffset == a.variableCount + 2)
            // Same points in WebAssembly terms, other positions.
            #expect(s.resumeMap.map { [$0.offset, $0.height, Int($0.kind.rawValue)] }
                    == a.resumeMap.map { [$0.offset, $0.height, Int($0.kind.rawValue)] })
            movedPoints += zip(s.resumeMap, a.resumeMap).filter { $0.position != $1.position }.count
        }
        // No fusion, folding or deferral: one instruction per WebAssembly instruction.
        let small = "(module (func (param i32) (result i32) (i32.add (local.get 0) (i32.const 5))))"
        let fused = try #require(try WasmModule(bytes: try wat2wasm(small), layout: .standard).functions.first)
        let plain = try #require(try WasmModule(bytes: try wat2wasm(small), layout: .alternate).functions.first)
        #expect((0..<fused.count).map { Op.decode(fused.words[$0]) } == [.i32AddImm, Op.decode(fused.words[1]), .return])
        #expect((0..<plain.count).map { Op.decode(plain.words[$0]) } == [.copy, .i32Const, .i32Add, .return])
        #expect(constantSlots > 0 && alternateWords > standardWords && movedPoints > 0)
    }

    static func image(layout: TranslationLayout = .standard) throws -> (MemoryBlockDevice, ObjectSpace, Instance, WasmThread) {
        let device = MemoryBlockDevice()
        let space = try ObjectSpace(store: try Store.create(on: device), options: options)
        let instance = try Instance.instantiate(try WasmModule(bytes: try wat2wasm(source), layout: layout), in: space)
        let thread = try instance.makeThread("run", [8])
        #expect(thread.run(fuel: 50) == .yielded)
        return (device, space, instance, thread)
    }

    static func restoreError(_ device: MemoryBlockDevice, layout: TranslationLayout = .standard) -> String? {
        do {
            let space = try ObjectSpace(store: try Store.open(device), options: options)
            try WasmEngine.restore(space, imports: nil, layout: layout).close()
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// An image of the first engine format (no resume maps; its registry's
    /// version field reads 0) and one of a future format are refused by name.
    @Test func otherFormatVersionsAreRefusedByName() throws {
        for (stored, version) in [(UInt64(0), 1), (3, 3)] {
            let (device, space, instance, _) = try Self.image()
            let registry = space.root(WasmRoots.registry)
            space.store(stored, at: registry + RegistryRecord.formatVersion)
            try space.snapshot()
            instance.engine.close()
            let message = try #require(Self.restoreError(device))
            #expect(message.contains("Wasm engine registry (root 8) has format version \(version)"), "\(message)")
            #expect(message.contains("this build reads version 2"), "\(message)")
        }
    }

    /// A changed translation is re-laid through the stored maps; a forged map
    /// is refused with a message naming it, never followed.
    @Test func storedMapsAreCheckedBeforeUse() throws {
        let (device, space, instance, thread) = try Self.image(layout: .alternate)
        let module = space.field(instance.record, InstanceRecord.module)
        let map = space.field(module, ModuleRecord.resumeMap)
        let original = space.load(UInt64.self, at: map)
        for (word, value, expected) in [(0, UInt64(9), "resume map format version 9"),
                                        (2, 1, "resume map describes 1 functions"),
                                        (4, 0xffff_ffff, "frame layout")] {
            let saved = space.load(UInt64.self, at: map + UInt64(word) * 8)
            space.store(value, at: map + UInt64(word) * 8)
            try space.snapshot()
            let message = try #require(Self.restoreError(device))
            #expect(message.contains(expected) && message.contains("differs from the stored"), "\(message)")
            space.store(saved, at: map + UInt64(word) * 8)
        }
        #expect(space.load(UInt64.self, at: map) == original)
        // Under the layout that wrote it, the same image opens without reading the map.
        space.store(UInt64(9), at: map)
        try space.snapshot()
        #expect(Self.restoreError(device, layout: .alternate) == nil)
        _ = thread
    }
}
