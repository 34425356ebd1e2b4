import Foundation
import Testing
@testable import PhantomVM

/// The interpreter fuzzer's reproducers (Fuzz/seeds/interpreter-repro-*:
/// inputs that trapped, hung or exhausted the fuzz target before their fix)
/// run as the fuzz target runs them (Fuzz/Sources/FuzzInterpreter): a class
/// file as the boot class, other bytes as the code of the boot class's
/// startup; the classes of Programs/pvm beside it; 40 rounds of 1000
/// instructions with small, frequent collector cycles and a restart from a
/// snapshot half-way. Each must end without a `VMError`, keep a consistent
/// heap after every round, and not take long.
@Suite struct FuzzReproducerTests {
    static let seeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/seeds")

    static var reproducers: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: seeds.path)) ?? []).filter { $0.hasPrefix("interpreter-repro-") }.sorted()
    }

    /// The fuzz target's boot class for bytecode: the code as startup (8) and
    /// as method 16, four fields, constants naming classes and strings.
    static func bootClass(code: [UInt8]) -> ClassDefinition {
        let texts = [
            ".internal.string", ".internal.container.array", ".internal.binary", ".internal.directory", ".internal.mutex",
            ".internal.cond", ".internal.sema", ".internal.weakref", ".internal.closure", ".internal.world", ".internal.time",
            ".internal.io.tty", ".internal.int", ".internal.long", ".internal.double", ".internal.class", ".internal.thread",
            ".phantom.test.counter", ".phantom.test.node", ".phantom.test.recursion", ".phantom.test.rings",
            ".phantom.util.map", ".ru.dz.phantom.system.regression_tests", ".test.boot",
            "", "a", "hello, world", "12345", "-7", "3.5", "again", "startup",
        ]
        var constants: [Int: [UInt8]] = [:]
        for (index, text) in texts.enumerated() { constants[index] = Array(text.utf8) }
        return ClassDefinition(name: ".test.boot", objectSlotCount: 4, methods: [
            .init(name: "startup", ordinal: 8, code: code), .init(name: "again", ordinal: 16, code: code),
        ], constants: constants, fields: [0: "a", 1: "b", 2: "c", 3: "d"])
    }

    @Test func thereAreReproducers() {
        #expect(!Self.reproducers.isEmpty, "no interpreter-repro-* in \(Self.seeds.path)")
    }

    @Test(arguments: reproducers) func reproducerRunsToAnEnd(_ name: String) throws {
        let bytes = Array(try Data(contentsOf: Self.seeds.appendingPathComponent(name)))
        let boot = bytes.starts(with: ClassFileRecord.marker)
            ? try ClassFile(parsing: bytes, source: name).definition : Self.bootClass(code: bytes)
        let helpers = try ["persistence", "regression"].flatMap { try RegressionProgramTests.programs($0) }
            .filter { !$0.name.hasSuffix("system.boot") }
        let harness = try VMHarness(helpers + [boot])
        // As the fuzz target: small, frequent collector cycles; objects of at most 16 MiB.
        func configure() {
            harness.vm.collectionThreshold = 64 << 10
            harness.vm.collectionStepBudget = 24
            harness.vm.zeroCountThreshold = 16
            harness.vm.heap.maximumDataSize = 16 << 20
        }
        configure()
        let start = Date()
        try harness.vm.boot(className: boot.name)
        for round in 0..<40 {
            if round == 20 {
                try harness.restart()
                configure()
            }
            let result = try harness.runRounds(1, fuel: 1000)
            try harness.vm.verifyHeap()
            if result == .finished || result == .deadlocked { break }
        }
        harness.vm.collectGarbage()
        try harness.vm.verifyHeap()
        #expect(Date().timeIntervalSince(start) < 60, "\(name) took \(Date().timeIntervalSince(start)) s")
    }
}
