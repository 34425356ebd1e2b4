#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Writes a program's stdout and stderr to the host without ever blocking the
/// calling thread.
///
/// An engine thread that blocks in `write(2)` — a pipe nobody reads — can
/// reach no safepoint: no snapshot is taken and a stop request is not seen
/// until the reader wakes up (issue 8). So `fd_write` on stdio takes only
/// what the host accepts *now*: a short write (POSIX allows it; wasi-libc
/// loops), or nothing, and then the call blocks on
/// `BlockCondition.writable` like a read of empty stdin does — outside the
/// safepoint protocol and re-executed (invariant 5).
///
/// How "now" is found depends on what the descriptor is:
/// - a pipe or FIFO: we open our own file description of it through
///   `/proc/self/fd/N` with `O_NONBLOCK`, so the shared description (which
///   the shell and other processes also use) keeps its blocking mode;
/// - a socket: `send` with `MSG_DONTWAIT`;
/// - a terminal, a regular file, a character device: `poll` for `POLLOUT`
///   first; such writes finish promptly once accepted.
final class HostStdioWriter: Sendable {
    static let shared = HostStdioWriter()

    /// How a host descriptor is written without blocking.
    private enum Route: Sendable {
        /// Our own non-blocking description of the same pipe.
        case reopenedPipe(Int32)
        case socket
        case polled
    }

    /// Routes by host descriptor, found on first use. Process-local: nothing
    /// here is stored in the object space.
    private let routes = Mutex<[Int32: Route]>([:])

    func write(_ descriptor: Int32, _ bytes: [UInt8]) -> WASIHostIO.Output {
        guard !bytes.isEmpty else { return .wrote(0) }
        let result: Int
        switch route(for: descriptor) {
        case let .reopenedPipe(pipe):
            result = bytes.withUnsafeBytes { systemWrite(pipe, $0.baseAddress!, $0.count) }
        case .socket:
            result = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress!, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
        case .polled:
            var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&entry, 1, 0)
            if ready == 0 { return .wouldBlock }
            result = bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress!, $0.count) }
        }
        if result >= 0 { return .wrote(result) }
        switch errno {
        case EAGAIN, EWOULDBLOCK, EINTR: return .wouldBlock
        case let code: return .failed(WASIErrno(hostErrno: code))
        }
    }

    private func route(for descriptor: Int32) -> Route {
        if let known = routes.withLock({ $0[descriptor] }) { return known }
        let found = classify(descriptor)
        return routes.withLock { routes in
            if let raced = routes[descriptor] {
                if case let .reopenedPipe(pipe) = found { close(pipe) }
                return raced
            }
            routes[descriptor] = found
            return found
        }
    }

    private func classify(_ descriptor: Int32) -> Route {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return .polled }
        switch status.st_mode & S_IFMT {
        case S_IFIFO:
            // Fails with ENXIO when the pipe has no reader any more; polling then
            // reports the error and the write gives EPIPE, as it should.
            let pipe = open("/proc/self/fd/\(descriptor)", O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            return pipe >= 0 ? .reopenedPipe(pipe) : .polled
        case S_IFSOCK:
            return .socket
        default:
            return .polled
        }
    }
}

/// `write(2)`, named apart from the methods called `write` around it.
@inline(__always)
func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(descriptor, buffer, count)
    #else
    Darwin.write(descriptor, buffer, count)
    #endif
}
