import Foundation
import PhantomEngine
import PhantomWasm

extension Kernel {
    /// A component's stdout and stderr: its LOG session, as whole lines.
    /// Its stdin: the Terminal session — the console `phantom boot` runs on —
    /// when its routes give it one, else an empty file.
    func personalityIO(component id: UInt64, console: Bool) -> WASIHostIO {
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

    /// Whether `name`'s routes lead a Terminal session to init's console (a
    /// child of the root init only). Lock held.
    func reachesConsole(_ name: String) -> Bool {
        var state = RoutingState(parentServices: config.parentProvides, aliases: config.initConfig.aliasTable)
        state.childServices = []
        let request = SessionRequest(child: name, service: "Terminal", label: SessionLabel(name))
        if case .routed(.parent) = config.initConfig.resolve(request, in: state).outcome { return true }
        return false
    }

    /// The component's `/rom` directory: its ROM sessions (its config, reports,
    /// ROM files), read by name; a change wakes a `poll_oneoff` on it.
    func romProvider(component id: UInt64) -> WASIROMProvider {
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
        componentOutputLocked(id, descriptor: descriptor, bytes: bytes, signals: &signals)
        signals += takePendingSignals()
        lock.unlock()
        for event in signals { scheduler.signal(event) }
    }

    /// Lock held; `signals` collects the servers to wake.
    func componentOutputLocked(_ id: UInt64, descriptor: Int32, bytes: [UInt8], signals: inout [KernelEvent]) {
        guard let component = components[id] else { return }
        // Its LOG session: init's own (the system log), or a child's LOG
        // service, to which each line becomes a call nobody waits for.
        let logSession = image.sessions.first { $0.client == id && $0.environment && $0.service == "LOG" }
        var partial = component.image.partialLine[descriptor] ?? []
        for byte in bytes {
            if byte == 10 {
                // Lines written before the server answered the open wait behind it
                // in its queue (server 0: not routed yet; they move with the session).
                if let logSession, case let .component(server) = logSession.server, server != 0,
                   let native = components[server], native.image.native != nil {
                    // A LOG server the kernel implements (test-init) takes the line now.
                    nativeLogLine(server: native, label: logSession.label, text: String(decoding: partial, as: UTF8.self))
                } else if let logSession, case let .component(server) = logSession.server,
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
    func flushPartialLines(of component: Component) {
        for (descriptor, partial) in component.image.partialLine.sorted(by: { $0.key < $1.key }) where !partial.isEmpty {
            log.append("[init -> \(component.name)] \(String(decoding: partial, as: UTF8.self))")
            _ = descriptor
        }
        component.image.partialLine = [:]
    }
}
