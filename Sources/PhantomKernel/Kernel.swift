import Foundation
import PhantomEngine
import PhantomSpace
import PhantomStore
import PhantomWasm
import Synchronization

/// Genode's init on the persistent object space: the component tree started
/// from an init config, the sessions between components and services, their
/// quotas, and the scheduler that runs every component's threads.
///
/// The kernel is the parent of every component. A component reaches anything
/// only through a session that the kernel routed for it by its `route` (or the
/// `default-route`), with a label the kernel prefixed with the component's name
/// (DESIGN.md invariant 7). Its tables are written into the object space at
/// every snapshot's cut (`KernelImage`), so after any restart the same tree
/// comes back, every component continuing where the snapshot left it, every
/// blocked call blocking again (invariant 5), and no `start` node started twice.
///
/// Locking: a thread that changes the object space registers as a mutator
/// first and only then takes `lock`; `lock` is never held while waiting for the
/// world (a snapshot's cut takes it to write the tables).
public final class Kernel: @unchecked Sendable {
    // @unchecked: `image`, `components`, `dirty`, `config` and `router` are
    // reached only with `lock` held; the rest is immutable or thread-safe.

    public struct Options: Sendable {
        /// Where `binary` modules and ROM files are found (Genode's ROM service on host files).
        public var romDirectory: String
        /// Host directory the File_system service serves (policies choose sub directories).
        public var fileSystemRoot: String
        public var workers: Int
        public var sliceFuel: Int
        /// Where components' stdio goes: their LOG sessions (the system's log,
        /// `[init -> name] text`), or straight to the host's stdio — `phantom
        /// run`, whose one child's output is the command's output.
        public var stdio: Stdio
        /// Host directories preopened for every child started now (`phantom
        /// run --dir`), beside those its `vfs` config asks of File_system.
        public var hostPreopens: [(host: String, guest: String)]
        public init(romDirectory: String, fileSystemRoot: String, workers: Int = 2, sliceFuel: Int = 20_000,
                    stdio: Stdio = .log, hostPreopens: [(host: String, guest: String)] = []) {
            self.romDirectory = romDirectory
            self.fileSystemRoot = fileSystemRoot
            self.workers = workers
            self.sliceFuel = sliceFuel
            self.stdio = stdio
            self.hostPreopens = hostPreopens
        }
    }

    public enum Stdio: Sendable {
        case log
        case host(WASIHostIO)
    }

    public let space: ObjectSpace
    public let log: KernelLog
    let options: Options
    let scheduler: Scheduler
    let lock = NSLock()
    /// Taken for the whole of a child's RAM change (`applyRamChange`): a
    /// config and the child's answer to a yield request may change one
    /// child's quota at once, and two such changes would both take its
    /// thread out of scheduling — the second returning while the slice
    /// still runs, its memory moved under it — and both schedule it again.
    let ramChanges = NSLock()
    var image: KernelImage
    var components: [UInt64: Component] = [:]
    var config: InitModel
    /// Whether the tables changed since they were last written into the space.
    var dirty = true
    /// Modules by the CRC32C of their binary (`sharedModule`).
    var modules: [UInt32: WasmModule] = [:]
    /// The tables' rows as last encoded (the write at the cut re-encodes only changed rows).
    let tableCache = KernelTableCache()
    /// True once `stop` began: components that end now are not reported.
    var stopping = false
    /// Broadcast whenever a component ends (`waitUntilAllEnded`).
    let ends = NSCondition()
    /// Wakes the state reporter (on stop).
    let reporterWake = NSCondition()
    /// Wakes the heartbeat monitor (on stop and on a new config).
    let heartbeatWake = NSCondition()
    /// Wakes the nested-init monitor (`Kernel+Scopes.swift`) and the
    /// test-init driver (`TestInit/`).
    let nestedConfigWake = WakeSignal()
    let testInitWake = WakeSignal()
    /// Set once by `stop`; read by background threads without the kernel's lock.
    let stopRequested = Atomic<Bool>(false)
    /// Events to signal once `lock` is released (collected by code that
    /// runs with it held). Lock held.
    var pendingSignals: [KernelEvent] = []
    /// Report contents changed since the last state report (report_rom).
    let services: BuiltinServices

    /// Boots the system an image holds, or — when it holds none — starts the
    /// tree `configText` describes. On a restore the stored config wins over
    /// `configText` unless `replaceConfig` is set (then the stored tree is
    /// reconfigured to it, as `phantom config apply` would).
    public static func boot(space: ObjectSpace, configText: String, configSource: String, options: Options,
                            log: KernelLog) throws -> Kernel {
        let stored = try KernelRecord.load(from: space)
        if stored == nil && space.root(LegacyProgram.rootSlot) != 0 {
            throw KernelError.restore("the image holds a program an earlier `phantom run` stored; continue it with `phantom resume --image IMAGE`, or use another image")
        }
        if stored == nil && space.root(WasmRoots.registry) != 0 {
            throw KernelError.restore("the image holds WebAssembly state but no kernel tables (an image of an older `phantom run`?); use another image or pass --fresh")
        }
        let text = stored?.configText ?? configText
        let model = try InitModel.parse(text, source: stored == nil ? configSource : "the stored config")
        return try boot(space: space, model: model, text: text, stored: stored, options: options, log: log)
    }

    /// Boots from an already parsed config (tests build nodes in code).
    static func boot(space: ObjectSpace, model: InitModel, text: String, stored: KernelImage?, options: Options,
                     log: KernelLog) throws -> Kernel {
        let kernel = Kernel(space: space, image: stored ?? KernelImage(configText: text), config: model,
                            options: options, log: log)
        if stored != nil {
            try kernel.restoreComponents()
        }
        for warning in model.warnings { kernel.say(warning) }
        return kernel
    }

    private init(space: ObjectSpace, image: KernelImage, config: InitModel, options: Options, log: KernelLog) {
        self.space = space
        self.image = image
        self.config = config
        self.options = options
        self.log = log
        scheduler = Scheduler(workers: options.workers, sliceFuel: options.sliceFuel)
        services = BuiltinServices(romDirectory: options.romDirectory)
    }

    /// Starts what the config asks for that is not running yet, and lets every
    /// restored component run on.
    public func run() {
        lock.lock()
        let restored = components.values.filter { $0.isRunning && $0.task == nil }
        lock.unlock()
        for component in restored { schedule(component) }
        reconcile()
        // Every nested init too: a snapshot may hold a config it had taken
        // but not yet acted on (reconciling is idempotent).
        lock.lock()
        let nested = nestedInits.map(\.id)
        lock.unlock()
        for scope in nested { reconcile(scope: scope) }
        startStateReporter()
        startHeartbeatMonitor()
        startNestedInitMonitor()
        startTestInitDriver()
        nestedConfigsMayHaveChanged()
    }

    /// Stops every thread at its next slice boundary; the tree stays in the
    /// object space for the next boot. Take a final snapshot after this.
    public func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
        stopRequested.store(true, ordering: .relaxed)
        wakeBackgroundThreads()
        nestedConfigsMayHaveChanged()
        wakeTestInits()
        scheduler.stop()
    }

    /// Wakes the state reporter and the heartbeat monitor: they look at the
    /// config (and `stopping`) again.
    func wakeBackgroundThreads() {
        for condition in [reporterWake, heartbeatWake] {
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Writes the tables into the space if they changed. Called by the snapshot
    /// daemon at the cut (world stopped), and once before the first snapshot.
    public func writeTablesAtCut() {
        lock.lock()
        defer { lock.unlock() }
        guard dirty else { return }
        do {
            try KernelRecord.store(image, in: space, cache: tableCache)
            dirty = false
        } catch {
            say("Error: cannot write the kernel's tables: \(error)")
        }
    }

    /// The text init prints as itself (`[init] …`).
    func say(_ text: String) { log.append("[init] \(text)") }
}
