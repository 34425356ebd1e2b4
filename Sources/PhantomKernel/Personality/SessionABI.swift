import PhantomEngine
import PhantomWasm

/// The host side of our session ABI, import module `phantom_session`
/// (docs/SESSION-ABI.md, Programs/include/phantom_session.h): open a session by
/// service name and label, call it, close it; announce a service and serve its
/// requests. Each component gets its own `SessionABI`, bound to its id, so its
/// calls can only name its own sessions (DESIGN.md invariant 7).
///
/// Calls that wait (an open until the server answers, a call until the reply,
/// `service_next` until a request) block on a kernel event and are re-executed
/// from their start; the call's persistent scratch slot holds the session or
/// request id, so a re-execution after a restore continues the same request
/// (invariant 5).
struct SessionABI: HostModuleResolver {
    static let moduleName = "phantom_session"
    let kernel: Kernel
    let component: UInt64
    /// Where its event-loop waits are counted (the heartbeat).
    var liveness: Liveness? = nil

    func resolve(module: String, name: String) -> HostFunction? {
        guard module == Self.moduleName else { return nil }
        let kernel = self.kernel, id = component, liveness = self.liveness
        let i = ValueType.i32, l = ValueType.i64
        switch name {
        case "session_open":
            return HostFunction(parameters: [i, i, i, i, l], results: [i]) { context, a in
                guard let memory = context.memory else { return .trap(Trap("phantom_session: the component has no memory")) }
                do throws(Trap) {
                    let service = try string(memory, a[0], a[1]), label = try string(memory, a[2], a[3])
                    return answer(kernel.sessionOpen(client: id, service: service, label: label, ram: a[4], pending: &context.pendingCallState))
                } catch { return .trap(error) }
            }
        case "session_call":
            return HostFunction(parameters: [i, i, i, i, i, i], results: [i]) { context, a in
                guard let memory = context.memory else { return .trap(Trap("phantom_session: the component has no memory")) }
                do throws(Trap) {
                    let (result, reply) = try kernel.sessionCall(
                        client: id, handle: UInt64(UInt32(truncatingIfNeeded: a[0])),
                        payload: { () throws(Trap) in try memory.read(at: a[1], count: Int(UInt32(truncatingIfNeeded: a[2]))) },
                        pending: &context.pendingCallState)
                    if case let .value(status) = result, let reply {
                        let capacity = UInt32(truncatingIfNeeded: a[4])
                        try memory.storeUInt32(UInt32(reply.count), at: a[5])
                        if reply.count > capacity { return .returned([RawValue(UInt32(bitPattern: SessionStatus.tooBig.rawValue))]) }
                        try memory.write(reply, at: a[3])
                        return .returned([RawValue(UInt32(bitPattern: status))])
                    }
                    return answer(result)
                } catch { return .trap(error) }
            }
        case "session_close":
            return HostFunction(parameters: [i], results: [i]) { _, a in
                .returned([RawValue(UInt32(bitPattern: kernel.sessionClose(client: id, handle: UInt64(UInt32(truncatingIfNeeded: a[0])))))])
            }
        case "session_upgrade":
            return HostFunction(parameters: [i, l], results: [i]) { _, a in
                .returned([RawValue(UInt32(bitPattern: kernel.sessionUpgrade(client: id, handle: UInt64(UInt32(truncatingIfNeeded: a[0])), ram: a[1])))])
            }
        case "parent_resource_request":
            return HostFunction(parameters: [l, l], results: [i]) { context, a in
                answer(kernel.resourceRequest(client: id, ram: a[0], caps: a[1], pending: &context.pendingCallState))
            }
        case "memory_discard":
            return HostFunction(parameters: [i, i], results: [i]) { context, a in
                guard let memory = context.memory else { return .trap(Trap("phantom_session: the component has no memory")) }
                // The whole 64 KiB pages inside [start, start + length).
                let start = UInt64(UInt32(truncatingIfNeeded: a[0])), end = start + UInt64(UInt32(truncatingIfNeeded: a[1]))
                let first = (start + 65535) / 65536, last = end / 65536
                guard first < last else { return .returned([0]) }
                let zeros = [UInt8](repeating: 0, count: 65536)
                var pages: [UInt32] = []
                do throws(Trap) {
                    for page in first..<last {
                        try memory.write(zeros, at: page * 65536)
                        pages.append(UInt32(page))
                    }
                } catch { return .trap(error) }
                let bytes = kernel.memoryDiscarded(by: id, pages: pages)
                return .returned([RawValue(UInt32(truncatingIfNeeded: min(bytes, UInt64(Int32.max))))])
            }
        case "service_announce_flags":
            return HostFunction(parameters: [i, i, i], results: [i]) { context, a in
                guard let memory = context.memory else { return .trap(Trap("phantom_session: the component has no memory")) }
                do throws(Trap) {
                    let service = try string(memory, a[0], a[1])
                    let flags = UInt32(truncatingIfNeeded: a[2])
                    guard flags & ~1 == 0 else { return .returned([RawValue(UInt32(bitPattern: SessionStatus.invalid.rawValue))]) }
                    return .returned([RawValue(UInt32(bitPattern: kernel.serviceAnnounce(server: id, service: service, acknowledgesCloses: flags & 1 != 0)))])
                } catch { return .trap(error) }
            }
        case "service_announce":
            return HostFunction(parameters: [i, i], results: [i]) { context, a in
                guard let memory = context.memory else { return .trap(Trap("phantom_session: the component has no memory")) }
                do throws(Trap) {
                    let service = try string(memory, a[0], a[1])
                    return .returned([RawValue(UInt32(bitPattern: kernel.serviceAnnounce(server: id, service: service)))])
                } catch { return .trap(error) }
            }
        case "service_next":
            return HostFunction(parameters: [i, i, i, l], results: [i]) { context, a in
                guard let memory = context.memory else { return .trap(Trap("phantom_session: the component has no memory")) }
                do throws(Trap) {
                    let capacity = Int(UInt32(truncatingIfNeeded: a[1]))
                    let timeout = Int64(bitPattern: a[3])
                    let found = kernel.serviceNext(server: id, capacity: capacity)
                    // Its event loop, for the heartbeat: a wait for requests.
                    liveness?.eventLoop(blocks: found == nil && timeout != 0)
                    if let (request, label) = found {
                        context.pendingCallState = 0
                        let data = request.kind == .open ? Array((label ?? "").utf8) : request.payload
                        var info = [UInt8](repeating: 0, count: 24)
                        func put(_ value: UInt64, at offset: Int, bytes: Int) {
                            for index in 0..<bytes { info[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
                        }
                        put(UInt64(request.kind.rawValue), at: 0, bytes: 4)
                        put(request.session, at: 4, bytes: 4)
                        put(request.id, at: 8, bytes: 4)
                        put(UInt64(data.count), at: 12, bytes: 4)
                        put(request.upgradeRam ?? kernel.sessionQuota(request.session), at: 16, bytes: 8)
                        try memory.write(info, at: a[2])
                        guard label != nil || request.kind != .open, data.count <= capacity else {
                            return .returned([RawValue(UInt32(bitPattern: SessionStatus.tooBig.rawValue))])
                        }
                        try memory.write(data, at: a[0])
                        return .returned([0])
                    }
                    if timeout == 0 { return .returned([RawValue(UInt32(bitPattern: SessionStatus.timeout.rawValue))]) }
                    if timeout < 0 { return .block(.event(Events.server(id))) }
                    let now = wallClockNow()
                    if context.pendingCallState == 0 { context.pendingCallState = now &+ UInt64(timeout) }
                    if now >= context.pendingCallState {
                        context.pendingCallState = 0
                        return .returned([RawValue(UInt32(bitPattern: SessionStatus.timeout.rawValue))])
                    }
                    return .block(.eventUntil(Events.server(id), wallClockNanoseconds: context.pendingCallState))
                } catch { return .trap(error) }
            }
        case "service_reply":
            return HostFunction(parameters: [i, i, i, i], results: [i]) { context, a in
                guard let memory = context.memory else { return .trap(Trap("phantom_session: the component has no memory")) }
                do throws(Trap) {
                    let data = try memory.read(at: a[2], count: Int(UInt32(truncatingIfNeeded: a[3])))
                    let status = kernel.serviceReply(server: id, request: UInt64(UInt32(truncatingIfNeeded: a[0])),
                                                     status: Int32(truncatingIfNeeded: a[1]), data: data)
                    return .returned([RawValue(UInt32(bitPattern: status))])
                } catch { return .trap(error) }
            }
        default:
            return nil
        }
    }
}

private func string(_ memory: GuestMemory, _ pointer: RawValue, _ length: RawValue) throws(Trap) -> String {
    let count = Int(UInt32(truncatingIfNeeded: length))
    guard count <= 4096 else { throw Trap("phantom_session: a name or label of \(count) bytes (at most 4096)") }
    return String(decoding: try memory.read(at: UInt64(UInt32(truncatingIfNeeded: pointer)), count: count), as: UTF8.self)
}

private func answer(_ result: KernelAnswer) -> HostCallOutcome {
    switch result {
    case let .value(value): .returned([RawValue(UInt32(bitPattern: value))])
    case let .block(waitable): .block(waitable)
    }
}

/// A component's imports: WASI preview 1 (its personality) and the session ABI.
struct ComponentImports: HostModuleResolver {
    let wasi: WASI
    let sessions: SessionABI

    func resolve(module: String, name: String) -> HostFunction? {
        module == SessionABI.moduleName ? sessions.resolve(module: module, name: name) : wasi.resolve(module: module, name: name)
    }
}

extension Kernel {
    func sessionQuota(_ session: UInt64) -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        return image.sessions.first { $0.id == session }?.ramQuota ?? 0
    }
}
