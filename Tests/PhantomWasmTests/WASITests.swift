import Foundation
import Testing
import PhantomSpace
@testable import PhantomWasm

@Suite struct WASIBasicTests {
    @Test func resolvesEveryPreview1NameAndNothingElse() throws {
        let h = try WASIHarness()
        #expect(WASI.functionNames.count == 46)
        for name in WASI.functionNames { #expect(h.wasi.resolve(module: WASI.moduleName, name: name) != nil) }
        #expect(h.wasi.resolve(module: WASI.moduleName, name: "no_such_call") == nil)
        #expect(h.wasi.resolve(module: "env", name: "fd_write") == nil)
        let write = h.function("fd_write")
        #expect(write.parameters == [.i32, .i32, .i32, .i32] && write.results == [.i32])
        #expect(h.function("clock_time_get").parameters == [.i32, .i64, .i32])
        #expect(h.function("path_open").parameters == [.i32, .i32, .i32, .i32, .i32, .i64, .i64, .i32, .i32])
        #expect(h.function("proc_exit").results == [])
    }

    @Test func everyImportOfTheTestProgramsResolves() throws {
        let h = try WASIHarness()
        // What Programs/wasm/**.wasm import (see Programs/README.md).
        let imported = ["args_get", "args_sizes_get", "environ_get", "environ_sizes_get", "clock_time_get", "fd_write",
                        "poll_oneoff", "proc_exit", "fd_close", "fd_fdstat_get", "fd_prestat_get", "fd_prestat_dir_name",
                        "fd_read", "fd_readdir", "fd_sync", "path_create_directory", "path_filestat_get", "path_open",
                        "path_remove_directory", "path_rename", "path_unlink_file", "fd_filestat_set_size", "fd_seek"]
        for name in imported {
            #expect(h.wasi.resolve(module: WASI.moduleName, name: name) != nil, "\(name)")
            #expect(!WASI.unsupported.contains(name), "\(name)")
        }
    }

    @Test func unsupportedCallsReturnENOSYS() throws {
        let h = try WASIHarness()
        for name in WASI.unsupported {
            let arguments = [UInt64](repeating: 0, count: h.function(name).parameters.count)
            #expect(h.errno(name, arguments) == .nosys, "\(name)")
        }
    }

    @Test func argsAndEnvironLayout() throws {
        let h = try WASIHarness(args: ["prog", "one", "zwei drei"], environment: ["A=1", "PHANTOM_X=yes"])
        #expect(h.errno("args_sizes_get", [100, 104]) == .success)
        #expect(h.memory.u32(100) == 3)
        #expect(h.memory.u32(104) == UInt32("prog\0one\0zwei drei\0".utf8.count))
        #expect(h.errno("args_get", [200, 300]) == .success)
        #expect(h.memory.u32(200) == 300 && h.memory.u32(204) == 305 && h.memory.u32(208) == 309)
        #expect(h.memory.string(at: 300, count: 19) == "prog\0one\0zwei drei\0")

        #expect(h.errno("environ_sizes_get", [100, 104]) == .success)
        #expect(h.memory.u32(100) == 2 && h.memory.u32(104) == 18)
        #expect(h.errno("environ_get", [400, 500]) == .success)
        #expect(h.memory.u32(400) == 500 && h.memory.u32(404) == 504)
        #expect(h.memory.string(at: 504, count: 14) == "PHANTOM_X=yes\0")
    }

    @Test func emptyArgsAndEnviron() throws {
        let h = try WASIHarness(args: [], environment: [])
        h.memory.setU32(99, 100)
        #expect(h.errno("environ_sizes_get", [100, 104]) == .success)
        #expect(h.memory.u32(100) == 0 && h.memory.u32(104) == 0)
        #expect(h.errno("environ_get", [400, 500]) == .success)
    }

    @Test func argsSurviveARestart() throws {
        let h = try WASIHarness(args: ["prog", "persisted"], environment: ["K=V"])
        try h.restart()
        #expect(h.errno("args_get", [200, 300]) == .success)
        #expect(h.memory.string(at: 300, count: 15) == "prog\0persisted\0")
        #expect(h.errno("environ_get", [200, 300]) == .success)
        #expect(h.memory.string(at: 300, count: 4) == "K=V\0")
    }

    @Test func clocks() throws {
        let h = try WASIHarness()
        let before = UInt64(Date().timeIntervalSince1970 * 1e9)
        #expect(h.errno("clock_time_get", [0, 1, 100]) == .success)
        let realtime = h.memory.u64(100)
        #expect(realtime >= before - 1_000_000 && realtime < before + 5_000_000_000)

        #expect(h.errno("clock_time_get", [1, 1, 100]) == .success)
        let m1 = h.memory.u64(100)
        Thread.sleep(forTimeInterval: 0.01)
        #expect(h.errno("clock_time_get", [1, 1, 100]) == .success)
        let m2 = h.memory.u64(100)
        #expect(m2 >= m1 + 10_000_000)
        #expect(h.errno("clock_time_get", [2, 1, 100]) == .success)
        #expect(h.errno("clock_time_get", [9, 1, 100]) == .inval)
        #expect(h.errno("clock_res_get", [1, 100]) == .success)
        #expect(h.memory.u64(100) >= 1)
        #expect(h.errno("clock_res_get", [7, 100]) == .inval)
    }

    @Test func monotonicNeverGoesBackwardsAcrossRestartsAndCountsDowntime() throws {
        let h = try WASIHarness()
        var last: UInt64 = 0
        for _ in 0..<3 {
            #expect(h.errno("clock_time_get", [1, 1, 100]) == .success)
            let before = h.memory.u64(100)
            #expect(before >= last)
            try h.restart()
            Thread.sleep(forTimeInterval: 0.02)
            #expect(h.errno("clock_time_get", [1, 1, 100]) == .success)
            last = h.memory.u64(100)
            #expect(last >= before + 20_000_000, "the downtime counts on the monotonic clock")
        }
    }

    @Test func randomGet() throws {
        let h = try WASIHarness()
        #expect(h.errno("random_get", [1000, 64]) == .success)
        #expect(try h.memory.read(at: 1000, count: 64).contains { $0 != 0 })
        #expect(h.errno("random_get", [65530, 64]) == .fault)
    }

    @Test func fdWriteGoesToTheSink() throws {
        let h = try WASIHarness()
        h.memory.put("hello ", at: 8192)
        h.memory.put("world\n", at: 9000)
        h.memory.iovec(at: 2000, buffer: 8192, length: 6)
        h.memory.iovec(at: 2008, buffer: 9000, length: 6)
        #expect(h.errno("fd_write", [1, 2000, 2, 3000]) == .success)
        #expect(h.memory.u32(3000) == 12)
        #expect(h.console.stdout == "hello world\n")
        #expect(h.write(2, "oops\n").0 == .success)
        #expect(h.console.stderr == "oops\n")
        #expect(h.write(0, "x").0 == .badf)
        #expect(h.write(42, "x").0 == .badf)
        #expect(h.write(1_000_000, "x").0 == .badf)
        // fd_pwrite on a stream.
        #expect(h.errno("fd_pwrite", [1, 2000, 1, 0, 3000]) == .spipe)
        // Zero iovecs write nothing.
        #expect(h.errno("fd_write", [1, 2000, 0, 3000]) == .success)
        #expect(h.memory.u32(3000) == 0)
    }

    @Test func stdinBlocksUntilDataAndIsReExecutable() throws {
        let h = try WASIHarness()
        h.memory.iovec(at: 2000, buffer: 16384, length: 100)
        let (first, _) = h.call("fd_read", [0, 2000, 1, 3000])
        #expect(first == .block(.readable(hostDescriptor: 0)))
        let (again, _) = h.call("fd_read", [0, 2000, 1, 3000])
        #expect(again == .block(.readable(hostDescriptor: 0)))
        h.console.feed("input line\n")
        #expect(h.read(0, max: 100) == (.success, "input line\n"))
        h.console.closeInput()
        #expect(h.read(0) == (.success, ""))
        #expect(h.read(1).0 == .badf)
    }

    @Test func nonblockingStdinReturnsEAGAIN() throws {
        let h = try WASIHarness()
        #expect(h.errno("fd_fdstat_set_flags", [0, UInt64(WASIFdflags.nonblock)]) == .success)
        #expect(h.read(0).0 == .again)
    }

    @Test func procExitAndSchedYield() throws {
        let h = try WASIHarness()
        #expect(h.call("proc_exit", [3]).0 == .exit(code: 3))
        let (first, pending) = h.call("sched_yield", [])
        #expect(first == .block(.yield))
        #expect(pending != 0)
        let (second, _) = h.call("sched_yield", [], pending: pending)
        #expect(second == .returned([0]))
    }

    @Test func stdioFdstat() throws {
        let h = try WASIHarness()
        #expect(h.errno("fd_fdstat_get", [1, 100]) == .success)
        #expect(try h.memory.read(at: 100, count: 1) == [WASIFiletype.characterDevice.rawValue])
        #expect(h.memory.u64(108) & WASIRights.fdWrite != 0)
        #expect(h.errno("fd_prestat_get", [1, 100]) == .badf)
        #expect(h.errno("fd_seek", [1, 0, 0, 100]) == .spipe)
    }

    @Test func badPointersAreEFAULT() throws {
        let h = try WASIHarness(args: ["prog", "arg"])
        let end: UInt64 = 65536
        #expect(h.errno("args_sizes_get", [end - 2, 100]) == .fault)
        #expect(h.errno("args_get", [100, end - 3]) == .fault)
        #expect(h.errno("clock_time_get", [0, 0, end - 4]) == .fault)
        #expect(h.errno("clock_time_get", [0, 0, 0xFFFF_FFFF]) == .fault)
        // iovec array out of bounds, iovec buffer out of bounds, result pointer out of bounds.
        #expect(h.errno("fd_write", [1, end - 4, 1, 3000]) == .fault)
        h.memory.iovec(at: 2000, buffer: end - 10, length: 100)
        #expect(h.errno("fd_write", [1, 2000, 1, 3000]) == .fault)
        h.memory.iovec(at: 2000, buffer: 8192, length: 1)
        #expect(h.errno("fd_write", [1, 2000, 1, end]) == .fault)
        #expect(h.console.stdout == "", "nothing written when the result cannot be stored")
        #expect(h.errno("fd_write", [1, 2000, 0x2000_0000, 3000]) == .fault)
        #expect(h.errno("poll_oneoff", [end - 8, 100, 1, 200]) == .fault)
        // No memory at all.
        var context = HostCallContext(memory: nil, pendingCallState: 0)
        #expect(h.function("args_sizes_get").call(&context, [0, 4]) == .returned([UInt64(WASIErrno.fault.rawValue)]))
    }

    @Test func wrongArgumentCountTraps() throws {
        let h = try WASIHarness()
        if case .trap = h.call("fd_write", [1, 2]).0 {} else { Issue.record("expected a trap") }
    }
}
