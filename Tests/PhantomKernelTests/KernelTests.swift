import Foundation
import Testing
@testable import PhantomKernel

@Suite struct KernelTests {
    static let parentProvides = node("parent-provides", [:], ["LOG", "ROM", "PD", "CPU", "Timer"].map { node("service", ["name": $0]) })
    static let defaultRoute = node("default-route", [:], [node("any-service", [:], [node("parent"), node("any-child")])])

    static func config(_ starts: [ConfigNode]) -> ConfigNode {
        node("config", [:], [parentProvides, defaultRoute] + starts)
    }

    @Test func componentsRunSideBySideAndAnExitIsReported() throws {
        let harness = try KernelHarness(config: Self.config([
            node("start", ["name": "a", "ram": "4M"], [node("binary", ["name": "counter.wasm"])]),
            node("start", ["name": "b", "ram": "4M"], [node("binary", ["name": "counter.wasm"])]),
            node("start", ["name": "sleeper", "ram": "4M"]),
        ]))
        #expect(harness.waitForLine { $0 == "[init -> a] count 20000" } != nil)
        #expect(harness.waitForLine { $0 == "[init -> b] count 20000" } != nil)
        #expect(harness.waitForLine { $0 == "[init] child \"sleeper\" exited with exit value 0" } != nil)
    }

    @Test func theTreeContinuesAfterARestart() throws {
        let config = Self.config([
            node("start", ["name": "a", "ram": "4M"], [node("binary", ["name": "counter.wasm"])]),
        ])
        let harness = try KernelHarness(config: config)
        #expect(harness.waitForLine { $0 == "[init -> a] count 10000" } != nil)
        try harness.restart(config: config)
        let last = harness.log.lines().last { $0.text.hasPrefix("[init -> a] count ") }
        let mark = harness.log.lines().last?.sequence ?? 0
        // After the restart the counter continues from the snapshot: its next
        // line follows one it printed before (no start from 1000 again).
        let next = harness.waitForLine(after: mark) { $0.hasPrefix("[init -> a] count ") }
        #expect(next != nil)
        let before = Int(last?.text.split(separator: " ").last ?? "") ?? 0
        let after = Int(next?.text.split(separator: " ").last ?? "") ?? 0
        #expect(after > 1000 && after <= before + 1000 * 1000)
        #expect(harness.log.lines(after: mark).allSatisfy { $0.text != "[init -> a] count 1000" })
    }
}
