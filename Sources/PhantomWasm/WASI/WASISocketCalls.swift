/// The socket calls of preview 1. Phantom has no socket service yet (the
/// kernel's socket sessions come later), so no descriptor is ever a socket.
extension WASI {
    /// `sock_shutdown(fd, how)`: EBADF for a closed or unknown fd; on any
    /// other descriptor ENOTSOCK — what POSIX `shutdown` and wasmtime answer
    /// for a descriptor that is not a socket (witx: "Shut down socket send
    /// and receive channels"). `how` is not looked at, since no descriptor
    /// can reach the point where it would matter.
    ///
    /// Re-execution: no effect, so repeating it is harmless.
    func sockShutdown(_ a: WASIArguments) throws(WASIErrno) -> HostCallOutcome {
        _ = try descriptor(a.u32(0))
        throw .notsock
    }
}
