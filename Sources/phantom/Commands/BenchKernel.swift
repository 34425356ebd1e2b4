import ArgumentParser
import Foundation
import PhantomKernel
import PhantomSpace
import PhantomStore
import PhantomWasm

/// `phantom bench kernel …`: the kernel's costs — session round trips, a LOG
/// write through a component, the snapshot pause with many components, the
/// restore of a whole system, and the CPU an idle system burns — each next to
/// a reference measured in the same run.
extension Bench {
    struct KernelBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kernel",
            abstract: "Measure the kernel (sessions, LOG, pause with many components, restore, idle CPU) against references.",
            discussion: """
                The benchmark components are Programs/c/bench_kernel/*.c, built into \
                Programs/wasm/bench_kernel/ by Programs/build.sh (--programs points elsewhere). \
                sessions, log and pause run a kernel inside this process; restore and idle start \
                `phantom boot` (this executable) as a child process and watch it. Build with -c release.
                """,
            subcommands: [Sessions.self, Log.self, Pause.self, Restore.self, Idle.self, PipeEcho.self])
    }
}

// MARK: - Shared options and helpers

struct KernelBenchPrograms: ParsableArguments {
    @Option(help: "Directory holding bench_server.wasm, bench_client.wasm and bench_ticker.wasm.")
    var programs = "Programs/wasm/bench_kernel"

    func check() throws {
        for name in ["bench_server", "bench_client", "bench_ticker"] {
            guard FileManager.default.fileExists(atPath: "\(programs)/\(name).wasm") else {
                throw ValidationError("\(programs)/\(name).wasm is missing: run from the repository root, build Programs/build.sh, or pass --programs")
            }
        }
    }

    var absolute: String { URL(fileURLWithPath: programs).standardizedFileURL.path }
}

/// One `<start>` node of a benchmark config.
struct BenchStart {
    var name: String
    var binary: String
    /// argv after the name (the config's first `<arg>` is the binary's name).
    var arguments: [String]
    var provides: String? = nil
    /// `<route>` rules as XML (nil: the default route).
    var route: String? = nil
    var ram = "2M"

    var xml: String {
        var text = "  <start name=\"\(name)\" ram=\"\(ram)\"><binary name=\"\(binary)\"/>"
        if let provides { text += "<provides><service name=\"\(provides)\"/></provides>" }
        if let route { text += "<route>\(route)</route>" }
        // Genode's libc: the `<arg>` values are the whole argv, argv[0] first.
        text += "<config>" + ([binary] + arguments).map { "<arg value=\"\($0)\"/>" }.joined() + "</config></start>\n"
        return text
    }
}

/// An init config: the built-in services, parent first then any child, and `starts`.
func benchConfig(_ starts: [BenchStart], snapshotPeriod: String? = nil) -> String {
    var text = """
        <config>
          <parent-provides> <service name="LOG"/> <service name="ROM"/> <service name="PD"/> <service name="CPU"/> <service name="Timer"/> </parent-provides>
          <default-route> <any-service> <parent/> <any-child/> </any-service> </default-route>
          <default caps="100"/>

        """
    if let snapshotPeriod { text += "  <phantom snapshot_period=\"\(snapshotPeriod)\"/>\n" }
    for start in starts { text += start.xml }
    return text + "</config>\n"
}

/// A kernel running in this process, its log kept in the ring and handed to a
/// writer that drops it (the log's own thread runs as under `phantom boot`,
/// without the cost of the terminal).
final class InProcessSystem {
    let space: ObjectSpace
    let kernel: Kernel
    let log: KernelLog
    let configText: String
    let fileRoot: String

    /// On `imagePath` (a new file image) or, when nil, on a RAM device.
    init(configText: String, programs: String, imagePath: String?, limitBytes: UInt64 = 4 << 30, prefillLog: Int = 0) throws {
        let store: Store
        if let imagePath {
            try? FileManager.default.removeItem(atPath: imagePath)
            store = try ImageFile.create(at: imagePath, options: .init(retention: 2), replacing: nil)
        } else {
            store = try Store.create(on: MemoryBlockDevice())
        }
        space = try ObjectSpace(store: store, options: .init(limitBytes: limitBytes))
        log = KernelLog(writer: { _ in })
        // A system that has run for a while has a full ring: its steady state.
        for index in 0..<prefillLog { log.append("[bench] earlier line \(index)") }
        self.configText = configText
        fileRoot = FileManager.default.temporaryDirectory.appendingPathComponent("phantom-bench-\(getpid())-\(UUID().uuidString)").path
        kernel = try Kernel.boot(space: space, configText: configText, configSource: "bench config",
                                 options: .init(romDirectory: programs, fileSystemRoot: fileRoot), log: log)
        kernel.writeTablesAtCut()
        kernel.run()
    }

    /// Hands every new log line to `consume` until it returns true. Polls the
    /// ring every 20 ms instead of waiting on the log's condition: a waiter
    /// there is woken by every line and rescans the ring, which would put
    /// this thread in competition with the workers it measures.
    func followLog(timeout: TimeInterval, _ consume: (KernelLog.Line) throws -> Bool) throws -> Bool {
        var seen: UInt64 = 0
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            for line in log.lines(after: seen) {
                seen = line.sequence
                if try consume(line) { return true }
            }
            usleep(20_000)
        }
        return false
    }

    /// Waits until every one of `names` has logged a line matching `matches`.
    func waitForComponents(_ names: Set<String>, timeout: TimeInterval = 120, _ matches: (String) -> Bool = { _ in true }) throws {
        var missing = names
        let done = try followLog(timeout: timeout) { line in
            if line.text.hasPrefix("[init] Error") { throw ValidationError("the kernel said: \(line.text)") }
            if let (name, text) = componentLine(line.text), missing.contains(name), matches(text) { missing.remove(name) }
            return missing.isEmpty
        }
        guard done else {
            throw ValidationError("timed out waiting for \(missing.sorted().prefix(5).joined(separator: ", ")) (\(missing.count) missing); last lines:\n"
                                  + log.lines(after: 0).suffix(10).map(\.text).joined(separator: "\n"))
        }
    }

    /// The `bench MODE round=R n=N ns=T` lines of `component`, once it printed `bench done`.
    func benchRounds(of component: String, timeout: TimeInterval = 600) throws -> [(iterations: UInt64, nanoseconds: UInt64)] {
        var rounds: [(iterations: UInt64, nanoseconds: UInt64)] = []
        let done = try followLog(timeout: timeout) { line in
            if line.text.hasPrefix("[init] Error") { throw ValidationError("the kernel said: \(line.text)") }
            guard let (name, text) = componentLine(line.text), name == component else { return false }
            if text.hasPrefix("bench_client:") { throw ValidationError("\(line.text)") }
            if text == "bench done" { return true }
            guard text.hasPrefix("bench ") else { return false }
            var iterations: UInt64?, nanoseconds: UInt64?
            for field in text.split(separator: " ") {
                if field.hasPrefix("n=") { iterations = UInt64(field.dropFirst(2)) }
                if field.hasPrefix("ns=") { nanoseconds = UInt64(field.dropFirst(3)) }
            }
            if let iterations, let nanoseconds { rounds.append((iterations, nanoseconds)) }
            return false
        }
        guard done else {
            throw ValidationError("\(component) did not finish; last lines:\n" + log.lines(after: 0).suffix(10).map(\.text).joined(separator: "\n"))
        }
        return rounds
    }

    func stop() {
        kernel.stop()
        space.waitForCommits()
        (try? WasmEngine.shared(for: space))?.close()
        log.close()
        try? FileManager.default.removeItem(atPath: fileRoot)
    }
}

/// `[init -> NAME] TEXT` → (NAME, TEXT). (No Foundation string search: the
/// harness reads every line while the system it measures runs.)
func componentLine(_ line: String) -> (String, String)? {
    guard line.hasPrefix("[init -> ") else { return nil }
    let utf8 = line.utf8
    let nameStart = utf8.index(utf8.startIndex, offsetBy: 9)
    guard let close = utf8[nameStart...].firstIndex(of: UInt8(ascii: "]")) else { return nil }
    let textStart = utf8.index(after: close)
    guard textStart < utf8.endIndex, utf8[textStart] == UInt8(ascii: " ") else { return nil }
    return (String(line[nameStart..<close]), String(line[utf8.index(after: textStart)...]))
}

func nanosecondsText(_ value: Double) -> String {
    value >= 10_000 ? String(format: "%.1f µs", value / 1e3) : String(format: "%.2f µs", value / 1e3)
}

func ratioText(_ value: Double) -> String { String(format: "%.1f×", value) }

// MARK: - The reference: a pipe round trip

/// `size` bytes written into one pipe, echoed back through another, by a
/// second process (`phantom bench kernel pipe-echo`, this executable) or by a
/// second thread of this process.
final class PipeReference {
    enum Peer: String { case process = "2 processes", thread = "2 threads" }
    let size: Int
    private var toPeer: Int32 = -1
    private var fromPeer: Int32 = -1
    private var process: Process?

    init(peer: Peer, size: Int) throws {
        self.size = size
        switch peer {
        case .process:
            let child = Process()
            child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            child.arguments = ["bench", "kernel", "pipe-echo", "--size", "\(size)"]
            let input = Pipe(), output = Pipe()
            child.standardInput = input
            child.standardOutput = output
            try child.run()
            toPeer = input.fileHandleForWriting.fileDescriptor
            fromPeer = output.fileHandleForReading.fileDescriptor
            process = child
            // Keep the handles (and their descriptors) alive with the reference.
            handles = [input.fileHandleForWriting, output.fileHandleForReading]
        case .thread:
            var there: [Int32] = [0, 0], back: [Int32] = [0, 0]
            guard pipe(&there) == 0, pipe(&back) == 0 else { throw ValidationError("pipe failed") }
            toPeer = there[1]
            fromPeer = back[0]
            let (readEnd, writeEnd, size) = (there[0], back[1], size)
            let thread = Thread {
                pipeEcho(input: readEnd, output: writeEnd, size: size)
                Glibc.close(readEnd)
                Glibc.close(writeEnd)
            }
            thread.name = "phantom-bench-pipe-echo"
            thread.start()
            ownedDescriptors = [there[1], back[0]]
        }
    }

    private var handles: [FileHandle] = []
    private var ownedDescriptors: [Int32] = []

    /// Nanoseconds for `iterations` round trips.
    func measure(iterations: Int) throws -> UInt64 {
        var message = [UInt8](repeating: 0x61, count: size)
        var reply = [UInt8](repeating: 0, count: size)
        let start = nowNanoseconds()
        for index in 0..<iterations {
            message[0] = UInt8(truncatingIfNeeded: index)
            try writeAll(toPeer, message)
            try readExactly(fromPeer, &reply)
            guard reply[0] == message[0] else { throw ValidationError("the pipe echo answered out of order") }
        }
        return nowNanoseconds() - start
    }

    func close() {
        for descriptor in ownedDescriptors { Glibc.close(descriptor) }
        ownedDescriptors = []
        try? handles.first?.close()
        process?.waitUntilExit()
        handles = []
    }
}

func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw ValidationError("pipe write failed: \(String(cString: strerror(errno)))") }
        offset += n
    }
}

func readExactly(_ descriptor: Int32, _ buffer: inout [UInt8]) throws {
    var offset = 0
    let count = buffer.count
    while offset < count {
        let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + offset, count - offset) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw ValidationError("pipe read failed (peer gone)") }
        offset += n
    }
}

/// Echoes `size`-byte messages from `input` to `output` until end of file.
func pipeEcho(input: Int32, output: Int32, size: Int) {
    var buffer = [UInt8](repeating: 0, count: size)
    while (try? readExactly(input, &buffer)) != nil {
        if (try? writeAll(output, buffer)) == nil { return }
    }
}

extension Bench.KernelBench {
    /// The peer process of the pipe reference.
    struct PipeEcho: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pipe-echo", abstract: "The reference's second process: echoes stdin to stdout.", shouldDisplay: false)
        @Option(help: "Bytes per message.") var size = 16
        func validate() throws { try checkRange("--size", size, 1...(1 << 20)) }
        func run() throws { pipeEcho(input: 0, output: 1, size: size) }
    }
}

/// Pipe round trips per operation, both kinds, one run of `iterations` each.
struct PipeRoundTrips {
    var process: [Double] = []
    var thread: [Double] = []

    mutating func measure(size: Int, iterations: Int) throws {
        for peer in [PipeReference.Peer.process, .thread] {
            let reference = try PipeReference(peer: peer, size: size)
            defer { reference.close() }
            _ = try reference.measure(iterations: min(iterations, 500))   // warm-up
            let perTrip = Double(try reference.measure(iterations: iterations)) / Double(iterations)
            if peer == .process { process.append(perTrip) } else { thread.append(perTrip) }
        }
    }
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func percentile(_ values: [Double], _ percent: Int) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(percent) / 100 * Double(sorted.count - 1)).rounded()))]
}

// MARK: - 1. Sessions

extension Bench.KernelBench {
    /// One client measuring a mode against one server, in a fresh in-process kernel.
    static func clientRun(programs: String, mode: String, iterations: Int, service: String, payload: Int,
                          server: BenchStart?, clientRoute: String? = nil, prefillLog: Int = 0) throws -> Double {
        var starts: [BenchStart] = []
        if let server { starts.append(server) }
        // Two rounds: the first warms up (first calls of a fresh instance, first sessions).
        starts.append(BenchStart(name: "client", binary: "bench_client",
                                 arguments: [mode, "\(iterations)", "2", service, "\(payload)"], route: clientRoute))
        let system = try InProcessSystem(configText: benchConfig(starts), programs: programs, imagePath: nil, prefillLog: prefillLog)
        defer { system.stop() }
        let rounds = try system.benchRounds(of: "client")
        guard let last = rounds.last, rounds.count == 2 else { throw ValidationError("client \(mode): expected 2 rounds, got \(rounds.count)") }
        return Double(last.nanoseconds) / Double(last.iterations)
    }

    struct Sessions: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Session open+close and call round trips through the session ABI vs. a pipe round trip.",
            discussion: """
                A client component (bench_client) times, with its own monotonic clock, ITERATIONS \
                session_open+session_close pairs and ITERATIONS session_calls (16-byte payload, echoed) \
                to a server component (bench_server) that accepts every open; and, as a floor, \
                ITERATIONS clock_gettime calls (the cheapest host call). Each run boots a fresh kernel \
                in this process (2 workers, RAM image, no snapshots); the client's first round is a \
                warm-up. Reference, in the same run: a 16-byte message written into a pipe and echoed \
                back through a second pipe by another process (`phantom bench kernel pipe-echo`), and by \
                another thread of this process. Medians over --runs.
                """)
        @OptionGroup var programs: KernelBenchPrograms
        @Option(help: "Operations per measured round.") var iterations = 2000
        @Option(help: "Runs (each: a fresh kernel per operation, then the pipe references).") var runs = 5

        func validate() throws {
            try checkRange("--iterations", iterations, 10...10_000_000)
            try checkRange("--runs", runs, 1...1000)
        }

        func run() throws {
            try programs.check()
            let echo = BenchStart(name: "server", binary: "bench_server", arguments: ["Bench", "echo"], provides: "Bench")
            var openClose: [Double] = [], call: [Double] = [], clock: [Double] = []
            var pipes = PipeRoundTrips()
            for _ in 0..<runs {
                openClose.append(try clientRun(programs: programs.absolute, mode: "openclose", iterations: iterations, service: "Bench", payload: 16, server: echo))
                call.append(try clientRun(programs: programs.absolute, mode: "call", iterations: iterations, service: "Bench", payload: 16, server: echo))
                clock.append(try clientRun(programs: programs.absolute, mode: "clock", iterations: iterations * 10, service: "Bench", payload: 16, server: nil))
                try pipes.measure(size: 16, iterations: iterations)
            }
            let process = median(pipes.process), thread = median(pipes.thread)
            print("| operation (median of \(runs) runs × \(iterations)) | per operation | pipe round trip, 2 processes | ratio | pipe round trip, 2 threads | ratio |")
            print("|---|---|---|---|---|---|")
            for (label, values) in [("session open + close (client → component server that accepts)", openClose),
                                    ("session call, 16 B echoed (client → component server)", call),
                                    ("floor: one host call (clock_gettime)", clock)] {
                let value = median(values)
                print("| \(label) | \(nanosecondsText(value)) | \(nanosecondsText(process)) | \(ratioText(value / process)) | \(nanosecondsText(thread)) | \(ratioText(value / thread)) |")
            }
            print("")
            print("spread (min–max of runs): open+close \(spread(openClose)), call \(spread(call)), pipe/processes \(spread(pipes.process)), pipe/threads \(spread(pipes.thread))")
        }
    }
}

func spread(_ values: [Double]) -> String {
    "\(nanosecondsText(values.min() ?? 0))–\(nanosecondsText(values.max() ?? 0))"
}

// MARK: - 2. LOG through a component

extension Bench.KernelBench {
    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A LOG write through a component-provided LOG service vs. a pipe round trip.",
            discussion: """
                A server component (bench_server) announces "LOG"; the client's route sends LOG to it \
                (<route><service name="LOG" label_last="bench"><child name="logger"/></service>…); the client \
                (bench_client log) times ITERATIONS session_calls, each with one text line of about \
                --payload bytes. Two servers: `sink` (replies, keeps nothing: the session path alone) and \
                `forward` (writes each message to its stdout as one line, i.e. into the kernel's log, as \
                Genode's terminal_log passes LOG on). For comparison the same client with LOG routed to \
                the kernel's built-in LOG service. The kernel's log ring is filled beforehand (4096 \
                lines), as in a system that has run for a while. Reference, same run: the pipe round \
                trip of `bench kernel sessions` with a message of the same size. Medians over --runs.
                """)
        @OptionGroup var programs: KernelBenchPrograms
        @Option(help: "LOG writes per measured round.") var iterations = 2000
        @Option(help: "Runs.") var runs = 5
        @Option(help: "Bytes per log line.") var payload = 64
        @Option(help: "Lines put into the kernel's log ring before measuring (its capacity is 4096).") var prefill = 4096

        func validate() throws {
            try checkRange("--iterations", iterations, 10...10_000_000)
            try checkRange("--runs", runs, 1...1000)
            try checkRange("--payload", payload, 20...65536)
            try checkRange("--prefill", prefill, 0...1_000_000)
        }

        func run() throws {
            try programs.check()
            // Only the session the client times goes to the logger (label
            // "bench"); its stdout, where it reports its rounds, stays with
            // init's log (the environment LOG session follows the routes too).
            let toChild = "<service name=\"LOG\" label_last=\"bench\"><child name=\"logger\"/></service><any-service><parent/></any-service>"
            let sink = BenchStart(name: "logger", binary: "bench_server", arguments: ["LOG", "sink"], provides: "LOG")
            let forward = BenchStart(name: "logger", binary: "bench_server", arguments: ["LOG", "forward"], provides: "LOG")
            var sinkTimes: [Double] = [], forwardTimes: [Double] = [], builtinTimes: [Double] = []
            var pipes = PipeRoundTrips()
            for _ in 0..<runs {
                sinkTimes.append(try clientRun(programs: programs.absolute, mode: "log", iterations: iterations, service: "LOG",
                                               payload: payload, server: sink, clientRoute: toChild, prefillLog: prefill))
                forwardTimes.append(try clientRun(programs: programs.absolute, mode: "log", iterations: iterations, service: "LOG",
                                                  payload: payload, server: forward, clientRoute: toChild, prefillLog: prefill))
                builtinTimes.append(try clientRun(programs: programs.absolute, mode: "log", iterations: iterations, service: "LOG",
                                                  payload: payload, server: nil, prefillLog: prefill))
                try pipes.measure(size: payload, iterations: iterations)
            }
            let process = median(pipes.process), thread = median(pipes.thread)
            print("| LOG write, \(payload) B line (median of \(runs) runs × \(iterations)) | per write | pipe round trip, 2 processes | ratio | pipe round trip, 2 threads | ratio |")
            print("|---|---|---|---|---|---|")
            for (label, values) in [("component LOG server, `sink` (session path only)", sinkTimes),
                                    ("component LOG server, `forward` (+ its own stdout line)", forwardTimes),
                                    ("kernel's built-in LOG (for comparison)", builtinTimes)] {
                let value = median(values)
                print("| \(label) | \(nanosecondsText(value)) | \(nanosecondsText(process)) | \(ratioText(value / process)) | \(nanosecondsText(thread)) | \(ratioText(value / thread)) |")
            }
            // What one log line costs the kernel's log itself, with the ring
            // (4096 lines) still filling and once it is full.
            var filling: [Double] = [], full: [Double] = []
            for _ in 0..<runs {
                let log = KernelLog(writer: nil)
                let lines = 4000
                var start = nowNanoseconds()
                for index in 0..<lines { log.append("[init -> logger] bench log line \(index) abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz") }
                filling.append(Double(nowNanoseconds() - start) / Double(lines))
                for index in 0..<lines { log.append("[init -> logger] bench log line \(index) abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz") }
                start = nowNanoseconds()
                for index in 0..<lines { log.append("[init -> logger] bench log line \(index) abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz") }
                full.append(Double(nowNanoseconds() - start) / Double(lines))
            }
            print("| of which: KernelLog.append of one line, ring filling / ring full (4096 lines) | \(nanosecondsText(median(filling))) / \(nanosecondsText(median(full))) | | | | |")
            print("")
            print("spread (min–max of runs): sink \(spread(sinkTimes)), forward \(spread(forwardTimes)), built-in \(spread(builtinTimes)), pipe/processes \(spread(pipes.process))")
        }
    }
}

// MARK: - 3. Snapshot pause with many components

extension Bench.KernelBench {
    struct Pause: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Snapshot pause and commit with 100 running components vs. 1, and the kernel's table write at the cut.",
            discussion: """
                Boots a kernel in this process on a file image (in --directory) with N bench_ticker \
                components (each prints `tick N` every 100 ms), waits until all run, then takes \
                --snapshots snapshots, one every --interval ms, as the snapshot daemon does, with \
                Kernel.writeTablesAtCut() at the cut (timed on its own). Two phases: tables unchanged \
                since the last cut (the write is skipped), and tables changed before every cut (a \
                re-applied identical config marks them changed; any session call or open does the \
                same in a real system), where the kernel encodes and writes all its tables. Reported: \
                pause (world stopped: reaching the safepoint + table write + page capture) p50/p99, \
                the table write p50 and its share of the pause, commit p50 (write + 3 flushes, while \
                components run), pages per snapshot, the size of the tables. The reference is the \
                same with N = 1, in the same run.
                """)
        @OptionGroup var programs: KernelBenchPrograms
        @OptionGroup var place: Bench.Place
        @Option(help: "Component counts to compare, comma-separated.") var components = "1,100"
        @Option(help: "Snapshots per phase and component count.") var snapshots = 30
        @Option(help: "Milliseconds between snapshots.") var interval = 100

        func validate() throws {
            try checkRange("--snapshots", snapshots, 3...100_000)
            try checkRange("--interval", interval, 1...60_000)
            let items = components.split(separator: ",", omittingEmptySubsequences: false)
            guard !items.isEmpty, items.allSatisfy({ Int($0.trimmingCharacters(in: .whitespaces)) != nil }) else {
                throw ValidationError("--components must be counts separated by commas, like 1,100; not \"\(components)\"")
            }
            for count in counts { try checkRange("--components", count, 1...2000) }
        }

        var counts: [Int] { components.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

        struct Samples {
            var pause: [Double] = [], tables: [Double] = [], capture: [Double] = [], commit: [Double] = [], pages: [Double] = []
            var share: [Double] = []
        }

        func run() throws {
            try programs.check()
            let directory = try place.make()
            defer { place.cleanUp(directory) }
            var summary: [String: (pause: Double, commit: Double)] = [:]
            print("| components | tables at the cut | pause p50 | pause p99 | of which table write p50 | table write / pause | capture p50 | commit p50 | pages / snapshot | tables |")
            print("|---|---|---|---|---|---|---|---|---|---|")
            for count in counts {
                let starts = (1...count).map { BenchStart(name: "t\($0)", binary: "bench_ticker", arguments: ["100"], ram: "1M") }
                let config = benchConfig(starts)
                let system = try InProcessSystem(configText: config, programs: programs.absolute,
                                                 imagePath: directory.appendingPathComponent("pause-\(count).img").path)
                defer { system.stop() }
                try system.waitForComponents(Set(starts.map(\.name))) { $0.hasPrefix("tick") }
                for changed in [false, true] {
                    var samples = Samples()
                    for index in 0..<(snapshots + 2) {
                        usleep(UInt32(interval * 1000))
                        if changed { try system.kernel.apply(configText: config, source: "bench config") }
                        nonisolated(unsafe) var tableNanoseconds: UInt64 = 0
                        let kernel = system.kernel
                        let result = try system.space.snapshot(whileStopped: {
                            let start = nowNanoseconds()
                            kernel.writeTablesAtCut()
                            tableNanoseconds = nowNanoseconds() - start
                        })
                        if index < 2 { continue }   // the first cuts after boot or after the phase change
                        samples.pause.append(Double(result.pauseNanoseconds))
                        samples.tables.append(Double(tableNanoseconds))
                        samples.share.append(Double(tableNanoseconds) / Double(max(1, result.pauseNanoseconds)))
                        samples.capture.append(Double(result.captureNanoseconds))
                        samples.commit.append(Double(result.commitNanoseconds))
                        samples.pages.append(Double(result.pages))
                    }
                    let tableBytes = kernelTablesBytes(system.space)
                    summary["\(count) \(changed)"] = (median(samples.pause), median(samples.commit))
                    print("| \(count) | \(changed ? "changed (written)" : "unchanged (skipped)") | \(micro(UInt64(median(samples.pause)))) | \(micro(UInt64(percentile(samples.pause, 99)))) | \(micro(UInt64(median(samples.tables)))) | \(String(format: "%.0f %%", median(samples.share) * 100)) | \(micro(UInt64(median(samples.capture)))) | \(milli(UInt64(median(samples.commit)))) | \(Int(median(samples.pages))) | \(tableBytes / 1024) KiB JSON |")
                }
            }
            if let first = counts.first, let last = counts.last, first != last {
                print("")
                for changed in [false, true] {
                    if let a = summary["\(first) \(changed)"], let b = summary["\(last) \(changed)"] {
                        print("\(last) vs \(first) components, tables \(changed ? "changed" : "unchanged"): pause ×\(String(format: "%.1f", b.pause / a.pause)), commit ×\(String(format: "%.1f", b.commit / a.commit))")
                    }
                }
            }
        }
    }
}

/// The size of the kernel's encoded tables: root slot 10 points at the
/// kernel's record (docs/ARCHITECTURE.md, root slots), whose third word is
/// their length.
func kernelTablesBytes(_ space: ObjectSpace) -> UInt64 {
    let record = space.root(10)
    guard record != 0, space.isAllocated(record, count: 32) else { return 0 }
    return space.load(UInt64.self, at: record + 16)
}

// MARK: - Child `phantom boot` processes

/// A `phantom boot` child whose stdout and stderr lines are collected with
/// the time they arrived.
final class BootChild: @unchecked Sendable {
    // @unchecked: `lines` and `errors` are reached only with `condition` held.
    let process = Process()
    let started: UInt64
    private let condition = NSCondition()
    private var lines: [(time: UInt64, text: String)] = []
    private var errors: [(time: UInt64, text: String)] = []
    private var openStreams = 2

    init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["boot"] + arguments
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        started = nowNanoseconds()
        try process.run()
        for (handle, isError) in [(output.fileHandleForReading, false), (error.fileHandleForReading, true)] {
            let thread = Thread { [self] in collect(handle.fileDescriptor, isError: isError) }
            thread.start()
        }
    }

    var pid: Int32 { process.processIdentifier }

    private func collect(_ descriptor: Int32, isError: Bool) {
        var pending = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            let time = nowNanoseconds()
            pending += buffer[0..<n]
            var newLines: [(UInt64, String)] = []
            while let newline = pending.firstIndex(of: 10) {
                newLines.append((time, String(decoding: pending[..<newline], as: UTF8.self)))
                pending.removeSubrange(...newline)
            }
            condition.lock()
            if isError { errors += newLines } else { lines += newLines }
            condition.broadcast()
            condition.unlock()
        }
        condition.lock()
        openStreams -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until `done(lines, errors)` returns a value; nil on timeout or when the child is gone.
    func wait<T>(timeout: TimeInterval, _ done: ([(time: UInt64, text: String)], [(time: UInt64, text: String)]) -> T?) -> T? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let value = done(lines, errors) { return value }
            if openStreams == 0 { return nil }
            if !condition.wait(until: deadline) { return done(lines, errors) }
        }
    }

    var transcript: String {
        condition.lock(); defer { condition.unlock() }
        return (lines.suffix(5) + errors.suffix(10)).map(\.text).joined(separator: "\n")
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        // Both streams end when the child is gone.
        condition.lock()
        while openStreams > 0 { condition.wait() }
        condition.unlock()
    }
}

/// The time (after `start`) at which every component of `names` had printed a
/// line that arrived after `since`, or nil if some have not yet.
func allPrinted(_ names: Set<String>, in lines: [(time: UInt64, text: String)], since: UInt64) -> (first: UInt64, all: UInt64)? {
    var missing = names
    var first: UInt64?
    for line in lines where line.time >= since {
        guard let (name, _) = componentLine(line.text), missing.contains(name) else { continue }
        if first == nil { first = line.time }
        missing.remove(name)
        if missing.isEmpty { return (first!, line.time) }
    }
    return nil
}

/// Writes a config file for a `phantom boot` child.
func writeBenchConfig(_ text: String, to url: URL) throws {
    try Data(text.utf8).write(to: url)
}

// MARK: - 4. Restore

extension Bench.KernelBench {
    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Process start → all components running, after a kill -9 (restore) vs. a fresh boot of the same config.",
            discussion: """
                Runs `phantom boot` (this executable) as a child on an image in --directory, with N \
                bench_ticker components (`up` at start, then `tick K` every second) and a snapshot \
                every 100 ms. Fresh boot: from the child's start until every component printed `up`. \
                Then, after a generation committed with all of them running, kill -9, wait until every \
                ticker's sleep has run out (1.2 s), and boot the same image again. Restore: from the \
                child's start until every component printed a line. Also shown: when `phantom boot` \
                printed `phantom: created …`/`phantom: booting …` on stderr (after the image is open and, on a \
                restore, the kernel's tables are read and every instance is re-attached), and the first \
                component's line. Medians over --runs.
                """)
        @OptionGroup var programs: KernelBenchPrograms
        @OptionGroup var place: Bench.Place
        @Option(help: "Components in the system.") var components = 100
        @Option(help: "Runs (each: one fresh boot, one kill -9, one restore).") var runs = 5

        func validate() throws {
            try checkRange("--components", components, 1...2000)
            try checkRange("--runs", runs, 1...1000)
        }

        func run() throws {
            try programs.check()
            let directory = try place.make()
            defer { place.cleanUp(directory) }
            let starts = (1...components).map { BenchStart(name: "t\($0)", binary: "bench_ticker", arguments: ["1000"], ram: "1M") }
            let names = Set(starts.map(\.name))
            let configURL = directory.appendingPathComponent("restore.config")
            try writeBenchConfig(benchConfig(starts), to: configURL)
            let image = directory.appendingPathComponent("restore.img").path
            let arguments = ["--image", image, "--config", configURL.path, "--roms", programs.absolute,
                             "--snapshot-every", "100ms", "--verbose", "--files", directory.appendingPathComponent("files").path]
            var fresh = Timings(), restored = Timings()
            var restoreMilliseconds: [Double] = []
            for _ in 0..<runs {
                try? FileManager.default.removeItem(atPath: image)
                try? FileManager.default.removeItem(atPath: image + ".sock")
                // Fresh boot.
                let first = try BootChild(arguments: arguments)
                guard let ready = first.wait(timeout: 300, { lines, _ in allPrinted(names, in: lines, since: 0) }) else {
                    first.kill()
                    throw ValidationError("the fresh boot did not bring up all \(components) components:\n\(first.transcript)")
                }
                fresh.add(child: first, ready: ready)
                // A generation committed after every component ran: the image holds all of them running.
                let committed = first.wait(timeout: 60) { _, errors in
                    errors.first { $0.time > ready.all && $0.text.contains("committed") }.map { _ in true }
                }
                first.kill()
                guard committed == true else { throw ValidationError("no generation committed after the fresh boot:\n\(first.transcript)") }
                usleep(1_200_000)
                // Restore after the kill.
                let second = try BootChild(arguments: arguments)
                guard let back = second.wait(timeout: 300, { lines, _ in allPrinted(names, in: lines, since: 0) }) else {
                    second.kill()
                    throw ValidationError("the restore did not bring back all \(components) components:\n\(second.transcript)")
                }
                restored.add(child: second, ready: back)
                if let text = second.wait(timeout: 1, { _, errors in errors.first { $0.text.contains("restored in") }?.text }),
                   let range = text.range(of: "restored in "), let value = Double(text[range.upperBound...].split(separator: " ").first ?? "") {
                    restoreMilliseconds.append(value)
                }
                second.kill()
            }
            print("| \(components) components (median of \(runs) runs) | process start → `phantom: created/booting` on stderr (image open; on a restore also the kernel's tables read and every instance re-attached) | → first component's line | → all \(components) running | ratio |")
            print("|---|---|---|---|---|")
            let freshAll = median(fresh.all)
            print("| fresh boot (reference) | \(milli(UInt64(median(fresh.opened)))) | \(milli(UInt64(median(fresh.first)))) | \(milli(UInt64(freshAll))) | 1.00 |")
            print("| restore after kill -9 | \(milli(UInt64(median(restored.opened)))) | \(milli(UInt64(median(restored.first)))) | \(milli(UInt64(median(restored.all)))) | \(String(format: "%.2f", median(restored.all) / freshAll)) |")
            print("")
            print("object space restore as `phantom boot` reports it: \(String(format: "%.1f", median(restoreMilliseconds))) ms (median); spread of `all running`: fresh \(milliSpread(fresh.all)), restore \(milliSpread(restored.all))")
        }

        struct Timings {
            var opened: [Double] = [], first: [Double] = [], all: [Double] = []
            mutating func add(child: BootChild, ready: (first: UInt64, all: UInt64)) {
                let opened = child.wait(timeout: 1) { _, errors in errors.first { $0.text.hasPrefix("phantom: created") || $0.text.hasPrefix("phantom: booting") }?.time }
                self.opened.append(Double((opened ?? child.started) - child.started))
                first.append(Double(ready.first - child.started))
                all.append(Double(ready.all - child.started))
            }
        }
    }
}

func milliSpread(_ values: [Double]) -> String {
    "\(milli(UInt64(values.min() ?? 0)))–\(milli(UInt64(values.max() ?? 0)))"
}

// MARK: - 5. Idle CPU

extension Bench.KernelBench {
    struct Idle: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "CPU used by an idle 100-component system over 10 s (target: under 1 % of a core).",
            discussion: """
                Runs `phantom boot` (this executable) as a child with N components that do nothing but \
                wait: half are bench_ticker in quiet mode (a sleep of about 1 s, forever; periods spread \
                over 0.9–1.1 s so they do not wake together; --period-ms changes the 1 s), a quarter are \
                bench_server in hold mode (blocked in service_next), a quarter are bench_client in wait \
                mode (each blocked in a session_call its own held server never answers). Once all are \
                up (+2 s), the child's CPU time (utime + stime from /proc/PID/stat) is read over \
                --seconds, and the time of each of its threads (/proc/PID/task/*/schedstat) says where \
                it went. Same run, for comparison: 1 quiet ticker; and the N-component system with \
                snapshots every 60 s instead of every second (the share of the snapshot daemon). \
                Medians over --runs.
                """)
        @OptionGroup var programs: KernelBenchPrograms
        @OptionGroup var place: Bench.Place
        @Option(help: "Components in the idle system (even).") var components = 100
        @Option(help: "Seconds measured per run.") var seconds = 10
        @Option(help: "Runs per configuration.") var runs = 3
        @Option(help: "The sleepers' period in ms (each sleeper's spread over ±10 %).") var periodMs = 1000

        func validate() throws {
            try checkRange("--components", components, 4...2000)
            try checkRange("--period-ms", periodMs, 10...60_000)
            try checkRange("--seconds", seconds, 1...3600)
            try checkRange("--runs", runs, 1...100)
        }

        func run() throws {
            try programs.check()
            let directory = try place.make()
            defer { place.cleanUp(directory) }
            let quarter = components / 4
            // Periods spread over 0.9–1.1 × --period-ms, so that the sleepers do not all wake
            // together (they would if they started together: one wake-up of the
            // scheduler for all of them would flatter the result).
            let sleepers = components - 2 * quarter
            var many: [BenchStart] = (1...sleepers).map {
                BenchStart(name: "sleeper\($0)", binary: "bench_ticker", arguments: ["\(periodMs * 9 / 10 + periodMs * 2 / 10 * $0 / sleepers)", "quiet"], ram: "1M")
            }
            for index in 1...quarter {
                many.append(BenchStart(name: "holder\(index)", binary: "bench_server", arguments: ["Hold\(index)", "hold"],
                                       provides: "Hold\(index)", ram: "1M"))
                many.append(BenchStart(name: "waiter\(index)", binary: "bench_client", arguments: ["wait", "1", "1", "Hold\(index)", "16"],
                                       route: "<service name=\"Hold\(index)\"><child name=\"holder\(index)\"/></service><any-service><parent/></any-service>"))
            }
            let one = [BenchStart(name: "sleeper1", binary: "bench_ticker", arguments: ["\(periodMs)", "quiet"], ram: "1M")]
            let configurations: [(String, [BenchStart], String)] = [
                ("\(components) idle components, snapshot every 1 s (default)", many, "1s"),
                ("1 idle component, snapshot every 1 s (reference)", one, "1s"),
                ("\(components) idle components, snapshot every 60 s", many, "60s"),
            ]
            var results = Array(repeating: [Double](), count: configurations.count)
            var threadShares = Array(repeating: [String: [Double]](), count: configurations.count)
            var switches = Array(repeating: [Double](), count: configurations.count)
            var precise = Array(repeating: [Double](), count: configurations.count)
            var threadSwitchRates = Array(repeating: [String: [Double]](), count: configurations.count)
            for run in 0..<runs {
                for (index, (_, starts, period)) in configurations.enumerated() {
                    let configURL = directory.appendingPathComponent("idle-\(index).config")
                    try writeBenchConfig(benchConfig(starts), to: configURL)
                    let image = directory.appendingPathComponent("idle-\(index)-\(run).img").path
                    let child = try BootChild(arguments: ["--image", image, "--config", configURL.path, "--roms", programs.absolute,
                                                          "--snapshot-every", period, "--files", directory.appendingPathComponent("files").path])
                    defer {
                        child.kill()
                        try? FileManager.default.removeItem(atPath: image)
                        try? FileManager.default.removeItem(atPath: image + ".sock")
                    }
                    guard child.wait(timeout: 300, { lines, _ in allPrinted(Set(starts.map(\.name)), in: lines, since: 0) }) != nil else {
                        throw ValidationError("the idle system did not come up:\n\(child.transcript)")
                    }
                    usleep(2_000_000)
                    let before = try ProcessCPU(pid: child.pid)
                    let start = nowNanoseconds()
                    usleep(UInt32(seconds) * 1_000_000)
                    let after = try ProcessCPU(pid: child.pid)
                    let wall = Double(nowNanoseconds() - start)
                    // An idle system prints nothing: a line (a tick, a child's exit)
                    // means the components are not the idle ones this measures.
                    let printed = child.wait(timeout: 0) { lines, _ in lines.filter { $0.time >= start }.map(\.text) } ?? []
                    guard printed.isEmpty else {
                        throw ValidationError("the idle system was not idle; it printed \(printed.count) lines, e.g.:\n"
                                              + printed.prefix(5).joined(separator: "\n"))
                    }
                    results[index].append(Double(after.ticks - before.ticks) / Double(ProcessCPU.ticksPerSecond) * 1e9 / wall)
                    switches[index].append(Double(after.switches - before.switches) / (wall / 1e9))
                    var byKind: [String: Double] = [:]
                    var switchesByKind: [String: Double] = [:]
                    var total = 0.0
                    for (tid, nanoseconds) in after.threads {
                        let used = Double(nanoseconds - (before.threads[tid] ?? 0)) / wall
                        let kind = after.kind(of: tid)
                        byKind[kind, default: 0] += used
                        switchesByKind[kind, default: 0] += Double((after.threadSwitches[tid] ?? 0) - (before.threadSwitches[tid] ?? 0)) / (wall / 1e9)
                        total += used
                    }
                    precise[index].append(total)
                    for (kind, share) in byKind { threadShares[index][kind, default: []].append(share) }
                    for (kind, rate) in switchesByKind { threadSwitchRates[index][kind, default: []].append(rate) }
                }
            }
            print("| configuration (median of \(runs) runs × \(seconds) s) | CPU, % of one core (/proc/PID/stat) | same, threads' schedstat | context switches / s | by thread: % of a core (context switches / s) |")
            print("|---|---|---|---|---|")
            for (index, (label, _, _)) in configurations.enumerated() {
                let threads = threadShares[index].map { ($0.key, median($0.value)) }.filter { $0.1 >= 0.00005 }.sorted { $0.1 > $1.1 }
                    .map { kind, share in
                        "\(kind) \(String(format: "%.2f", share * 100)) (\(String(format: "%.0f", median(threadSwitchRates[index][kind] ?? [0]))))"
                    }.joined(separator: "; ")
                print("| \(label) | \(String(format: "%.2f %%", median(results[index]) * 100)) | \(String(format: "%.2f %%", median(precise[index]) * 100)) | \(String(format: "%.0f", median(switches[index]))) | \(threads) |")
            }
        }
    }
}

/// A process's CPU time from /proc: utime + stime of the process (dead
/// threads included, 10 ms ticks), and per thread from schedstat (ns).
/// Foundation does not pass `Thread.name` to the OS on Linux; the scheduler
/// names its workers and waker itself (`comm`), the main thread is told by
/// its id, the others by the system call they wait in: swift-nio's event
/// loop in epoll_wait, the rest (snapshot daemon and writer, log writer) on
/// futexes.
struct ProcessCPU {
    static let ticksPerSecond = UInt64(sysconf(Int32(_SC_CLK_TCK)))
    var ticks: UInt64
    /// Run time by thread id.
    var threads: [Int32: UInt64] = [:]
    /// Context switches (voluntary and not) by thread id, and in all.
    var threadSwitches: [Int32: UInt64] = [:]
    var switches: UInt64 = 0
    let pid: Int32

    init(pid: Int32) throws {
        self.pid = pid
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { throw ValidationError("cannot read /proc/\(pid)/stat") }
        // After "pid (comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else {
            throw ValidationError("cannot parse /proc/\(pid)/stat")
        }
        ticks = user + system
        for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
            guard let tid = Int32(task),
                  let schedstat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8),
                  let runtime = schedstat.split(separator: " ").first.flatMap({ UInt64($0) }) else { continue }
            threads[tid] = runtime
            if let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) {
                for line in status.split(separator: "\n") where line.hasPrefix("voluntary_ctxt_switches") || line.hasPrefix("nonvoluntary_ctxt_switches") {
                    let count = UInt64(line.split(separator: "\t").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "") ?? 0
                    threadSwitches[tid, default: 0] += count
                    switches += count
                }
            }
        }
    }

    /// What kind of thread `tid` is: the scheduler's threads by their names,
    /// the others by the system call they wait in now.
    func kind(of tid: Int32) -> String {
        if tid == pid { return "main" }
        let name = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/comm", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if name.hasPrefix("phantom-work") { return "scheduler workers" }
        if name == "phantom-waker" { return "scheduler waker (poll)" }
        let call = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/syscall", encoding: .utf8))?
            .split(whereSeparator: \.isWhitespace).first.map(String.init) ?? "?"
        #if arch(x86_64)
        switch call {
        case "7", "271": return "poll"
        case "232", "281": return "NIO (epoll)"
        case "202": return "futex waiters (snapshot daemon + writer, log)"
        default: return "other (\(call == "running" ? "running" : "syscall \(call)"))"
        }
        #else
        switch call {
        case "73": return "poll"
        case "22": return "NIO (epoll)"
        case "98": return "futex waiters (snapshot daemon + writer, log)"
        default: return "other (\(call == "running" ? "running" : "syscall \(call)"))"
        }
        #endif
    }
}
