import Foundation
import PhantomEngine
import PhantomSpace
import PhantomStore
import PhantomWasm

extension Kernel {
    /// Brings the running tree of init `scope` in line with its config:
    /// starts missing children, tears down removed ones, restarts changed
    /// ones. A nested init without a config yet has no children.
    /// `configApplied`: init applies a new config now (not when it only
    /// catches up after a restore); an incomplete child is then retried
    /// (`Kernel+Dependencies.swift`).
    func reconcile(scope: UInt64 = Kernel.rootScope, configApplied: Bool = false) {
        space.safepoints.register()
        lock.lock()
        let specs = model(of: scope)?.starts ?? []
        let siblings = children(of: scope)
        var toStop: [Component] = []
        var toStart: [StartSpec] = []
        var configChanged: [UInt64] = []
        var nestedChanged = false
        var resized: [(Component, UInt64)] = []
        var recapped: [(Component, UInt64)] = []
        let byName = Dictionary(siblings.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for spec in specs {
            if let existing = byName[spec.name] {
                // Genode restarts a child when its binary's ROM route leads
                // elsewhere, not when only the name changed. A stuck child
                // takes no change of its start node but a new version.
                let binaryROM = binaryROM(for: spec, in: scope)
                let binaryMoved = !existing.isStuck && (existing.image.binaryROM ?? existing.image.binary) != binaryROM
                if binaryMoved || existing.image.version != spec.version {
                    toStop.append(existing)
                    toStart.append(spec)
                } else if !existing.isStuck {
                    if existing.image.binary != spec.binary {
                        existing.image.binary = spec.binary
                        syncImage(existing)
                    }
                    if existing.image.configText != spec.configText {
                        existing.image.configText = spec.configText
                        existing.image.configVersion += 1
                        syncImage(existing)
                        configChanged.append(existing.id)
                        if existing.image.native == NativeComponents.initBinary { nestedChanged = true }
                        dirty = true
                    }
                    if existing.isRunning && existing.image.ramQuota != spec.ram { resized.append((existing, spec.ram)) }
                    if existing.isRunning && existing.image.capsQuota != spec.caps { recapped.append((existing, spec.caps)) }
                }
            } else {
                toStart.append(spec)
            }
        }
        let wanted = Set(specs.map(\.name))
        toStop += siblings.filter { !wanted.contains($0.name) }
        // Genode restarts a child whose sessions the config routes to
        // another server, leaves one whose route leads nowhere stuck, and
        // retries an incomplete one.
        for (component, spec) in restartsForDependencies(of: siblings, specs: specs, stopping: toStop, configApplied: configApplied) {
            toStop.append(component)
            toStart.append(spec)
        }
        // Genode: a child whose environment sessions a restarted child
        // served is restarted with it (its sessions' routes lead to the new
        // server). One whose server was removed is judged by its routes
        // above (stuck when they lead nowhere now).
        var grew = true
        while grew {
            grew = false
            let restarting = Set(toStop.filter { stopped in toStart.contains { $0.name == stopped.name } }.map(\.id))
            let stopping = Set(toStop.map(\.id))
            for component in siblings where component.isRunning && !stopping.contains(component.id) {
                let dependsOnRestarted = image.sessions.contains { session in
                    guard session.client == component.id, session.environment, case let .component(server) = session.server else { return false }
                    return restarting.contains(server)
                }
                guard dependsOnRestarted, let spec = specs.first(where: { $0.name == component.name }) else { continue }
                toStop.append(component)
                toStart.append(spec)
                grew = true
            }
        }
        lock.unlock()
        space.safepoints.unregister()

        for id in configChanged { scheduler.signal(Events.rom(component: id, name: "config")) }
        // Genode's order: removed children give their quota back first, so
        // that an upgrade of another can use it.
        for component in toStop { tearDown(component) }
        for (component, ram) in resized where !toStop.contains(where: { $0 === component }) {
            applyRamChange(component, configured: ram)
        }
        for (component, caps) in recapped where !toStop.contains(where: { $0 === component }) {
            applyCapsChange(component, configured: caps)
        }
        for spec in toStart { start(spec, in: scope) }
        if nestedChanged { nestedConfigsMayHaveChanged() }
    }

    /// Starts one child of init `scope`: reads its binary, lays out its WASI
    /// state, instantiates it with its own imports, and schedules its main
    /// thread.
    func start(_ spec: StartSpec, in scope: UInt64 = Kernel.rootScope) {
        space.safepoints.register()
        lock.lock()
        let id = image.nextComponent
        image.nextComponent += 1
        dirty = true
        let grant = Quota.initialRam(child: spec.name, configured: NumberOfBytes(spec.ram),
                                     available: NumberOfBytes(ramLimitForNewChild(in: scope)))
        if let message = grant.message { say(message.description, in: scope) }
        var caps = spec.caps
        if let availableCaps = capsLimitForNewChild(in: scope) {
            let capsGrant = Quota.initialCaps(child: spec.name, configured: spec.caps, available: availableCaps)
            if let message = capsGrant.message { say(message.description, in: scope) }
            caps = capsGrant.granted
        }
        // Ours (`<phantom><file_system>`): the policies of the child's own
        // init, else the root's.
        let fileSystemPolicies = model(of: scope)?.fileSystemPolicies ?? config.fileSystemPolicies
        let romName = binaryROM(for: spec, in: scope)
        // Genode counts each init's children on their own.
        var childID: UInt64?
        if scope != Self.rootScope, let parentInit = components[scope] {
            childID = parentInit.image.nextChildID ?? 1
            parentInit.image.nextChildID = (childID ?? 1) + 1
            syncImage(parentInit)
        }
        lock.unlock()
        let ram = grant.granted.value
        var componentImage = ComponentImage(
            id: id, name: spec.name, binary: spec.binary, version: spec.version, moduleChecksum: 0,
            ramQuota: ram, capsQuota: caps, configText: spec.configText, configVersion: 1,
            instance: 0, thread: 0, wasiState: 0, state: .running)
        if scope != Self.rootScope {
            componentImage.parent = scope
            componentImage.childID = childID
        }
        let component: Component
        if NativeComponents.names.contains(spec.binary) && services.romFile(named: spec.binary) == nil {
            // Served by the kernel itself: no module, no thread; it announces
            // what its start node provides.
            componentImage.native = spec.binary
            componentImage.announced = spec.provides
            component = Component(image: componentImage, instance: nil, thread: nil, wasi: nil)
            // A nested init with an inline config has it from the start, so
            // that requests to its services find their policies at once.
            if spec.binary == NativeComponents.initBinary, !spec.configText.isEmpty,
               let model = try? InitModel.parse(spec.configText, source: "config of \(spec.name)") {
                component.image.initConfigText = spec.configText
                component.image.initConfigGeneration = 1
                component.initModel = model
            }
        } else { do {
            let bytes = try services.binary(named: romName)
            componentImage.binaryROM = romName == spec.binary ? nil : romName
            componentImage.moduleChecksum = CRC32C.checksum(bytes)
            component = Kernel.isWebAssembly(bytes)
                ? try startWebAssembly(bytes: bytes, spec: spec, scope: scope, fileSystemPolicies: fileSystemPolicies, image: &componentImage)
                : try startPhantomVM(bytes: bytes, romName: romName, spec: spec, image: &componentImage)
        } catch {
            componentImage.state = .failed(reason: "\(error)")
            component = Component(image: componentImage, instance: nil, thread: nil, wasi: nil)
            lock.lock()
            say("Error: \(spec.name): cannot start: \(error)", in: scope)
            lock.unlock()
        } }
        lock.lock()
        components[id] = component
        image.components.append(component.image)
        openEnvironmentSessions(for: component)
        if !component.isRunning {
            // Incomplete (an environment session was denied): it never runs.
            retireEngineState(of: component)
            syncImage(component)
        }
        if component.image.native != nil && component.isRunning {
            // Requests that waited for its services go to it now.
            var events: [KernelEvent] = []
            retryPendingSessions(events: &events)
            pendingSignals += events
        }
        let signals = takePendingSignals()
        lock.unlock()
        for event in signals { scheduler.signal(event) }
        space.safepoints.unregister()
        if component.isRunning { schedule(component) }
        if component.image.native == NativeComponents.initBinary {
            if let model = component.initModel {
                for message in model.initConfig.messages { sayTakingLock(message.description, in: id) }
                reconcile(scope: id, configApplied: true)
            }
            nestedConfigsMayHaveChanged()
        }
    }

    /// A WebAssembly component: its module (shared per binary), its WASI
    /// state with argv, environment and preopens, its imports, its instance
    /// with linear memory and tables capped by the RAM quota, its thread.
    private func startWebAssembly(bytes: [UInt8], spec: StartSpec, scope: UInt64, fileSystemPolicies: ConfigNode?,
                                  image: inout ComponentImage) throws -> Component {
        let id = image.id, ram = image.ramQuota
        let module = try sharedModule(bytes: bytes, checksum: image.moduleChecksum)
        let preopens = try options.hostPreopens + spec.fileSystems.map { entry in
            (host: try services.fileSystemDirectory(label: "\(spec.name) -> \(entry.label)", root: options.fileSystemRoot,
                                                    policies: fileSystemPolicies), guest: entry.guest)
        }
        // Genode's libc: the `<arg>` values are the whole argv (argv[0] first);
        // without any, argv is just the binary's name.
        let state = try WASIState.create(in: space, args: spec.arguments.isEmpty ? [spec.binary] : spec.arguments,
                                         environment: spec.environment, preopens: preopens, romDirectory: "/rom")
        lock.lock()
        let console = scope == Self.rootScope && reachesConsole(spec.name)
        lock.unlock()
        let liveness = Liveness()
        let wasi = try WASI(space: space, stateOffset: state, io: personalityIO(component: id, console: console),
                            rom: romProvider(component: id), timer: timerProvider(component: id),
                            onEventLoop: { liveness.eventLoop(blocks: $0) })
        let imports = ComponentImports(wasi: wasi, sessions: SessionABI(kernel: self, component: id, liveness: liveness))
        // The RAM quota caps linear memory, and each table at an eighth of
        // it in 8-byte references (Genode charges a child's every
        // allocation to its PD; our tables live in the space like memory).
        let quotaPages = Kernel.memoryPages(forQuota: ram)
        let tableElements = max(1024, ram / 64)
        let instance = try Instance.instantiate(module, in: space, imports: imports,
                                                options: InstanceOptions(memoryQuotaPages: quotaPages, tableQuota: tableElements))
        let thread = try instance.makeThread("_start")
        image.instance = instance.id
        image.thread = thread.id
        image.wasiState = state
        return Component(image: image, instance: instance, thread: thread, wasi: wasi, liveness: liveness)
    }

    /// The ROM module a start node's binary comes from: Genode's child asks
    /// for the ROM labelled with its binary's name (unscoped, so routes match
    /// it with `unscoped_label`), and its routes may rewrite the label
    /// (`<parent label="dummy"/>`) — up through nested inits. A binary whose
    /// ROM is not routed to init's ROM service is read by its own name.
    /// Lock held.
    func binaryROM(for spec: StartSpec, in scope: UInt64) -> String {
        var probeImage = ComponentImage(
            id: 0, name: spec.name, binary: spec.binary, version: spec.version, moduleChecksum: 0, ramQuota: 0, capsQuota: 0,
            configText: "", configVersion: 0, instance: 0, thread: 0, wasiState: 0, state: .running)
        probeImage.parent = scope == Self.rootScope ? nil : scope
        let probe = Component(image: probeImage, instance: nil, thread: nil, wasi: nil)
        if case let .parent(service, label) = route(client: probe, service: "ROM", label: spec.binary), service == "ROM" {
            let name = SessionLabelText.last(of: label)
            if !name.isEmpty { return name }
        }
        return spec.binary
    }

    /// One `WasmModule` per distinct binary: components started from the same
    /// binary share its validation and translation, and so its module record
    /// in the space — which a restore then translates once, not once per
    /// component.
    func sharedModule(bytes: [UInt8], checksum: UInt32) throws -> WasmModule {
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
    func restoreComponents() throws {
        var wasiByInstance: [UInt32: ComponentImports] = [:]
        var wasis: [UInt64: WASI] = [:]
        var livenesses: [UInt64: Liveness] = [:]
        // Ended components still holding engine state (images written before
        // ended components were retired) get their imports too, so that the
        // engine restores them; they are retired right after.
        for stored in image.components where stored.native == nil && stored.instance != 0 {
            let console = image.sessions.contains { $0.client == stored.id && $0.environment && $0.service == "Terminal" }
            let liveness = Liveness()
            let wasi = try WASI(space: space, stateOffset: stored.wasiState, io: personalityIO(component: stored.id, console: console),
                                rom: romProvider(component: stored.id), timer: timerProvider(component: stored.id),
                                onEventLoop: { liveness.eventLoop(blocks: $0) })
            wasis[stored.id] = wasi
            livenesses[stored.id] = liveness
            wasiByInstance[stored.instance] = ComponentImports(wasi: wasi, sessions: SessionABI(kernel: self, component: stored.id, liveness: liveness))
        }
        let engine: WasmEngine? = space.root(WasmRoots.registry) == 0 ? nil
            : try WasmEngine.restore(space, importsFor: { wasiByInstance[$0] })
        var toRetire: [Component] = []
        for stored in image.components {
            if stored.native == nil, let heap = stored.pvmHeap {
                let component = try restorePhantomVM(stored, heap: heap)
                components[stored.id] = component
                if stored.state != .running { toRetire.append(component) }
                continue
            }
            guard stored.native == nil, stored.instance != 0, let engine else {
                components[stored.id] = Component(image: stored, instance: nil, thread: nil, wasi: nil)
                continue
            }
            guard let instance = engine.instance(id: stored.instance) else {
                throw KernelError.restore("component \(stored.name): its instance \(stored.instance) is not in the image")
            }
            guard stored.state == .running else {
                let component = Component(image: stored, instance: instance, thread: nil, wasi: wasis[stored.id])
                components[stored.id] = component
                toRetire.append(component)
                continue
            }
            guard let thread = try WasmThread.restore(engine, id: stored.thread) else {
                throw KernelError.restore("component \(stored.name): its thread \(stored.thread) is not in the image")
            }
            components[stored.id] = Component(image: stored, instance: instance, thread: thread, wasi: wasis[stored.id],
                                              liveness: livenesses[stored.id] ?? Liveness())
        }
        // Nested inits find their config as they last applied it.
        for component in components.values where component.image.native == NativeComponents.initBinary {
            if let text = component.image.initConfigText {
                component.initModel = try? InitModel.parse(text, source: "config of \(component.name)")
            }
        }
        space.safepoints.register()
        lock.lock()
        for component in toRetire {
            retireEngineState(of: component)
            syncImage(component)
        }
        // A running child without environment sessions was adopted from an
        // image of an earlier `phantom run` (`LegacyProgram`): it gets them now.
        for component in components.values where component.isRunning && component.image.native == nil
            && !image.sessions.contains(where: { $0.client == component.id && $0.environment }) {
            openEnvironmentSessions(for: component)
        }
        lock.unlock()
        space.safepoints.unregister()
    }

    /// Submits `component`'s thread to the scheduler. The task is recorded
    /// under the lock it is submitted under: a slice may start at once, and
    /// whatever it sets off (a yield answer moving its memory, its end) must
    /// find the task it runs as, never none — moving the memory of a thread
    /// believed unscheduled while it runs corrupts it.
    func schedule(_ component: Component) {
        guard let thread = component.thread else { return }
        let id = component.id
        lock.lock()
        component.task = scheduler.submit(thread) { [weak self] outcome in self?.ended(component: id, outcome) }
        lock.unlock()
    }

    /// A component's thread exited or trapped: it stays in the tree (and the
    /// state report) as exited; its sessions are closed and its engine state
    /// is freed (`retireEngineState`).
    func ended(component id: UInt64, _ outcome: SliceOutcome) {
        space.safepoints.register()
        lock.lock()
        guard !stopping, let component = components[id] else {
            lock.unlock()
            space.safepoints.unregister()
            return
        }
        switch outcome {
        case let .exited(code):
            component.image.state = .exited(code: code)
            say("child \"\(component.name)\" exited with exit value \(code)", in: scope(of: component))
        case let .trapped(message):
            component.image.state = .trapped(message: message)
            say("Error: child \"\(component.name)\" trapped: \(message)", in: scope(of: component))
        case .yielded, .blocked:
            break
        }
        component.task = nil
        flushPartialLines(of: component)
        let events = closeSessions(of: component)
        if !component.isRunning { retireEngineState(of: component) }
        syncImage(component)
        let signals = events + takePendingSignals()
        lock.unlock()
        space.safepoints.unregister()
        for event in signals { scheduler.signal(event) }
        ends.lock()
        ends.broadcast()
        ends.unlock()
    }

    /// Removes a component: stops its thread, closes its sessions in reverse
    /// order of opening, returns its RAM and frees its engine state. A nested
    /// init's children go first, as Genode's init destroys its children
    /// before it exits.
    func tearDown(_ component: Component) {
        lock.lock()
        let descendants = children(of: component.id)
        lock.unlock()
        for child in descendants.reversed() { tearDown(child) }
        if let task = component.task { scheduler.cancel(task) }
        space.safepoints.register()
        lock.lock()
        component.task = nil
        let events = closeSessions(of: component)
        retireEngineState(of: component)
        components[component.id] = nil
        image.components.removeAll { $0.id == component.id }
        image.requests.removeAll { $0.server == component.id }
        dirty = true
        lock.unlock()
        space.safepoints.unregister()
        for event in events { scheduler.signal(event) }
    }

    /// Frees what the engine and the WASI personality keep in the space for a
    /// component whose thread will never run again (ended, or torn down and
    /// no longer scheduled): its instance, thread and WASI records leave the
    /// registry and go back to the allocator, so a restore no longer looks
    /// for them and restarts do not grow the image. The tables then say it
    /// has none (instance 0), and the component's transient views are
    /// dropped so that nothing reads the freed records. Lock held, and the
    /// caller is a registered mutator: the tables and the space change in
    /// the same cut.
    func retireEngineState(of component: Component) {
        guard component.hasEngineState else { return }
        retirePhantomVM(component)
        if let instance = component.instance {
            do {
                try instance.engine.retire(instance: instance.id, threads: component.image.thread == 0 ? [] : [component.image.thread])
            } catch {
                say("Warning: \(component.name): its engine state is kept: \(error)")
                return
            }
            if component.image.wasiState != 0 { component.wasi?.state.release() }
        }
        component.image.instance = 0
        component.image.thread = 0
        component.image.wasiState = 0
        if components[component.id] === component {
            let bare = Component(image: component.image, instance: nil, thread: nil, wasi: nil)
            components[component.id] = bare
        }
        dirty = true
    }

    /// Copies a component's changed image into the tables. Lock held.
    func syncImage(_ component: Component) {
        if let index = image.components.firstIndex(where: { $0.id == component.id }) {
            image.components[index] = component.image
        }
        dirty = true
    }

    /// RAM init `scope` has not yet assigned to a child (Genode's
    /// `Library::_avail_ram`). Lock held. The root init's budget is the
    /// space limit; a nested init's is its own quota. Both keep back their
    /// `resource RAM preserve`.
    func ramAvailable(in scope: UInt64 = Kernel.rootScope) -> UInt64 {
        let assigned = children(of: scope).reduce(UInt64(0)) { $0 + $1.image.ramQuota }
        let total = ramBudget(of: scope)
        return total > assigned ? total - assigned : 0
    }

    /// What init `scope` may hand out to its children: its own RAM less
    /// what it preserves. Lock held.
    func ramBudget(of scope: UInt64) -> UInt64 {
        guard let model = model(of: scope) else { return 0 }
        return model.totalRAM(spaceLimit: ownRam(of: scope))
    }

    /// Init `scope`'s own RAM (Genode: init's own PD quota): the root's is
    /// the space limit; a nested init's is its quota as a child of its
    /// parent — its assignment less its environment sessions. Lock held.
    func ownRam(of scope: UInt64) -> UInt64 {
        scope == Self.rootScope ? space.limitBytes : ramQuota(of: scope)
    }
}
