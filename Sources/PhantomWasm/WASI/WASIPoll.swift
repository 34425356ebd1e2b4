#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PhantomEngine

/// `poll_oneoff`: sleeps and waits.
///
/// Re-execution: on its first execution the call records the wall-clock time
/// (CLOCK_REALTIME, ns since 1970) in `pendingCallState`; every relative clock
/// subscription's deadline is that start + its timeout, so each re-execution
/// — the next wake-up of the parked thread, or the first one after a restore in
/// a new process — computes the *same* absolute deadlines and blocks again
/// with `.wallClock(earliest deadline)` until one has passed. A sleep
/// interrupted by a restart therefore resumes with its remaining time (none,
/// if the system was down longer). Nothing is written to guest memory before
/// the call completes, so an interrupted call has no partial effect.
///
/// Absolute subscriptions: CLOCK_REALTIME deadlines are used as they are;
/// CLOCK_MONOTONIC (and the cputime clocks, treated like it) deadlines are
/// converted to wall time against the persistent monotonic clock at each
/// execution (`WASIClocks`: it advances with the wall clock across downtime).
///
/// Clock subscriptions are the component's Timer session's (`WASITimer`):
/// without one, each gets an event with ENOTCAPABLE at once (as a bad fd
/// gets EBADF), so a sleep fails instead of blocking forever or reaching a
/// host clock the routing did not grant. The deadlines themselves are
/// wall-clock times the scheduler arms — the built-in Timer's own way of
/// blocking a session call — so after a restore the re-executed call simply
/// re-arms them (invariant 6). The start time of the call and the ROM
/// recheck interval are the kernel's bookkeeping, read from the host's
/// CLOCK_REALTIME (the scheduler's clock), never handed to the program.
///
/// fd subscriptions (simplified): FD_WRITE is always ready (stdout/stderr and
/// files never block here); FD_READ on a file is ready with the bytes left
/// after the position; FD_READ on stdin is ready when `io.inputReady` says so.
/// If nothing is ready, the call blocks until the earliest clock deadline
/// (`.wallClock`), until stdin is readable (`.readable`), or — with both kinds
/// of subscription — until whichever comes first (`.readableUntil`), and is
/// then re-executed to find out which. Bad descriptors give an event with
/// EBADF, as the spec says.
///
/// FD_READ on a ROM descriptor is ready while there are bytes after the
/// position or the module's version differs from the one the descriptor last
/// caught up with (`romVersionSeen`); otherwise the call blocks on the
/// module's change event — `.event`, or `.eventUntil` with a clock
/// subscription — the way a Genode component waits for its ROM session's
/// signal before re-reading its config. A ROM with no change event never
/// changes and is ready at its end, like a regular file. One waitable names
/// one event, so when the call would wait on several events, or on an event
/// and stdin, it waits on the first and is re-executed at least every
/// `romRecheckInterval` to look at the others.
extension WASI {
    /// How often a wait that cannot name everything it waits for looks again.
    static let romRecheckInterval: UInt64 = 100_000_000
    func pollOneoff(_ context: inout HostCallContext, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        var waitsForEvents = false
        let outcome = try pollOneoff(&context, a, waitsForEvents: &waitsForEvents)
        // A wait with a subscription other than a clock is the program's
        // event loop (the kernel's heartbeat counts it; a sleep is not one).
        if waitsForEvents, let onEventLoop {
            if case .block = outcome { onEventLoop(true) } else { onEventLoop(false) }
        }
        return outcome
    }

    private func pollOneoff(_ context: inout HostCallContext, _ a: WASIArguments,
                            waitsForEvents: inout Bool) throws(WASIErrno) -> HostCallOutcome {
        let guest = context.guest
        let input = a.pointer(0), output = a.pointer(1), count = a.u32(2), neventsPointer = a.pointer(3)
        guard count > 0 else { throw .inval }
        try guest.check(input, UInt64(count) * WASILayout.subscriptionSize)
        try guest.check(output, UInt64(count) * WASILayout.eventSize)
        try guest.check(neventsPointer, 4)

        let now = WASIHostClock.read(CLOCK_REALTIME)
        if context.pendingCallState == 0 { context.pendingCallState = now }
        let start = context.pendingCallState

        var events: [[UInt8]] = []
        var earliest: UInt64?
        var waitsForStdin = false
        var romEvents: [KernelEvent] = []
        var monotonicNow: UInt64?

        for index in 0..<UInt64(count) {
            let base = input + index * WASILayout.subscriptionSize
            let userdata = try guest.u64(base)
            let tag = try guest.read(base + 8, 1)[0]
            func event(_ type: WASIEventType, _ error: WASIErrno = .success, nbytes: UInt64 = 0, flags: UInt16 = 0) -> [UInt8] {
                var bytes = [UInt8](repeating: 0, count: Int(WASILayout.eventSize))
                WASI.put(userdata, into: &bytes, at: 0)
                bytes[8] = UInt8(truncatingIfNeeded: error.rawValue)
                bytes[9] = UInt8(truncatingIfNeeded: error.rawValue >> 8)
                bytes[10] = type.rawValue
                WASI.put(nbytes, into: &bytes, at: 16)
                bytes[24] = UInt8(truncatingIfNeeded: flags)
                bytes[25] = UInt8(truncatingIfNeeded: flags >> 8)
                return bytes
            }
            switch WASIEventType(rawValue: tag) {
            case .clock:
                let id = try guest.u32(base + 16)
                let timeout = try guest.u64(base + 24)
                let flags = UInt16(truncatingIfNeeded: try guest.u32(base + 40))
                guard let clock = WASIClockID(rawValue: id) else {
                    events.append(event(.clock, .inval))
                    continue
                }
                // A relative timeout of 0 (a poll that must not block) has
                // expired without reading any clock, so it needs no Timer.
                if flags & WASISubclockflags.abstime == 0 && timeout == 0 {
                    events.append(event(.clock))
                    continue
                }
                // Nor does a relative timeout of UInt64.max: it never expires
                // (a wait forever, such as Genode's `sleep_forever`).
                if flags & WASISubclockflags.abstime == 0 && timeout == .max {
                    earliest = min(earliest ?? .max, .max)
                    continue
                }
                // The Timer session: without one, this subscription's event is ENOTCAPABLE.
                do throws(WASIErrno) { try timer.withClocks { _ in } } catch {
                    events.append(event(.clock, error))
                    continue
                }
                let deadline: UInt64
                if flags & WASISubclockflags.abstime == 0 {
                    deadline = start.addingReportingOverflow(timeout).overflow ? .max : start + timeout
                } else if clock == .realtime {
                    deadline = timeout
                } else {
                    let monotonic: UInt64
                    if let known = monotonicNow { monotonic = known } else { monotonic = try timer.withClocks { $0.monotonic() } }
                    monotonicNow = monotonic
                    let remaining = timeout > monotonic ? timeout - monotonic : 0
                    deadline = now.addingReportingOverflow(remaining).overflow ? .max : now + remaining
                }
                if now >= deadline {
                    events.append(event(.clock))
                } else {
                    earliest = min(earliest ?? .max, deadline)
                }
            case .fdRead, .fdWrite:
                waitsForEvents = true
                let type = WASIEventType(rawValue: tag)!
                let fd = try guest.u32(base + 16)
                guard let d = state.open(fd) else {
                    events.append(event(type, .badf))
                    continue
                }
                guard d.rightsBase & WASIRights.pollFdReadwrite != 0 || d.kind == .stdio else {
                    events.append(event(type, .notcapable))
                    continue
                }
                if type == .fdWrite {
                    events.append(event(type))
                } else if d.kind == .stdio {
                    if d.stdioHostDescriptor != 0 {
                        events.append(event(type, .badf))
                    } else if io.inputReady() {
                        events.append(event(type, nbytes: 1))
                    } else {
                        waitsForStdin = true
                    }
                } else if d.kind == .rom {
                    let current = romCurrent(d)
                    let size = UInt64(current.content.count)
                    let unread = size > d.position ? size - d.position : 0
                    if unread > 0 || (current.version.map { $0 != d.romVersionSeen } ?? false) {
                        events.append(event(type, nbytes: unread))
                    } else if let change = rom?.changeEvent(d.relativePath) {
                        if !romEvents.contains(change) { romEvents.append(change) }
                    } else {
                        events.append(event(type))
                    }
                } else if d.kind == .file {
                    var info = stat()
                    let host = try? host(fd, d)
                    if let host, fstat(host, &info) == 0 {
                        let size = UInt64(max(0, info.st_size))
                        events.append(event(type, nbytes: size > d.position ? size - d.position : 0))
                    } else {
                        events.append(event(type, .badf))
                    }
                } else {
                    events.append(event(type, .isdir))
                }
            case nil:
                throw .inval
            }
        }

        if events.isEmpty, let change = romEvents.first {
            if romEvents.count == 1 && !waitsForStdin {
                return .block(earliest.map { .eventUntil(change, wallClockNanoseconds: $0) } ?? .event(change))
            }
            let recheck = min(earliest ?? .max, now + WASI.romRecheckInterval)
            return .block(waitsForStdin ? .readableUntil(hostDescriptor: io.stdinDescriptor, wallClockNanoseconds: recheck)
                                        : .eventUntil(change, wallClockNanoseconds: recheck))
        }
        if events.isEmpty {
            switch (earliest, waitsForStdin) {
            case let (deadline?, true):
                return .block(.readableUntil(hostDescriptor: io.stdinDescriptor, wallClockNanoseconds: deadline))
            case let (deadline?, false):
                return .block(.wallClock(nanoseconds: deadline))
            case (nil, true):
                return .block(.readable(hostDescriptor: io.stdinDescriptor))
            case (nil, false):
                break
            }
            throw .inval
        }
        try guest.write(events.flatMap { $0 }, output)
        try guest.store32(UInt32(events.count), neventsPointer)
        return .success
    }
}
