import PhantomSpace
import PhantomStore
@testable import PhantomVM

/// Builds methods with the bytecode writer and runs them on a VM over an
/// in-memory image.
final class VMHarness {
    let device = MemoryBlockDevice()
    var space: ObjectSpace
    var vm: VirtualMachine
    var output = ""
    var now: UInt64 = 1_000_000_000_000
    var classes: [ClassDefinition]

    init(_ classes: [ClassDefinition]) throws {
        self.classes = classes
        space = try ObjectSpace(store: Store.create(on: device), options: .init(limitBytes: 1 << 32))
        vm = try VirtualMachine(space: space)
        attach()
    }

    private func attach() {
        vm.classSource = DefinitionClassSource(classes)
        vm.output = { [unowned self] in self.output += $0 }
        vm.clock = { [unowned self] in self.now }
    }

    /// Boots `boot` and runs rounds until every thread has ended (or `rounds` ran out).
    @discardableResult
    func run(boot: String = ".test.boot", rounds: Int = 100_000, fuel: Int = 10_000) throws -> VirtualMachine.RoundResult {
        if !vm.hasBooted { try vm.boot(className: boot) }
        return try runRounds(rounds, fuel: fuel)
    }

    func runRounds(_ rounds: Int, fuel: Int = 10_000) throws -> VirtualMachine.RoundResult {
        var result = VirtualMachine.RoundResult.ran
        for _ in 0..<rounds {
            result = try vm.runRound(fuel: fuel)
            switch result {
            case .ran: continue
            case let .idle(until): now = max(now, until)  // a virtual clock: jump to the next wake-up
            case .finished, .deadlocked: return result
            }
        }
        return result
    }

    /// Commits a snapshot and reopens the image in a new space and VM, as a
    /// restart after kill -9 would.
    func restart() throws {
        _ = try space.snapshot()
        space.waitForCommits()
        let store = try Store.open(device)
        space = try ObjectSpace(store: store, options: .init(limitBytes: 1 << 32))
        vm = try VirtualMachine(space: space)
        attach()
    }
}

/// A method from writer calls.
func method(_ name: String, _ ordinal: Int, _ build: (inout BytecodeWriter) throws -> Void) throws -> ClassDefinition.Method {
    var writer = BytecodeWriter()
    try build(&writer)
    return ClassDefinition.Method(name: name, ordinal: ordinal, code: try writer.finish())
}

/// A boot class whose startup (method 8) runs `body` with the boot object in
/// object slot 0; `print(string)` helpers come from `BytecodeWriter.printTop`.
func bootClass(objectSlots: Int = 0, extraMethods: [ClassDefinition.Method] = [], constants: [Int: [UInt8]] = [:],
               _ body: (inout BytecodeWriter) throws -> Void) throws -> ClassDefinition {
    let startup = try method("startup", 8) { w in
        try w.emit(.arg_count, 1)
        try body(&w)
        w.op(.summon_null)
        w.op(.ret)
    }
    return ClassDefinition(name: ".test.boot", objectSlotCount: objectSlots, methods: [startup] + extraMethods, constants: constants)
}

extension BytecodeWriter {
    /// Prints the object on top of the stack through the boot object (slot 0):
    /// `boot.print(top)`, converting it with toString first.
    mutating func printTop() throws {
        try emit(.call_8bit, Int64(UniversalOrdinal.toString), 0)  // top.toString()
        try emit(.os_get32, 0)                                    // boot
        try emit(.os_pull32, 1)                                   // the string again, above boot
        try emit(.call_8bit, 16, 1)                               // boot.print(string)
        op(.os_drop)
        op(.os_drop)
    }

    mutating func print(_ text: String) throws {
        try emit(.os_get32, 0)
        emit(.sconst_bin, string: text)
        try emit(.call_8bit, 16, 1)
        op(.os_drop)
    }

    /// Pushes the int on the integer stack as an object and prints it.
    mutating func printInt() throws {
        op(.i2o)
        try printTop()
    }
}
