import Foundation
import PhantomStore
import Testing

/// The default system (`phantom boot` with the repository's config) killed
/// with SIGKILL again and again, each time after a committed generation (a
/// readiness signal, never a fixed delay): the same components come back and
/// continue, none repeats its first-boot action, the historian's file stays
/// consistent.
@Suite struct SystemKillTests {
    @Test func theDefaultSystemContinuesAfterTwentyKills() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("system.img").path
        var generator = SplitMix64(seed: 0x5eed_0009)
        var allLines: [String] = []
        var previousFirstCycle = 0
        for round in 0..<20 {
            let delay = Double(generator.next() % 300) / 1000
            let output = try PhantomProcess.runAndKillAfterCommit(
                ["boot", "--image", image, "--snapshot-every", "50ms", "--verbose"], extraDelay: delay)
            let context = "round \(round) (killed \(delay) s after its first commit): \(output.stderr)"
            #expect(output.killedBySignal && output.status == SIGKILL, "\(context)")
            #expect(!output.stderr.contains("Error"), "\(context)")
            let cycles = output.lines.compactMap(Self.cycle)
            // Within a run the control loop's cycles only go up.
            #expect(zip(cycles, cycles.dropFirst()).allSatisfy { $0 < $1 }, "\(context): \(cycles)")
            // Across runs it never starts over (it may repeat what followed the last snapshot).
            if let first = cycles.first {
                #expect(first >= previousFirstCycle, "\(context): cycle \(first) after \(previousFirstCycle)")
                previousFirstCycle = first
            }
            if round > 0 { #expect(output.stderr.contains("phantom: booting \(image) from generation"), "\(context)") }
            allLines += output.lines
        }
        #expect(allLines.filter { $0 == "[init -> control] control: first start" }.count == 1)
        #expect(allLines.filter { $0 == "[init -> historian] historian: first start" }.count == 1)
        // The Phantom VM component booted once; every later run resumed it.
        #expect(allLines.filter { $0 == "[init -> uptime] uptime: booted once; every restart continues the count" }.count == 1)
        #expect(previousFirstCycle > 0, "the control loop never printed a cycle")

        // The historian's file: a header, then records numbered without a gap or a repeat.
        let history = try String(contentsOfFile: image.replacingOccurrences(of: ".img", with: ".files") + "/historian/history.csv", encoding: .utf8)
        let records = history.split(separator: "\n").dropFirst()
        let numbers = records.compactMap { Int($0.split(separator: ",").first ?? "") }
        #expect(history.hasPrefix("seq,level,valve,alarm,crc\n"))
        #expect(numbers.count == records.count && numbers.count > 10, "\(history.suffix(300))")
        #expect(zip(numbers, numbers.dropFirst()).allSatisfy { $1 == $0 + 1 }, "\(numbers)")
    }

    static func cycle(_ line: String) -> Int? {
        guard line.hasPrefix("[init -> control] cycle ") else { return nil }
        return Int(line.split(separator: " ")[4])
    }
}
