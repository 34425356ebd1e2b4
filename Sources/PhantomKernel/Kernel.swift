import Foundation
import PhantomEngine
import PhantomSpace
import PhantomStore
import PhantomWasm

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
        startStateReporter()
    }

    /// Genode's state reporter: with a `<report>` node, init's state report is
    /// looked at every `delay_ms` and whoever waits on the ROM `state` is woken
    /// when it changed. Without one, no thread runs.
    private func startStateReporter() {
        let thread = Thread { [weak self] in
            var last: UInt64 = 0
            while let self {
                self.lock.lock()
                let report = self.config.initConfig.report
                let stopping = self.stopping
                let text = report.map { Array(self.stateReportLocked(ReportOptions($0)).utf8) }
                self.lock.unlock()
                if stopping { return }
                if let text {
                    let version = Kernel.contentVersion(text)
                    if version != last {
                        last = version
                        self.scheduler.signal(Events.report("state"))
                    }
                }
                self.reporterWake.lock()
                if let report {
                    _ = self.reporterWake.wait(until: Date(timeIntervalSinceNow: Double(max(report.delayMs, 10)) / 1000))
                } else {
                    self.reporterWake.wait() // until a config with a <report> node, or the stop
                }
                self.reporterWake.unlock()
            }
        }
        thread.name = "phantom-state-reporter"
        thread.start()
    }

    /// Stops every thread at its next slice boundary; the tree stays in the
    /// object space for the next boot. Take a final snapshot after this.
    public func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
        reporterWake.lock()
        reporterWake.broadcast()
        reporterWake.unlock()
        scheduler.stop()
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

    // MARK: - Components

    /// Brings the running tree in line with the config: starts missing
    /// children, tears down removed ones, restarts changed ones.
    func reconcile() {
        space.safepoints.register()
        lock.lock()
        let specs = config.starts
        var toStop: [Component] = []
        var toStart: [StartSpec] = []
        var configChanged: [UInt64] = []
        let byName = Dictionary(components.values.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for spec in specs {
            if let existing = byName[spec.name] {
                if existing.image.binary != spec.binary || existing.image.version != spec.version {
                    toStop.append(existing)
                    toStart.append(spec)
                } else if existing.image.configText != spec.configText {
                    existing.image.configText = spec.configText
                    existing.image.configVersion += 1
                    configChanged.append(existing.id)
                    dirty = true
                }
            } else {
                toStart.append(spec)
            }
        }
        let wanted = Set(specs.map(\.name))
        toStop += components.values.filter { !wanted.contains($0.name) }
        // Genode restarts a child whose sessions the new config routes to
        // another server (or denies); one whose server is merely missing now
        // keeps waiting.
        for component in components.values where component.isRunning && !toStop.contains(where: { $0 === component }) {
            guard let spec = specs.first(where: { $0.name == component.name }) else { continue }
            if routesChanged(for: component) {
                toStop.append(component)
                toStart.append(spec)
            }
        }
        lock.unlock()
        space.safepoints.unregister()

        for id in configChanged { scheduler.signal(Events.rom(component: id, name: "config")) }
        for component in toStop { tearDown(component) }
        for spec in toStart { start(spec) }
    }

    /// Whether any session of `component` would now be routed elsewhere. Lock held.
    private func routesChanged(for component: Component) -> Bool {
        for session in image.sessions where session.client == component.id && session.state != .denied {
            guard let requested = session.requested else { continue }
            switch route(client: component, service: session.service, label: requested) {
            case let .parent(service, _):
                if session.server != .builtin(service) { return true }
            case let .child(server, _):
                if session.server != .component(server) { return true }
            case .pending:
                continue
            case .denied:
                return true
            }
        }
        return false
    }

    /// Starts one child: reads its binary, lays out its WASI state, instantiates
    /// it with its own imports, and schedules its main thread.
    func start(_ spec: StartSpec) {
        space.safepoints.register()
        lock.lock()
        let id = image.nextComponent
        image.nextComponent += 1
        dirty = true
        let available = ramAvailable()
        lock.unlock()
        let grant = Quota.initialRam(child: spec.name, configured: NumberOfBytes(spec.ram), available: NumberOfBytes(available))
        if let message = grant.message { say(message.description) }
        let ram = grant.granted.value
        var componentImage = ComponentImage(
            id: id, name: spec.name, binary: spec.binary, version: spec.version, moduleChecksum: 0,
            ramQuota: ram, capsQuota: spec.caps, configText: spec.configText, configVersion: 1,
            instance: 0, thread: 0, wasiState: 0, state: .running)
        let component: Component
        if NativeComponents.names.contains(spec.binary) && services.romFile(named: spec.binary) == nil {
            // Served by the kernel itself: no module, no thread; it announces
            // what its start node provides.
            componentImage.native = spec.binary
            componentImage.announced = spec.provides
            component = Component(image: componentImage, instance: nil, thread: nil, wasi: nil)
        } else { do {
            let bytes = try services.binary(named: spec.binary)
            componentImage.moduleChecksum = CRC32C.checksum(bytes)
            let module = try sharedModule(bytes: bytes, checksum: componentImage.moduleChecksum)
            let preopens = try options.hostPreopens + spec.fileSystems.map { entry in
                (host: try services.fileSystemDirectory(label: "\(spec.name) -> \(entry.label)", root: options.fileSystemRoot,
                                                        policies: config.fileSystemPolicies), guest: entry.guest)
            }
            // Genode's libc: the `<arg>` values are the whole argv (argv[0] first);
            // without any, argv is just the binary's name.
            let state = try WASIState.create(in: space, args: spec.arguments.isEmpty ? [spec.binary] : spec.arguments,
                                             environment: spec.environment, preopens: preopens, romDirectory: "/rom")
            lock.lock()
            let console = reachesConsole(spec.name)
            lock.unlock()
            let wasi = try WASI(space: space, stateOffset: state, io: personalityIO(component: id, console: console),
                                rom: romProvider(component: id))
            let imports = ComponentImports(wasi: wasi, sessions: SessionABI(kernel: self, component: id))
            let quotaPages = max(1, ram / 65536)
            let instance = try Instance.instantiate(module, in: space, imports: imports,
                                                    options: InstanceOptions(memoryQuotaPages: quotaPages))
            let thread = try instance.makeThread("_start")
            componentImage.instance = instance.id
            componentImage.thread = thread.id
            componentImage.wasiState = state
            component = Component(image: componentImage, instance: instance, thread: thread, wasi: wasi)
        } catch {
            componentImage.state = .failed(reason: "\(error)")
            component = Component(image: componentImage, instance: nil, thread: nil, wasi: nil)
            say("Error: \(spec.name): cannot start: \(error)")
        } }
        lock.lock()
        components[id] = component
        image.components.append(component.image)
        openEnvironmentSessions(for: component)
        if component.image.native != nil {
            // Requests that waited for its services go to it now.
            var events: [KernelEvent] = []
            retryPendingSessions(events: &events)
            pendingSignals += events
        }
        let signals = pendingSignals
        pendingSignals.removeAll()
        lock.unlock()
        for event in signals { scheduler.signal(event) }
        space.safepoints.unregister()
        if component.isRunning { schedule(component) }
    }

    /// One `WasmModule` per distinct binary: components started from the same
    /// binary share its validation and translation, and so its module record
    /// in the space — which a restore then translates once, not once per
    /// component.
    private func sharedModule(bytes: [UInt8], checksum: UInt32) throws -> WasmModule {
        lock.lock()
        let cached = modules[checksum]
        lock.unlock()
        if let cached, cached.bytes == bytes { return cached }
        let module = try WasmModule(bytes: bytes)
        lock.lock()
        modules[checksum] = module
        lock.unlock()
        return module
    }

    /// Re-attaches every stored component after a restore: one engine restore
    /// for the whole space, each instance with its own imports.
    private func restoreComponents() throws {
        var wasiByInstance: [UInt32: ComponentImports] = [:]
        var wasis: [UInt64: WASI] = [:]
        for stored in image.components where stored.state == .running && stored.native == nil {
            let console = image.sessions.contains { $0.client == stored.id && $0.environment && $0.service == "Terminal" }
            let wasi = try WASI(space: space, stateOffset: stored.wasiState, io: personalityIO(component: stored.id, console: console),
                                rom: romProvider(component: stored.id))
            wasis[stored.id] = wasi
            wasiByInstance[stored.instance] = ComponentImports(wasi: wasi, sessions: SessionABI(kernel: self, component: stored.id))
        }
        let engine: WasmEngine? = space.root(WasmRoots.registry) == 0 ? nil
            : try WasmEngine.restore(space, importsFor: { wasiByInstance[$0] })
        for stored in image.components {
            guard stored.state == .running, stored.native == nil, let engine else {
                components[stored.id] = Component(image: stored, instance: nil, thread: nil, wasi: nil)
                continue
            }
            guard let instance = engine.instance(id: stored.instance),
                  let thread = try WasmThread.restore(engine, id: stored.thread) else {
                throw KernelError.restore("component \(stored.name): its instance \(stored.instance) or thread \(stored.thread) is not in the image")
            }
            components[stored.id] = Component(image: stored, instance: instance, thread: thread, wasi: wasis[stored.id])
        }
    }

    private func schedule(_ component: Component) {
        guard let thread = component.thread else { return }
        let id = component.id
        let task = scheduler.submit(thread) { [weak self] outcome in self?.ended(component: id, outcome) }
        lock.lock()
        component.task = task
        lock.unlock()
    }

    /// A component's thread exited or trapped: it stays in the tree (and the
    /// state report) as exited; its sessions are closed.
    private func ended(component id: UInt64, _ outcome: SliceOutcome) {
        lock.lock()
        guard !stopping, let component = components[id] else { lock.unlock(); return }
        switch outcome {
        case let .exited(code):
            component.image.state = .exited(code: code)
            say("child \"\(component.name)\" exited with exit value \(code)")
        case let .trapped(message):
            component.image.state = .trapped(message: message)
            say("Error: child \"\(component.name)\" trapped: \(message)")
        case .yielded, .blocked:
            break
        }
        component.task = nil
        flushPartialLines(of: component)
        let events = closeSessions(of: component)
        syncImage(component)
        lock.unlock()
        for event in events { scheduler.signal(event) }
        ends.lock()
        ends.broadcast()
        ends.unlock()
    }

    /// Removes a component: stops its thread, closes its sessions in reverse
    /// order of opening, returns its RAM. Its records in the space are freed
    /// by discarding the instance's memory (the engine keeps its registry).
    func tearDown(_ component: Component) {
        if let task = component.task { scheduler.cancel(task) }
        space.safepoints.register()
        lock.lock()
        component.task = nil
        let events = closeSessions(of: component)
        components[component.id] = nil
        image.components.removeAll { $0.id == component.id }
        image.requests.removeAll { $0.server == component.id }
        dirty = true
        lock.unlock()
        space.safepoints.unregister()
        for event in events { scheduler.signal(event) }
    }

    /// Copies a component's changed image into the tables. Lock held.
    func syncImage(_ component: Component) {
        if let index = image.components.firstIndex(where: { $0.id == component.id }) {
            image.components[index] = component.image
        }
        dirty = true
    }

    /// RAM not yet assigned to a child. Lock held. The kernel's own budget is
    /// the space limit; children's quotas and session donations come out of it.
    func ramAvailable() -> UInt64 {
        let assigned = components.values.reduce(UInt64(0)) { $0 + $1.image.ramQuota }
        let total = config.totalRAM(spaceLimit: space.limitBytes)
        return total > assigned ? total - assigned : 0
    }

    // MARK: - Output

    /// A component's stdout and stderr: its LOG session, as whole lines.
    /// Its stdin: the Terminal session — the console `phantom boot` runs on —
    /// when its routes give it one, else an empty file.
    private func personalityIO(component id: UInt64, console: Bool) -> WASIHostIO {
        if case let .host(io) = options.stdio { return io }
        let write: @Sendable (Int32, [UInt8]) -> WASIHostIO.Output = { [weak self] descriptor, bytes in
            self?.componentOutput(id, descriptor: descriptor, bytes: bytes)
            return .wrote(bytes.count)
        }
        if console {
            var io = WASIHostIO.standard
            io.write = write
            return io
        }
        return WASIHostIO(write: write, input: { _ in .endOfFile }, inputReady: { true }, stdinDescriptor: -1)
    }

    /// Whether `name`'s routes lead a Terminal session to init's console. Lock held.
    func reachesConsole(_ name: String) -> Bool {
        var state = RoutingState(parentServices: config.parentProvides, aliases: config.initConfig.aliasTable)
        state.childServices = []
        let request = SessionRequest(child: name, service: "Terminal", label: SessionLabel(name))
        if case .routed(.parent) = config.initConfig.resolve(request, in: state).outcome { return true }
        return false
    }

    /// The component's `/rom` directory: its ROM sessions (its config, reports,
    /// ROM files), read by name; a change wakes a `poll_oneoff` on it.
    private func romProvider(component id: UInt64) -> WASIROMProvider {
        WASIROMProvider(
            read: { [weak self] name in
                guard let self else { return nil }
                lock.lock(); defer { lock.unlock() }
                return romContent(for: id, name: name)
            },
            changeEvent: { [weak self] name in self?.romEvent(for: id, name: name) })
    }

    func componentOutput(_ id: UInt64, descriptor: Int32, bytes: [UInt8]) {
        lock.lock()
        var signals: [KernelEvent] = []
        defer {
            lock.unlock()
            for event in signals { scheduler.signal(event) }
        }
        guard let component = components[id] else { return }
        // Its LOG session: init's own (the system log), or a child's LOG
        // service, to which each line becomes a call nobody waits for.
        let logSession = image.sessions.first { $0.client == id && $0.environment && $0.service == "LOG" }
        var partial = component.image.partialLine[descriptor] ?? []
        for byte in bytes {
            if byte == 10 {
                // Lines written before the server answered the open wait behind it
                // in its queue (server 0: not routed yet; they move with the session).
                if let logSession, case let .component(server) = logSession.server,
                   logSession.state == .available || logSession.state == .creating {
                    let queued = image.requests.count { $0.session == logSession.id }
                    if queued < 4096 {
                        var request = RequestImage(id: nextRequestID(), session: logSession.id, server: server, kind: .call, payload: partial)
                        request.discardReply = true
                        enqueue(request)
                        if server != 0 { signals.append(Events.server(server)) }
                    } else {
                        log.append("[init] Warning: \(component.name): its LOG server takes nothing; a line is dropped")
                    }
                } else {
                    log.append("[init -> \(logSession?.label ?? component.name)] \(String(decoding: partial, as: UTF8.self))")
                }
                partial.removeAll(keepingCapacity: true)
            } else if partial.count < 8192 {
                partial.append(byte)
            }
        }
        if partial != (component.image.partialLine[descriptor] ?? []) {
            component.image.partialLine[descriptor] = partial.isEmpty ? nil : partial
            syncImage(component)
        }
    }

    /// Lock held.
    private func flushPartialLines(of component: Component) {
        for (descriptor, partial) in component.image.partialLine.sorted(by: { $0.key < $1.key }) where !partial.isEmpty {
            log.append("[init -> \(component.name)] \(String(decoding: partial, as: UTF8.self))")
            _ = descriptor
        }
        component.image.partialLine = [:]
    }
}

/// Kernel event numbers (transient: a re-executed call names its event again).
enum Events {
    static func server(_ component: UInt64) -> KernelEvent { KernelEvent(1 << 56 | component) }
    static func session(_ session: UInt64) -> KernelEvent { KernelEvent(2 << 56 | session) }
    static func reply(_ request: UInt64) -> KernelEvent { KernelEvent(3 << 56 | request) }
    static func rom(component: UInt64, name: String) -> KernelEvent {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return KernelEvent(4 << 56 | (component << 24) | (hash & 0xFF_FFFF))
    }
    static func report(_ label: String) -> KernelEvent {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in label.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return KernelEvent(5 << 56 | (hash & 0xFF_FFFF_FFFF_FFFF))
    }
}

extension Kernel {
    /// `<phantom snapshot_period="…"/>` of the running config, if set.
    public var configuredSnapshotPeriod: String? {
        lock.lock(); defer { lock.unlock() }
        return config.snapshotPeriod
    }
}

extension Kernel {
    /// Reconfigures the running system (Genode: a new config ROM for init):
    /// new `start` nodes start, removed ones are torn down, a changed `binary`
    /// or `version` restarts a child, a changed inline `config` only updates
    /// its config ROM. A config that does not parse changes nothing; the error
    /// names line and column. Returns init's warnings about the new config.
    @discardableResult
    public func apply(configText text: String, source: String = "config") throws -> [String] {
        let model = try InitModel.parse(text, source: source)
        space.safepoints.register()
        lock.lock()
        config = model
        image.configText = text
        image.configGeneration += 1
        dirty = true
        lock.unlock()
        space.safepoints.unregister()
        for warning in model.warnings { say(warning) }
        reconcile()
        reporterWake.lock()
        reporterWake.broadcast()
        reporterWake.unlock()
        return model.warnings
    }
}

/// What the tables say about one component, for commands that act on a
/// stored system before (or instead of) booting it.
public struct ComponentSummary: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case running
        case exited(code: UInt32)
        case trapped(message: String)
        case failed(reason: String)
    }
    public var name: String
    public var binary: String
    public var moduleChecksum: UInt32
    public var state: State

    init(_ image: ComponentImage) {
        name = image.name
        binary = image.binary
        moduleChecksum = image.moduleChecksum
        switch image.state {
        case .running: state = .running
        case let .exited(code): state = .exited(code: code)
        case let .trapped(message): state = .trapped(message: message)
        case let .failed(reason): state = .failed(reason: reason)
        }
    }
}

extension Kernel {
    /// The components an image's kernel tables name, or nil when it holds no
    /// system. Throws for tables that cannot be read (a damaged or forged image).
    public static func storedComponents(in space: ObjectSpace) throws -> [ComponentSummary]? {
        try KernelRecord.load(from: space)?.components.map(ComponentSummary.init)
    }

    /// The components now, in start order.
    public var componentSummaries: [ComponentSummary] {
        lock.lock(); defer { lock.unlock() }
        return image.components.map(ComponentSummary.init)
    }

    /// Waits until no component runs any more, or `stop()` says so (checked
    /// at least every 50 ms).
    public func waitUntilAllEnded(stop: () -> Bool) {
        ends.lock()
        defer { ends.unlock() }
        while !stop() {
            lock.lock()
            let running = components.values.contains { $0.isRunning }
            lock.unlock()
            if !running { return }
            _ = ends.wait(until: Date(timeIntervalSinceNow: 0.05))
        }
    }
}

extension Kernel {
    /// Reads a config as the kernel would, without booting anything: throws
    /// for text that does not parse (naming source, line and column), returns
    /// init's warnings. `phantom boot` checks its `--config` before it touches
    /// an image.
    public static func check(configText: String, source: String) throws -> [String] {
        try InitModel.parse(configText, source: source).warnings
    }

    /// `<phantom retain="N"/>` of a config: generations a new image keeps.
    public static func configuredRetention(configText: String, source: String) -> Int? {
        (try? InitModel.parse(configText, source: source))?.initConfig.phantom?.retain
    }
}
