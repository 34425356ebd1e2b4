/// `.internal.boot`, the object the boot class's `startup` (method 8)
/// receives (Phantom's `syscall_table_4_boot`): load classes, print to the
/// console, start threads, the kernel environment.
enum BootMethods {
    static let table: [Int: NativeMethod] = [
        UniversalOrdinal.toString: { call throws(Interruption) in try call.makeString("bootstrap") },
        8: { call throws(Interruption) in  // loadClass(name)
            let name = try call.string(0)
            do throws(VMError) { return try call.vm.classes.lookup(name) } catch {
                switch error {
                case .classNotFound, .invalidClass:
                    call.vm.note("class load error: \(error)")
                    throw call.fail("\(VirtualMachine.excerpt(name)) - class load error")
                default: throw .fault(error)
                }
            }
        },
        16: { call throws(Interruption) in  // print(objects…): Phantom prints the last argument first
            for argument in call.arguments.reversed() {
                call.charge(bytes: call.heap.kind(of: argument) == .string ? call.heap.dataSize(of: argument) : 0)
                call.vm.write(call.vm.printable(argument))
            }
            return .null
        },
        17: { call throws(Interruption) in  // setClassLoader(object)
            call.heap.setRef(call.heap.root, RootLayout.classLoader, try call.argument(0))
            return .null
        },
        18: { call throws(Interruption) in  // startThread(object): runs object.method8(boot)
            let target = try call.argument(0)
            guard !target.isNull else { throw call.fail("startThread: null") }
            _ = try call.vm.startThread(calling: UniversalOrdinal.defaultOperation1, on: target, argument: call.this)
            return .null
        },
        19: { call throws(Interruption) in  // createBinary(size)
            let size = Int(try call.int(0))
            guard size >= 0, size <= call.heap.maximumDataSize else { throw call.fail("createBinary: bad size \(size)") }
            call.charge(bytes: size)
            return try call.make { () throws(VMError) in
                try call.heap.allocate(kind: .binary, class: call.heap.rootClass(RootLayout.binaryClass), dataSize: size)
            }
        },
        20: { _ throws(Interruption) in .null },  // setScreenBackground: we have no screen
        21: { call throws(Interruption) in  // sleep(milliseconds): really waits (Phantom's only logs)
            try sleep(call, milliseconds: Int64(try call.int(0)))
            return .null
        },
        22: { call throws(Interruption) in  // setOsInterface(object)
            call.heap.setRef(call.heap.root, RootLayout.osEntry, try call.argument(0))
            return .null
        },
        23: { call throws(Interruption) in call.heap.ref(call.heap.root, RootLayout.kernelEnvironment) },
        24: { call throws(Interruption) in throw call.fail("reboot is not supported") },
    ]

    /// A restartable sleep: the wake-up time is stored in the thread, so the
    /// re-executed `sys` (next slice, or after a restart) completes once it
    /// has passed, and a restored thread sleeps out the rest of its time.
    static func sleep(_ call: NativeCall, milliseconds: Int64) throws(Interruption) {
        let heap = call.heap
        let wake = heap.word(call.thread, ThreadLayout.wakeTime)
        let now = call.vm.clock()
        if wake != 0 {
            if now >= wake {
                heap.setWord(call.thread, ThreadLayout.wakeTime, 0)
                return
            }
        } else {
            guard milliseconds > 0 else { return }
            heap.setWord(call.thread, ThreadLayout.wakeTime, now &+ UInt64(milliseconds) * 1_000_000)
        }
        heap.setWord(call.thread, ThreadLayout.state, ThreadState.sleeping.rawValue)
        throw call.block()
    }
}

/// `.internal.io.tty`: text output to the console (our LOG); window
/// operations do nothing, as we have no screen.
enum TtyMethods {
    static let table: [Int: NativeMethod] = [
        UniversalOrdinal.toString: { call throws(Interruption) in try call.makeString("tty window") },
        16: { call throws(Interruption) in throw call.fail("getwc: there is no keyboard") },
        17: { call throws(Interruption) in  // putws(string)
            call.vm.write(String(decoding: (try call.stringBytes(0)).prefix(1024), as: UTF8.self))
            return .null
        },
        18: { call throws(Interruption) in  // debug(object)
            call.vm.write(call.vm.describe(try call.argument(0)) + "\n")
            return .null
        },
        19: { _ throws(Interruption) in .null },  // gotoxy
        20: { _ throws(Interruption) in .null },  // clear
        21: { _ throws(Interruption) in .null },  // setcolor
        22: { call throws(Interruption) in throw call.fail("not implemented") },
        23: { call throws(Interruption) in throw call.fail("not implemented") },
        24: { _ throws(Interruption) in .null },  // moveWindow
        25: { _ throws(Interruption) in .null },  // setTitle
    ]
}
