import ArgumentParser
import Foundation
import PhantomKernel
import PhantomSpace
import PhantomStore
import PhantomWasm

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the store, the object space and the Wasm engine side by side with a reference.",
        discussion: """
            Every figure is the median (and p99 where it says so) of several runs, measured next to \
            a reference in the same run: raw stores for dirty tracking, a plain sequential write + \
            fdatasync of the same bytes to the same disk for commits. Build with -c release first. \
            Results go to standard output as Markdown rows for docs/BENCHMARKS.md.
            """,
        subcommands: [Pause.self, Capture.self, Commit.self, Restore.self, Frequency.self, DirtyTracking.self, Wasm.self, KernelBench.self, Pvm.self])

    struct Place: ParsableArguments {
        @Option(help: "Directory for the benchmark images (default: a new directory under the current one).")
        var directory: String?

        func make() throws -> URL {
            let url = directory.map { URL(fileURLWithPath: $0) }
                ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".bench-\(getpid())")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }

        func cleanUp(_ url: URL) {
            if directory == nil { try? FileManager.default.removeItem(at: url) }
        }
    }

    /// Snapshot pause: p50/p99 for several dirty sizes, and for a fixed dirty
    /// size in spaces of several sizes (the pause must not grow with the space).
    struct Pause: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Snapshot pause (world stopped) by dirty size and by space size.")
        @OptionGroup var place: Place
        @Option(help: "Snapshots per configuration.") var runs = 40

        func validate() throws { try checkRange("--runs", runs, 1...100_000) }

        func run() throws {
            let directory = try place.make()
            defer { place.cleanUp(directory) }
            print("| configuration | capture | pages dirty | pause p50 | pause p99 | capture p50 |")
            print("|---|---|---|---|---|---|")
            for mode in [CaptureMode.stopAndCopy, .copyOnWrite] {
                for dirtyMiB in [1, 4, 16, 64] {
                    try measure(directory: directory, spaceMiB: 1024, dirtyMiB: dirtyMiB, mode: mode,
                                label: "\(dirtyMiB) MiB dirty in a 1 GiB space")
                }
                for spaceMiB in [64, 256, 1024] {
                    try measure(directory: directory, spaceMiB: spaceMiB, dirtyMiB: 4, mode: mode,
                                label: "4 MiB dirty in a \(spaceMiB) MiB space")
                }
            }
        }

        func measure(directory: URL, spaceMiB: Int, dirtyMiB: Int, mode: CaptureMode, label: String) throws {
            let (path, space) = try freshSpace(in: directory, name: "pause-\(spaceMiB)-\(dirtyMiB).img", limitBytes: UInt64(spaceMiB) << 20, retention: 2)
            space.captureMode = mode
            let spacePages = spaceMiB * 256
            // Populate the whole space once, so it is as large as it says.
            for page in 0..<spacePages { space.store(UInt64(page), at: UInt64(page) * 4096 + 1024) }
            try space.snapshot()
            let dirtyPages = dirtyMiB * 256
            var pauses: [UInt64] = []
            var captures: [UInt64] = []
            var generator = SplitMix64(seed: 1)
            for run in 0..<runs {
                // A different scattered set of pages each time.
                let start = Int(generator.next() % UInt64(spacePages))
                let stride = max(1, spacePages / dirtyPages)
                for index in 0..<dirtyPages {
                    let page = (start + index * stride) % spacePages
                    space.store(UInt64(run), at: UInt64(page) * 4096 + 1032)
                }
                let result = try space.snapshot()
                pauses.append(result.pauseNanoseconds)
                captures.append(result.captureNanoseconds)
            }
            print("| \(label) | \(mode.label) | \(dirtyPages) | \(micro(percentile(pauses, 50))) | \(micro(percentile(pauses, 99))) | \(micro(percentile(captures, 50))) |")
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// Commit throughput against a sequential write + fdatasync of the same bytes.
    struct Commit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Commit throughput vs. sequential write + fdatasync on the same disk.")
        @OptionGroup var place: Place
        @Option(help: "MiB dirtied per snapshot.") var megabytes = 64
        @Option(help: "Measured snapshots (after warm-up).") var runs = 7

        func validate() throws {
            try checkRange("--megabytes", megabytes, 1...65_536)
            try checkRange("--runs", runs, 1...10_000)
        }

        func run() throws {
            let directory = try place.make()
            defer { place.cleanUp(directory) }
            let (_, space) = try freshSpace(in: directory, name: "commit.img", limitBytes: UInt64(megabytes) << 21, retention: 2)
            let pages = megabytes * 256
            var commitTimes: [UInt64] = []
            var referenceTimes: [UInt64] = []
            let referencePath = directory.appendingPathComponent("reference.bin").path
            let bytes = pages * 4096
            for run in 0..<(runs + 3) {
                for page in 0..<pages { space.store(UInt64(run * pages + page), at: UInt64(page) * 4096 + 1024) }
                let result = try space.snapshot()
                let reference = try sequentialWrite(path: referencePath, bytes: bytes)
                // The first three grow the image; from then on blocks are reused, as in steady state.
                if run >= 3 {
                    commitTimes.append(result.commitNanoseconds)
                    referenceTimes.append(reference)
                }
            }
            let ours = Double(bytes) / (Double(median(commitTimes)) / 1e9) / 1_048_576
            let theirs = Double(bytes) / (Double(median(referenceTimes)) / 1e9) / 1_048_576
            print("| commit of \(megabytes) MiB (3 flushes) | \(String(format: "%.0f", ours)) MiB/s | sequential write + fdatasync | \(String(format: "%.0f", theirs)) MiB/s | \(String(format: "%.0f%%", ours / theirs * 100)) |")
        }
    }

    /// Restore: open an image of a given size in a new process and report
    /// the time to the first readable page and to everything resident.
    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Time from process start to first readable page and to all pages resident.")
        @OptionGroup var place: Place
        @Option(help: "Size of the space in MiB.") var megabytes = 256
        @Option(help: "Restores to measure.") var runs = 5
        @Flag(help: "Drop the page cache before each restore (needs root), to measure a restore from the disk itself.")
        var cold = false
        @Option(help: .hidden) var child: String?

        func validate() throws {
            try checkRange("--megabytes", megabytes, 1...65_536)
            try checkRange("--runs", runs, 1...1_000)
        }

        func run() throws {
            if let child {
                // In the child: report when the space is usable, relative to the parent's start stamp.
                let store = try ImageFile.openForReading(child)
                let space = try ObjectSpace(store: store, options: .init(limitBytes: UInt64(megabytes) << 21))
                _ = space.load(UInt64.self, at: 4096)
                print("ready \(nowNanoseconds()) \(space.restoreNanoseconds)")
                return
            }
            let directory = try place.make()
            defer { place.cleanUp(directory) }
            let path: String
            do {
                let (imagePath, space) = try freshSpace(in: directory, name: "restore.img", limitBytes: UInt64(megabytes) << 21, retention: 3)
                for page in 0..<(megabytes * 256) { space.store(UInt64(page), at: UInt64(page) * 4096 + 1024) }
                try space.snapshot()
                path = imagePath
            }   // the space, and with it the image's lock, is released here: the children open the image
            var totals: [UInt64] = []
            var restores: [UInt64] = []
            for _ in 0..<runs {
                if cold { try dropPageCache() }
                let start = nowNanoseconds()
                let process = Process()
                process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
                process.arguments = ["bench", "restore", "--megabytes", "\(megabytes)", "--child", path]
                let pipe = Pipe()
                process.standardOutput = pipe
                try process.run()
                let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                let fields = output.split(separator: " ")
                guard fields.count == 3, let ready = UInt64(fields[1]), let restore = UInt64(fields[2].trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw ValidationError("restore child failed: \(output)")
                }
                totals.append(ready - start)
                restores.append(restore)
            }
            if cold { try dropPageCache() }
            let reference = try sequentialRead(path: path)
            print("| restore \(megabytes) MiB (eager, page cache \(cold ? "dropped" : "warm")) | process start → first read = all resident: \(milli(median(totals))) | of which reading + checking pages: \(milli(median(restores))) | reference: plain sequential read of the image file: \(milli(reference)) |")
        }
    }

    /// Snapshots per second sustained with a given dirty set per period.
    struct Frequency: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sustainable snapshot rate at a given dirty size per period.")
        @OptionGroup var place: Place
        @Option(help: "MiB dirtied per period.") var megabytes = 4
        @Option(help: "Seconds to run.") var seconds = 5.0

        func validate() throws {
            try checkRange("--megabytes", megabytes, 1...65_536)
            guard seconds.isFinite, seconds > 0, seconds <= 86_400 else {
                throw ValidationError("--seconds must be more than 0 and at most 86400, not \(seconds)")
            }
        }

        func run() throws {
            let directory = try place.make()
            defer { place.cleanUp(directory) }
            for mode in [CaptureMode.stopAndCopy, .copyOnWrite] {
            let (_, space) = try freshSpace(in: directory, name: "frequency.img", limitBytes: 1 << 30, retention: 2)
            space.captureMode = mode
            let pages = megabytes * 256
            let start = nowNanoseconds()
            var count = 0
            var commits: [UInt64] = []
            while Double(nowNanoseconds() - start) / 1e9 < seconds {
                for page in 0..<pages { space.store(UInt64(count), at: UInt64(page * 4) * 4096 + 1024) }
                commits.append(try space.snapshot().commitNanoseconds)
                count += 1
            }
            let rate = Double(count) / (Double(nowNanoseconds() - start) / 1e9)
            let flush = try flushLatency(path: directory.appendingPathComponent("flush.bin").path)
            print("| \(megabytes) MiB dirty per snapshot, \(mode.label) | \(String(format: "%.0f", rate)) snapshots/s | commit p50 \(milli(percentile(commits, 50))), p99 \(milli(percentile(commits, 99))) | reference: one 4 KiB write + fdatasync takes \(milli(flush)) (a commit needs 3) |")
            }
        }
    }

    /// The cost of software dirty bits on the store path.
    struct DirtyTracking: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cost of a store with dirty tracking vs. a raw store.")
        @Option(help: "Stores per run.") var stores = 50_000_000

        func validate() throws { try checkRange("--stores", stores, 1...10_000_000_000) }

        func run() throws {
            let space = try ObjectSpace(store: Store.create(on: MemoryBlockDevice()), options: .init(limitBytes: 256 << 20))
            let raw = space.unsafePointer(at: 0, count: 64 << 20)
            var tracked: [UInt64] = []
            var untracked: [UInt64] = []
            let mask = UInt64((64 << 20) - 8)
            for _ in 0..<5 {
                var start = nowNanoseconds()
                var offset: UInt64 = 0
                for index in 0..<UInt64(stores) {
                    offset = (offset &+ 4104) & mask
                    space.store(index, at: offset)
                }
                tracked.append(nowNanoseconds() - start)
                start = nowNanoseconds()
                for index in 0..<UInt64(stores) {
                    offset = (offset &+ 4104) & mask
                    raw.storeBytes(of: index, toByteOffset: Int(offset), as: UInt64.self)
                }
                untracked.append(nowNanoseconds() - start)
            }
            let perTracked = Double(median(tracked)) / Double(stores)
            let perRaw = Double(median(untracked)) / Double(stores)
            print("| 8-byte store, scattered over 64 MiB | with dirty tracking + bounds check: \(String(format: "%.2f", perTracked)) ns | raw store: \(String(format: "%.2f", perRaw)) ns | ratio \(String(format: "%.2f", perTracked / perRaw)) |")
        }
    }
}

/// A new image `name` in `directory` (replacing one left by an earlier run) and its space.
func freshSpace(in directory: URL, name: String, limitBytes: UInt64, retention: Int) throws -> (path: String, space: ObjectSpace) {
    let path = directory.appendingPathComponent(name).path
    try? FileManager.default.removeItem(atPath: path)
    let store = try ImageFile.create(at: path, options: .init(retention: retention), replacing: nil)
    return (path, try ObjectSpace(store: store, options: .init(limitBytes: limitBytes)))
}

func median(_ values: [UInt64]) -> UInt64 { percentile(values, 50) }

extension CaptureMode {
    /// As the benchmark tables name it.
    var label: String { self == .copyOnWrite ? "copy-on-write" : "stop-and-copy" }
}

func percentile(_ values: [UInt64], _ percent: Int) -> UInt64 {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let index = min(sorted.count - 1, Int((Double(percent) / 100 * Double(sorted.count - 1)).rounded()))
    return sorted[index]
}

func micro(_ nanoseconds: UInt64) -> String { String(format: "%.0f µs", Double(nanoseconds) / 1e3) }
func milli(_ nanoseconds: UInt64) -> String { String(format: "%.1f ms", Double(nanoseconds) / 1e6) }


/// The reference for commits: write `bytes` sequentially in 1 MiB chunks over
/// an existing file, then fdatasync. Returns nanoseconds.
func sequentialWrite(path: String, bytes: Int) throws -> UInt64 {
    let descriptor = open(path, O_RDWR | O_CREAT, 0o644)
    guard descriptor >= 0 else { throw ValidationError("cannot open \(path)") }
    defer { close(descriptor) }
    let chunk = [UInt8](repeating: 0x5A, count: 1 << 20)
    let start = nowNanoseconds()
    var written = 0
    while written < bytes {
        let count = min(chunk.count, bytes - written)
        let result = chunk.withUnsafeBytes { pwrite(descriptor, $0.baseAddress!, count, off_t(written)) }
        guard result > 0 else { throw ValidationError("write failed") }
        written += result
    }
    fdatasync(descriptor)
    return nowNanoseconds() - start
}

func dropPageCache() throws {
    sync()
    guard let handle = FileHandle(forWritingAtPath: "/proc/sys/vm/drop_caches") else {
        throw ValidationError("--cold needs root (writing /proc/sys/vm/drop_caches)")
    }
    handle.write(Data("3\n".utf8))
    try handle.close()
}

func sequentialRead(path: String) throws -> UInt64 {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { throw ValidationError("cannot open \(path)") }
    defer { close(descriptor) }
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    let start = nowNanoseconds()
    var offset = 0
    while true {
        let result = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, $0.count, off_t(offset)) }
        if result <= 0 { break }
        offset += result
    }
    return nowNanoseconds() - start
}

/// Median latency of one 4 KiB write + fdatasync.
func flushLatency(path: String) throws -> UInt64 {
    let descriptor = open(path, O_RDWR | O_CREAT, 0o644)
    guard descriptor >= 0 else { throw ValidationError("cannot open \(path)") }
    defer { close(descriptor); unlink(path) }
    let block = [UInt8](repeating: 1, count: 4096)
    var times: [UInt64] = []
    for index in 0..<50 {
        let start = nowNanoseconds()
        _ = block.withUnsafeBytes { pwrite(descriptor, $0.baseAddress!, 4096, off_t(index % 8) * 4096) }
        fdatasync(descriptor)
        times.append(nowNanoseconds() - start)
    }
    return median(times)
}

/// A WASI program run in-process for the benchmarks as a system with one
/// child (the kernel's one path for running programs), its output captured.
final class BenchProgram: @unchecked Sendable {
    // @unchecked: `kernel` and `space` are set once; the sink locks itself.
    let space: ObjectSpace
    let kernel: Kernel
    private let sink = OutputSink()

    /// What the program wrote; the output callback may run on a worker thread.
    final class OutputSink: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        func append(_ bytes: [UInt8]) { lock.lock(); text += String(decoding: bytes, as: UTF8.self); lock.unlock() }
        var contents: String { lock.lock(); defer { lock.unlock() }; return text }
    }

    init(module path: String, arguments: [String], image: String) throws {
        try? FileManager.default.removeItem(atPath: image)
        let store = try ImageFile.create(at: image, options: .init(retention: 2), replacing: nil)
        space = try ObjectSpace(store: store)
        var io = WASIHostIO.standard
        let sink = sink
        io.output = { _, bytes in
            sink.append(bytes)
            return .success
        }
        let program = URL(fileURLWithPath: path).standardizedFileURL
        let config = ProgramSession.systemConfig(name: program.lastPathComponent, binary: program.lastPathComponent,
                                                 arguments: arguments, environment: [], ram: 4 << 30)
        kernel = try Kernel.boot(space: space, configText: config, configSource: "bench", options: .init(
            romDirectory: program.deletingLastPathComponent().path, fileSystemRoot: image + ".files", stdio: .host(io)),
            log: KernelLog(writer: nil))
    }

    /// Runs the program until it ends or `stop` says so; its final state.
    func run(stop: () -> Bool) -> ComponentSummary.State? {
        kernel.run()
        kernel.waitUntilAllEnded(stop: stop)
        kernel.stop()
        return kernel.componentSummaries.first?.state
    }

    var output: String { sink.contents }
}

extension Bench {
    /// Snapshots of a running WebAssembly program: the pause with a large
    /// linear memory of which a part is dirty, and what snapshots cost the
    /// program's run time.
    struct Wasm: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "wasm",
            abstract: "Snapshot pause of a running Wasm program, and run-time overhead of snapshots.")
        @OptionGroup var place: Place
        @Option(help: "Directory holding the .wasm fixtures.") var programs = "Programs/wasm"
        @Option(help: "Runs per overhead configuration.") var runs = 3

        func validate() throws { try checkRange("--runs", runs, 1...1_000) }

        func run() throws {
            let directory = try place.make()
            defer { place.cleanUp(directory) }
            try pause(directory: directory)
            try overhead(directory: directory)
        }

        /// dirtier: 64 MiB of linear memory, 4 MiB rewritten continuously.
        func pause(directory: URL) throws {
            let program = try BenchProgram(module: "\(programs)/c/dirtier.wasm", arguments: ["64", "4"],
                                           image: directory.appendingPathComponent("dirtier.img").path)
            let stop = StopFlag()
            let done = DispatchSemaphore(value: 0)
            Thread {
                _ = program.run { stop.isSet }
                done.signal()
            }.start()
            while !program.output.contains("ready") { usleep(10_000) }
            _ = try program.space.snapshot() // the 64 MiB first touch
            // Both captures, taking turns, on the same running program.
            var pauses: [CaptureMode: [UInt64]] = [:]
            var pages: [CaptureMode: [Int]] = [:]
            for round in 0..<120 {
                let mode: CaptureMode = round % 2 == 0 ? .stopAndCopy : .copyOnWrite
                program.space.captureMode = mode
                usleep(20_000)
                let result = try program.space.snapshot()
                pauses[mode, default: []].append(result.pauseNanoseconds)
                pages[mode, default: []].append(result.pages)
            }
            stop.set()
            done.wait()
            for mode in [CaptureMode.stopAndCopy, .copyOnWrite] {
                let modePauses = pauses[mode] ?? []
                print("| running Wasm program, 64 MiB linear memory, 4 MiB rewritten continuously, snapshot every 20 ms, \(mode.label) | \(median((pages[mode] ?? []).map(UInt64.init))) pages captured (median) | pause p50 \(micro(percentile(modePauses, 50))) | p99 \(micro(percentile(modePauses, 99))) |")
            }
        }

        /// coremark_like with snapshots off, once per second, 100 per second —
        /// interleaved run by run, so that drift in the machine's load hits
        /// every configuration alike.
        func overhead(directory: URL) throws {
            let configurations: [(String, UInt64)] = [("no snapshots", 0), ("1 snapshot/s", 1_000_000_000), ("100 snapshots/s", 10_000_000)]
            var times = Array(repeating: [UInt64](), count: configurations.count)
            for run in 0..<runs {
                for (index, (_, period)) in configurations.enumerated() {
                    let program = try BenchProgram(module: "\(programs)/bench/coremark_like.wasm", arguments: ["2000"],
                                                   image: directory.appendingPathComponent("overhead-\(run)-\(index).img").path)
                    let finished = StopFlag()
                    if period > 0 {
                        Thread {
                            while !finished.isSet {
                                usleep(UInt32(period / 1000))
                                if !finished.isSet { _ = try? program.space.snapshot() }
                            }
                        }.start()
                    }
                    let start = nowNanoseconds()
                    let outcome = program.run { false }
                    times[index].append(nowNanoseconds() - start)
                    finished.set()
                    program.space.waitForCommits()
                    guard outcome == .exited(code: 0) else { throw ValidationError("coremark_like ended with \(outcome)") }
                }
            }
            let base = Double(median(times[0]))
            for (index, (label, _)) in configurations.enumerated() {
                let time = median(times[index])
                print("| coremark_like 2000, \(label) | \(milli(time)) | \(String(format: "%+.1f%%", (Double(time) / base - 1) * 100)) |")
            }
        }
    }
}

final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}

/// Refuses a numeric option outside `range` with a message naming it, instead
/// of letting a negative count reach a `0..<n` range (a trap).
func checkRange(_ option: String, _ value: Int, _ range: ClosedRange<Int>) throws {
    guard range.contains(value) else {
        throw ValidationError("\(option) must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
    }
}
