import Foundation
import PhantomSpace
import PhantomStore
import PhantomVM

/// Fuzzes the Phantom VM by running what it is given. An input that starts
/// with a record marker (`phfr:`) is a class file: if it parses, it is the
/// boot class. Any other input is bytecode: the code of method 8 (`startup`,
/// which boot calls with the boot object) of a fixed boot class, and of its
/// method 16, so that the code can call itself.
///
/// The boot class finds the classes of Programs/pvm (the persistence and
/// regression programs, assembled once) and the internal classes. The VM
/// runs on a fresh in-memory space with a virtual clock (sleeps do not
/// wait), for a bounded number of rounds of bounded fuel, and collects
/// often; half-way a still running program is snapshotted and continued
/// in a reopened space, as after kill -9. The collector's cycles are small
/// and frequent, so that they overlap the program. After every fourth round,
/// and after a final whole collection, the heap is checked (`verifyHeap`):
/// every reachable object live and well-formed.
///
/// Any outcome of the program is fine: it ends, throws, deadlocks, or the VM
/// refuses it with a `VMError`. A trap of the process, a hang, unbounded
/// memory, or a heap that fails the check is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInterpreter(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if bytes.starts(with: ClassFileRecord.marker) {
        guard let classFile = try? ClassFile(parsing: bytes, source: "fuzz.pc") else { return 0 }
        Run.program(boot: classFile.definition)
    } else {
        Run.program(boot: Run.bootClass(code: bytes))
    }
    return 0
}

enum Run {
    static let rounds = 40
    static let fuel = 1000
    /// Instructions a program may be given in all (its threads' slices together).
    static let totalFuel = 100_000
    static let verbose = getenv("FUZZ_VERBOSE") != nil

    /// The boot class of a bytecode input: the code as `startup` (8) and as
    /// method 16; four fields; constants naming classes to load and strings.
    static func bootClass(code: [UInt8]) -> ClassDefinition {
        var constants: [Int: [UInt8]] = [:]
        for (index, text) in constantTexts.enumerated() { constants[index] = Array(text.utf8) }
        return ClassDefinition(name: ".test.boot", objectSlotCount: 4, methods: [
            .init(name: "startup", ordinal: 8, code: code),
            .init(name: "again", ordinal: 16, code: code),
        ], constants: constants, fields: [0: "a", 1: "b", 2: "c", 3: "d"])
    }

    static let constantTexts = [
        ".internal.string", ".internal.container.array", ".internal.binary", ".internal.directory", ".internal.mutex",
        ".internal.cond", ".internal.sema", ".internal.weakref", ".internal.closure", ".internal.world", ".internal.time",
        ".internal.io.tty", ".internal.int", ".internal.long", ".internal.double", ".internal.class", ".internal.thread",
        ".phantom.test.counter", ".phantom.test.node", ".phantom.test.recursion", ".phantom.test.rings",
        ".phantom.util.map", ".ru.dz.phantom.system.regression_tests", ".test.boot",
        "", "a", "hello, world", "12345", "-7", "3.5", "again", "startup",
    ]

    /// The classes of Programs/pvm but the boot classes, which the input replaces.
    static let helpers: [ClassDefinition] = {
        var repository = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { repository.deleteLastPathComponent() }
        let programs = repository.appendingPathComponent("Programs/pvm").path
        var definitions: [ClassDefinition] = []
        for folder in ["persistence", "regression"] {
            let directory = programs + "/" + folder
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
            for name in names.sorted() where name.hasSuffix(".pas") && !name.contains("system.boot") {
                guard let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8),
                      let classFile = try? Assembler.assemble(text, file: name) else {
                    fatalError("the helper \(directory)/\(name) does not assemble")
                }
                definitions.append(classFile.definition)
            }
        }
        if definitions.isEmpty { fatalError("no helper classes under \(programs)") }
        return definitions
    }()

    static func program(boot definition: ClassDefinition) {
        let device = MemoryBlockDevice()
        let clock = Clock()
        let source = DefinitionClassSource(helpers + [definition])
        func makeVM(_ store: Store) throws -> (ObjectSpace, VirtualMachine) {
            let space = try ObjectSpace(store: store, options: .init(limitBytes: 1 << 30))
            let vm = try VirtualMachine(space: space, classSource: source, output: { if verbose { print($0, terminator: "") } }, clock: { clock.now })
            // Cycles often and in small steps, so that they overlap the
            // program: the write barrier, the weak references, frames made
            // and freed while marking.
            vm.collectionThreshold = 64 << 10
            vm.collectionStepBudget = 24
            // Reference counting's reclamation after almost every round.
            vm.zeroCountThreshold = 16
            // Objects of at most 16 MiB: a string doubled every round (its
            // concat charged a whole slice) would otherwise fill the space
            // with 256 MiB blocks, and the snapshot copies the space into the
            // in-memory image: more than libFuzzer's 2 GiB of memory.
            vm.heap.maximumDataSize = 16 << 20
            if verbose { vm.onCollection = { print("collected: \($0)") } }
            return (space, vm)
        }
        var space: ObjectSpace
        var vm: VirtualMachine
        do { (space, vm) = try makeVM(try Store.create(on: device)) } catch { fatalError("no VM on a fresh space: \(error)") }
        do {
            try vm.boot(className: definition.name)
        } catch {
            if verbose { print("boot refused: \(error)") }
            return
        }
        var spent = 0
        do throws(VMError) {
            rounds: for round in 0..<rounds {
                if round == rounds / 2 {
                    // Continue from a snapshot in a new space, as after kill -9.
                    do {
                        let start = DispatchTime.now().uptimeNanoseconds
                        defer { if verbose { print("restart: \((DispatchTime.now().uptimeNanoseconds - start) / 1000) µs") } }
                        _ = try space.snapshot()
                        space.waitForCommits()
                        (space, vm) = try makeVM(try Store.open(device))
                    } catch { fatalError("a snapshot does not continue: \(error)") }
                }
                spent += max(1, vm.threads.count) * fuel
                guard spent <= totalFuel else { break }
                let start = DispatchTime.now().uptimeNanoseconds
                defer { if verbose { print("round \(round): \(vm.threads.count) threads, \(vm.objectCount) objects, \((DispatchTime.now().uptimeNanoseconds - start) / 1000) µs") } }
                let result = try vm.runRound(fuel: fuel)
                // Between rounds, with a cycle in progress or not, every
                // reachable object must be live: a use after free shows here
                // (every fourth round: the check walks the whole heap).
                if round % 4 == 3 {
                    do { try vm.verifyHeap() } catch { fatalError("heap check after round \(round): \(error)") }
                }
                switch result {
                case .ran: continue
                case let .idle(until): clock.now = max(clock.now, until)
                case .finished, .deadlocked: break rounds
                }
            }
        } catch {
            if verbose { print("VM error: \(error)") }
            return
        }
        vm.collectGarbage()
        do { try vm.verifyHeap() } catch { fatalError("heap check: \(error)") }
    }
}

final class Clock: @unchecked Sendable {
    var now: UInt64 = 1_000_000_000_000
}
