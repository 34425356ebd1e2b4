import Foundation
import Testing
@testable import PhantomVM

/// Our mirror of Phantom's compiler regression test class
/// (Programs/pvm/regression, in our assembly) runs to "Finished" with the
/// output Phantom's own run prints: flow control, int math, arrays, the
/// directory, the constructor, long, float and double arithmetic and
/// comparisons, overloaded signatures.
@Suite struct RegressionProgramTests {
    static func programs(_ name: String) throws -> [ClassDefinition] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Programs/pvm").appendingPathComponent(name)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".pas") }.sorted()
        #expect(!files.isEmpty, "no .pas files in \(directory.path)")
        return try files.map { file in
            let path = directory.appendingPathComponent(file).path
            return try Assembler.assemble(String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self), file: path).definition
        }
    }

    static let expected = """
        Starting compiler regression tests
        Phantom language regression tests are running
        Checking flow control operators... passed
        Checking int math... passed
        Checking arrays... Beeping: beep two! beep one! beep zero! \("")
        passed
        Checking .internal.directory class operations... new
        passed
        ctor_called =3456
        start long tests
        long tests 1
        long tests 2
        long tests passed
        float tests passed
        double tests passed
        Finished compiler regression tests

        """

    @Test func runsToFinishedWithPhantomsOutput() throws {
        let harness = try VMHarness(try Self.programs("regression"))
        #expect(try harness.run(boot: ".ru.dz.phantom.system.boot") == .finished)
        #expect(harness.output == Self.expected)
    }

    /// The checks can fail: a class whose math is wrong is reported the way
    /// Phantom's boot reports it.
    @Test func aBrokenCheckIsReportedByBoot() throws {
        var classes = try Self.programs("regression")
        let index = try #require(classes.firstIndex { $0.name == ".ru.dz.phantom.system.regression_tests" })
        let math = try #require(classes[index].methods.firstIndex { $0.name == "math_test" })
        // The first check computes 12 / 2 - 6: make it 12 * 2 - 6.
        let code = classes[index].methods[math].code
        let division = try #require(code.firstIndex(of: Opcode.idivlu.rawValue))
        classes[index].methods[math].code[division] = Opcode.imul.rawValue
        let harness = try VMHarness(classes)
        #expect(try harness.run(boot: ".ru.dz.phantom.system.boot") == .finished)
        #expect(harness.output.hasSuffix("Checking int math... \r\nException: 'int error'\n"))
    }
}
