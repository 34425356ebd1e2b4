/// `args_*` and `environ_*`: copies of what `WASIState.create` stored.
///
/// Re-execution: these only read the persistent state and write guest memory
/// with the same bytes every time — running one twice is the same as once.
extension WASI {
    func argsSizesGet(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        try sizes(guest, a, count: state.argc, blob: state.argsBlob)
    }

    func argsGet(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        try strings(guest, a, count: state.argc, blob: state.argsBlob)
    }

    func environSizesGet(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        try sizes(guest, a, count: state.envc, blob: state.envBlob)
    }

    func environGet(_ guest: WASIGuest, _ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        try strings(guest, a, count: state.envc, blob: state.envBlob)
    }

    private func sizes(_ guest: WASIGuest, _ a: WASIArguments, count: UInt32, blob: [UInt8]) throws(WASIErrno) -> HostCallOutcome {
        try guest.store32(count, a.pointer(0))
        try guest.store32(UInt32(blob.count), a.pointer(1))
        return .success
    }

    /// Writes the pointer array at argument 0 and the NUL-terminated strings at argument 1.
    private func strings(_ guest: WASIGuest, _ a: WASIArguments, count: UInt32, blob: [UInt8]) throws(WASIErrno) -> HostCallOutcome {
        let pointers = a.pointer(0), buffer = a.pointer(1)
        try guest.check(pointers, UInt64(count) * 4)
        try guest.check(buffer, UInt64(blob.count))
        try guest.write(blob, buffer)
        var start = 0, index: UInt64 = 0
        for (position, byte) in blob.enumerated() where byte == 0 {
            try guest.store32(UInt32(truncatingIfNeeded: buffer + UInt64(start)), pointers + index * 4)
            index += 1
            start = position + 1
        }
        return .success
    }
}
