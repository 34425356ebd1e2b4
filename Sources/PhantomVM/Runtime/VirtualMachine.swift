import Foundation
import PhantomSpace

/// One Phantom VM on an object space: its heap (found through the space's
/// root table, made on a fresh space), its classes, its threads.
///
/// On a fresh space `boot` runs the boot class's `startup` (method 8) with a
/// `.internal.boot` object, once; after a restart boot never runs again and
/// the threads in the thread list continue where the snapshot left them
/// (Phantom's `pvm_root_init` and `activate_all_threads`).
///
/// Not thread-safe: its owner runs it on one OS thread at a time (the
/// `phantom pvm run` loop, a kernel worker). Snapshots are taken between
/// `runRound` calls, when every thread's registers are in its frame.
public final class VirtualMachine {
    public let heap: Heap
    var classes: ClassTable!
    var natives: NativeMethods!
    var interpreter: Interpreter!
    var collector: Collector!
    /// Where classes not yet in the space are loaded from.
    public var classSource: ClassSource?
    /// Console output (boot's print, the tty, uncaught exceptions): raw text,
    /// the program supplies its own line ends.
    public var output: (String) -> Void
    /// The VM's own notes (a class that failed to load): one line each.
    public var diagnostics: (String) -> Void
    /// Wall-clock nanoseconds since 1970, for sleeps and `time`. Tests pass
    /// a virtual clock.
    public var clock: () -> UInt64
    /// Told about every collection (for `--verbose`).
    public var onCollection: ((CollectionStatistics) -> Void)?
    /// Objects a collection step marks or sweeps before the VM runs on
    /// (plus twice what was allocated since the last step): about half a
    /// millisecond, less than a snapshot's pause (`phantom bench pvm`).
    public var collectionStepBudget = 2_000
    /// Allocation (bytes) between two collections.
    /// 0: a cycle whenever anything was allocated, and a whole collection
    /// whenever a heap is resumed (a check of an image's garbage).
    public var collectionThreshold: UInt64 = 64 << 20
    /// Zero-count table entries that make a reclamation due between two
    /// rounds (ReferenceCounting.swift). Each reclamation scans every
    /// thread's stacks, so it runs on a batch rather than per object.
    public var zeroCountThreshold = 4_096
    /// Objects one reclamation between two rounds frees at most (about a
    /// collector step's time); what is left is freed in the next rounds.
    public var reclamationBudget = VirtualMachine.defaultReclamationBudget
    public static let defaultReclamationBudget = 4_000
    /// Entries the last reclamation kept (held by stacks).
    var zeroCountBaseline = 0
    /// The last reclamation ran out of budget.
    var reclamationPending = false
    /// Rounds after which any growth of the zero-count table is reclaimed.
    public var reclamationInterval = 64
    var roundsSinceReclamation = 0
    /// What reference counting freed since this process started.
    public internal(set) var reclaimed = ReclamationStatistics()
    /// Set when the heap was restored: see `runRound`.
    var collectWholeOnResume = false
    /// Whether this process made the heap (a fresh space) rather than restoring it.
    public let isNewHeap: Bool

    /// Where the heap's root object is recorded.
    public enum HeapAnchor: Sendable {
        /// In the space's root table (`phantom pvm run`: one VM per image).
        case spaceRoot(Int)
        /// Recorded by the owner itself (a kernel component keeps it in its
        /// component record, so that a system runs several VMs); 0 makes a new heap.
        case object(UInt64)
    }

    public let anchor: HeapAnchor

    /// The root object's offset, for an owner that records it (`HeapAnchor.object`).
    public var rootOffset: UInt64 { heap.root.offset }

    public init(space: ObjectSpace, anchor: HeapAnchor = .spaceRoot(PVMRoots.heap), classSource: ClassSource? = nil,
                output: @escaping (String) -> Void = { print($0, terminator: "") },
                diagnostics: @escaping (String) -> Void = { _ in },
                clock: @escaping () -> UInt64 = VirtualMachine.wallClock) throws(VMError) {
        heap = Heap(space: space)
        self.classSource = classSource
        self.output = output
        self.diagnostics = diagnostics
        self.clock = clock
        self.anchor = anchor
        let rootOffset: UInt64
        switch anchor {
        case let .spaceRoot(slot): rootOffset = space.root(slot)
        case let .object(offset): rootOffset = offset
        }
        isNewHeap = rootOffset == 0
        classes = ClassTable(vm: self)
        natives = NativeMethods(vm: self)
        interpreter = Interpreter(vm: self)
        collector = Collector(vm: self)
        if isNewHeap {
            try createHeap()
        } else {
            try openHeap(ObjectRef(rootOffset))
            heap.rebuildZeroCountTable()
            collectWholeOnResume = true
        }
        classes.index()
    }

    public static func wallClock() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    private func createHeap() throws(VMError) {
        let root = try heap.allocate(kind: .root, class: .null, dataSize: RootLayout.wordCount * 8, refWords: RootLayout.phantomSlotCount)
        heap.root = root
        heap.setRootWord(RootLayout.magic, RootLayout.magicValue)
        try classes.createInternalClasses()
        for slot in [RootLayout.threadList, RootLayout.restartList, RootLayout.classDirectory, RootLayout.kernelEnvironment] {
            heap.setRef(root, slot, try heap.makeArray())
        }
        for entry in ["root.shell=.ru.dz.phantom.system.shell", "root.init=.ru.dz.phantom.system.init",
                      "root.boot=.ru.dz.phantom.system.boot"] {
            try heap.appendToArray(heap.ref(root, RootLayout.kernelEnvironment), try heap.makeString(entry))
        }
        if case let .spaceRoot(slot) = anchor { heap.space.setRoot(slot, root.offset) }
    }

    /// Checks what a restored heap must be before anything trusts it.
    private func openHeap(_ root: ObjectRef) throws(VMError) {
        guard heap.space.contains(root.offset, count: ObjectHeader.size + UInt64(RootLayout.wordCount * 8)) else {
            throw VMError.notAPhantomHeap("the root offset \(root.offset) is outside the space")
        }
        // The first format had 32-byte headers: its magic is elsewhere.
        let firstFormatMagic = root.offset + 32 + UInt64(RootLayout.magic) * 8
        if heap.space.contains(firstFormatMagic, count: 8),
           heap.space.load(UInt64.self, at: firstFormatMagic) == RootLayout.firstFormatMagicValue {
            throw VMError.notAPhantomHeap("\(RecordVersionError(version: RootLayout.version, found: 1))")
        }
        guard heap.kind(of: root) == .root, heap.dataSize(of: root) == RootLayout.wordCount * 8 else {
            throw VMError.notAPhantomHeap("the object at \(root.offset) is not a Phantom VM root")
        }
        heap.root = root
        let magic = heap.rootWord(RootLayout.magic)
        guard let found = RootLayout.formatVersion(magic) else {
            throw VMError.notAPhantomHeap("the root's format word is \(RootLayout.formatName(magic)), not PHPVMnnn")
        }
        do { _ = try RootLayout.version.check(found) } catch { throw VMError.notAPhantomHeap("\(error)") }
        for builtin in InternalClass.allCases where heap.kind(of: heap.rootClass(builtin.rootSlot)) != .class {
            throw VMError.notAPhantomHeap("root slot \(builtin.rootSlot) (\(builtin.name)) holds no class")
        }
        try processRestartList()
    }

    /// Phantom's `process_generic_restarts`: a fresh list replaces the old
    /// one and each object on the old list gets its restart callback, which
    /// rebuilds transient state and may put the object back on the list.
    /// Our internal objects keep no host state (the console is the VM's, a
    /// sleep's wake-up time is stored), so the callbacks have nothing to do yet.
    private func processRestartList() throws(VMError) {
        let old = heap.ref(heap.root, RootLayout.restartList)
        heap.setRef(heap.root, RootLayout.restartList, try heap.makeArray())
        for index in 0..<heap.arrayCount(old) {
            guard let object = heap.arrayElement(old, index), !object.isNull else { continue }
            try heap.appendToArray(heap.ref(heap.root, RootLayout.restartList), object)
        }
    }

    // MARK: Boot

    /// Whether boot has been started on this heap (it never runs twice).
    public var hasBooted: Bool { heap.rootWord(RootLayout.bootDone) != 0 }

    /// Starts the boot class's `startup(boot object)` (method 8) in a new
    /// thread. Threads it starts run once it has finished, as in Phantom,
    /// where boot runs to completion before `activate_all_threads`.
    public func boot(className: String = ".ru.dz.phantom.system.boot") throws(VMError) {
        guard !hasBooted else { return }
        let bootClass = try classes.lookup(className)
        let instance = try classes.instantiate(bootClass)
        let bootObject = try classes.instantiate(heap.rootClass(RootLayout.bootClass))
        let thread = try makeThread(calling: UniversalOrdinal.defaultOperation1, on: instance, argument: bootObject)
        heap.setRootWord(RootLayout.bootDone, 1)
        heap.setRef(heap.root, RootLayout.bootThread, thread)
    }

    // MARK: Threads

    /// A new runnable thread whose first frame calls `target.method(ordinal)(argument)`.
    func makeThread(calling ordinal: Int, on target: ObjectRef, argument: ObjectRef) throws(VMError) -> ObjectRef {
        let code = try interpreterMethod(ordinal, of: target)
        let thread = try heap.allocate(kind: .thread, class: heap.rootClass(RootLayout.threadClass),
                                       dataSize: ThreadLayout.wordCount * 8, refWords: ThreadLayout.refWords)
        let threads = heap.ref(heap.root, RootLayout.threadList)
        heap.setRootWord(RootLayout.nextThreadID, heap.rootWord(RootLayout.nextThreadID) + 1)
        heap.setWord(thread, ThreadLayout.id, heap.rootWord(RootLayout.nextThreadID))
        heap.setRef(thread, ThreadLayout.argument, argument)
        let frame = try FrameBuilder.make(heap: heap, this: target, code: code, arguments: [argument], caller: .null, depth: 0, ordinal: ordinal)
        heap.setRef(thread, ThreadLayout.frame, frame)
        try heap.appendToArray(threads, thread)
        return thread
    }

    /// `startThread` from a program (boot's, world's).
    func startThread(calling ordinal: Int, on target: ObjectRef, argument: ObjectRef) throws(Interruption) -> ObjectRef {
        do { return try makeThread(calling: ordinal, on: target, argument: argument) } catch {
            if case .outOfSpace = error { throw .fault(error) }
            let message: ObjectRef
            do { message = try heap.makeString("startThread: \(error)") } catch { throw .fault(error) }
            throw .exception(message)
        }
    }

    private func interpreterMethod(_ ordinal: Int, of target: ObjectRef) throws(VMError) -> ObjectRef {
        var current = heap.classOf(target)
        while heap.kind(of: current) == .class {
            let methods = heap.ref(current, ClassLayout.methods)
            if !methods.isNull, ordinal < heap.slotCount(methods), !heap.ref(methods, ordinal).isNull { return heap.ref(methods, ordinal) }
            current = heap.ref(current, ClassLayout.parent)
        }
        throw VMError.invalidClass("\(classes.name(of: heap.classOf(target))) has no method \(ordinal)")
    }

    /// Makes a waiting thread runnable (its `sys` then re-executes).
    func wake(_ thread: ObjectRef) {
        heap.setRef(thread, ThreadLayout.waitsFor, .null)
        heap.setWord(thread, ThreadLayout.state, ThreadState.runnable.rawValue)
    }

    /// The threads of the thread list, oldest first.
    public var threads: [ObjectRef] {
        let list = heap.ref(heap.root, RootLayout.threadList)
        return (0..<heap.arrayCount(list)).compactMap { heap.arrayElement(list, $0) }
    }

    public func state(of thread: ObjectRef) -> ThreadState {
        ThreadState(rawValue: heap.word(thread, ThreadLayout.state)) ?? .failed
    }

    // MARK: Text

    func write(_ text: String) { output(text) }
    func note(_ text: String) { diagnostics(text) }

    /// What `toString` of the void class gives: a class's name for an
    /// instance of a loaded class (Phantom prints "(void)"), the fixed text
    /// of an internal object.
    func text(of object: ObjectRef) -> String {
        guard !object.isNull else { return "null" }
        if let text = heap.string(object) { return text }
        if heap.kind(of: object) == .int || heap.kind(of: object) == .long || heap.kind(of: object) == .float || heap.kind(of: object) == .double {
            return NumberMethods.text(heap, object)
        }
        if let builtin = classes.internalClass(of: heap.classOf(object)), let fixed = builtin.fixedText,
           heap.word(heap.classOf(object), ClassLayout.internalKind) != 0 {
            return fixed
        }
        return heap.kind(of: object) == .instance && classes.internalClass(of: heap.classOf(object)) == .void
            && heap.word(heap.classOf(object), ClassLayout.internalKind) == 0 ? classes.name(of: heap.classOf(object)) : "(void)"
    }

    /// How `print` shows an object: strings and numbers as themselves.
    func printable(_ object: ObjectRef) -> String { text(of: object) }

    /// A value described for an error message.
    public func describe(_ object: ObjectRef) -> String {
        guard !object.isNull else { return "null" }
        guard let kind = heap.kind(of: object) else { return "a corrupt object \(object)" }
        switch kind {
        case .string:
            let size = heap.dataSize(of: object)
            let shown = heap.space.read(at: heap.dataOffset(object), count: min(size, Self.quotedBytes))
            return "string \"\(String(decoding: shown, as: UTF8.self))\"" + (size > Self.quotedBytes ? "… (\(size) bytes)" : "")
        case .int, .long, .float, .double: return "\(kind) \(NumberMethods.text(heap, object))"
        case .class: return "class \(classes.name(of: object))"
        default: return "an object of class \(classes.name(of: heap.classOf(object)))"
        }
    }

    /// How much of a program's string an error message quotes. A message is
    /// a string the program can catch and make fail again: quoting it whole,
    /// each message would hold the last, and a loop of such failures (the
    /// fuzzer's: `o2i` on the caught message, over and over) made strings
    /// growing by a line each time — quadratic time and space, a full space.
    static let quotedBytes = 64

    /// A program's text (a method or class name it gave) as an error message
    /// quotes it: at most `quotedBytes` bytes.
    static func excerpt(_ text: String) -> String {
        text.utf8.count <= quotedBytes ? text : String(decoding: text.utf8.prefix(quotedBytes), as: UTF8.self) + "… (\(text.utf8.count) bytes)"
    }

    /// The text an uncaught exception is reported with.
    func exceptionText(_ thrown: ObjectRef) -> String {
        if let text = heap.string(thrown) { return text }
        return describe(thrown)
    }
}

/// Builds call frames: the one place that knows how a frame starts (its
/// arguments in object slots 0…n−1 in order, n on its integer stack).
enum FrameBuilder {
    static func make(heap: Heap, this: ObjectRef, code: ObjectRef, arguments: [ObjectRef], caller: ObjectRef,
                     depth: Int, ordinal: Int) throws(VMError) -> ObjectRef {
        let frame = try heap.allocateOwned(kind: .callFrame, class: heap.rootClass(RootLayout.callFrameClass),
                                           dataSize: FrameLayout.wordCount * 8, refWords: FrameLayout.refWords)
        let objectCapacity = max(16, arguments.count + 8)
        let objects = try heap.allocateOwned(kind: .objectStack, class: heap.rootClass(RootLayout.objectStackClass),
                                             dataSize: objectCapacity * 8, refWords: objectCapacity)
        let integers = try heap.allocateOwned(kind: .integerStack, class: heap.rootClass(RootLayout.integerStackClass),
                                              dataSize: 16 * 4, refWords: 0)
        for (slot, argument) in arguments.enumerated() { heap.setOwnedWord(objects, slot, argument.offset) }
        heap.space.store(UInt32(arguments.count), at: heap.dataOffset(integers))
        heap.setOwnedWord(frame, FrameLayout.this, this.offset)
        heap.setOwnedWord(frame, FrameLayout.code, code.offset)
        heap.setOwnedWord(frame, FrameLayout.caller, caller.offset)
        heap.setOwnedWord(frame, FrameLayout.objectStack, objects.offset)
        heap.setOwnedWord(frame, FrameLayout.integerStack, integers.offset)
        heap.setOwnedWord(frame, FrameLayout.objectDepth, UInt64(arguments.count))
        heap.setOwnedWord(frame, FrameLayout.integerDepth, 1)
        heap.setOwnedWord(frame, FrameLayout.ordinal, UInt64(ordinal))
        heap.setOwnedWord(frame, FrameLayout.depth, UInt64(depth))
        return frame
    }
}
