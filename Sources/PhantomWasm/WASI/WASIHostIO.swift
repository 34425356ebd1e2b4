#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where stdio goes: process-local and pluggable, never stored. Tests capture
/// output with a closure; `phantom run` prints it (the default).
public struct WASIHostIO: Sendable {
    /// What reading stdin found.
    public enum Input: Equatable, Sendable {
        case data([UInt8])
        /// Nothing available now: the call blocks until `stdinDescriptor` is readable.
        case wouldBlock
        case endOfFile
        case failed(WASIErrno)
    }

    /// What writing to stdout or stderr did.
    public enum Output: Equatable, Sendable {
        /// This many bytes (from the start) were taken; fewer than offered is
        /// a short write, which `fd_write` reports as such (POSIX allows it).
        case wrote(Int)
        /// Nothing can be taken now: the call blocks until the descriptor is writable.
        case wouldBlock
        case failed(WASIErrno)
    }

    /// Takes what a program writes to fd 1 (`descriptor` 1) and fd 2 (2),
    /// without ever blocking the calling thread: a thread blocked in the host
    /// would hold up every snapshot and every stop request (issue 8).
    public var write: @Sendable (_ descriptor: Int32, _ bytes: [UInt8]) -> Output
    /// Reads at most `maxBytes` from stdin without blocking.
    public var input: @Sendable (_ maxBytes: Int) -> Input
    /// Whether stdin has data (or end of file) now, for `poll_oneoff`.
    public var inputReady: @Sendable () -> Bool
    /// The host descriptor to wait on when stdin has nothing (`BlockCondition.readable`).
    public var stdinDescriptor: Int32

    public init(write: @escaping @Sendable (Int32, [UInt8]) -> Output,
                input: @escaping @Sendable (Int) -> Input,
                inputReady: @escaping @Sendable () -> Bool = { WASIHostIO.hostReadable(0) },
                stdinDescriptor: Int32 = 0) {
        self.write = write
        self.input = input
        self.inputReady = inputReady
        self.stdinDescriptor = stdinDescriptor
    }

    /// With a sink that takes everything at once (a test's buffer, held output).
    public init(output: @escaping @Sendable (Int32, [UInt8]) -> WASIErrno,
                input: @escaping @Sendable (Int) -> Input,
                inputReady: @escaping @Sendable () -> Bool = { WASIHostIO.hostReadable(0) },
                stdinDescriptor: Int32 = 0) {
        self.init(write: WASIHostIO.taking(output), input: input, inputReady: inputReady, stdinDescriptor: stdinDescriptor)
    }

    /// Replaces `write` with a sink that takes everything at once.
    public var output: @Sendable (Int32, [UInt8]) -> WASIErrno {
        get {
            let write = self.write
            return { descriptor, bytes in
                switch write(descriptor, bytes) {
                case .wrote: .success
                case .wouldBlock: .again
                case let .failed(error): error
                }
            }
        }
        set { write = WASIHostIO.taking(newValue) }
    }

    private static func taking(_ sink: @escaping @Sendable (Int32, [UInt8]) -> WASIErrno) -> @Sendable (Int32, [UInt8]) -> Output {
        { descriptor, bytes in
            let error = sink(descriptor, bytes)
            return error == .success ? .wrote(bytes.count) : .failed(error)
        }
    }

    /// Whether host fd `descriptor` can be read without blocking.
    public static func hostReadable(_ descriptor: Int32) -> Bool {
        var fds = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&fds, 1, 0) > 0
    }

    /// The process's own stdin, stdout and stderr.
    public static let standard = WASIHostIO(
        write: { descriptor, bytes in HostStdioWriter.shared.write(descriptor, bytes) },
        input: { maxBytes in
            var fds = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            let ready = poll(&fds, 1, 0)
            if ready == 0 { return .wouldBlock }
            if ready < 0 { return errno == EINTR ? .wouldBlock : .failed(WASIErrno(hostErrno: errno)) }
            var buffer = [UInt8](repeating: 0, count: max(maxBytes, 1))
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress!, maxBytes) }
            if n < 0 { return errno == EAGAIN || errno == EINTR ? .wouldBlock : .failed(WASIErrno(hostErrno: errno)) }
            return n == 0 ? .endOfFile : .data(Array(buffer[..<n]))
        })
}

extension WASIErrno {
    /// Translates a host `errno`.
    init(hostErrno code: Int32) {
        switch code {
        case EPERM: self = .perm
        case ENOENT: self = .noent
        case EIO: self = .io
        case ENXIO: self = .nxio
        case E2BIG: self = .e2big
        case EBADF: self = .badf
        case EAGAIN: self = .again
        case ENOMEM: self = .nomem
        case EACCES: self = .acces
        case EFAULT: self = .fault
        case EBUSY: self = .busy
        case EEXIST: self = .exist
        case EXDEV: self = .xdev
        case ENODEV: self = .nodev
        case ENOTDIR: self = .notdir
        case EISDIR: self = .isdir
        case EINVAL: self = .inval
        case ENFILE: self = .nfile
        case EMFILE: self = .mfile
        case ENOTTY: self = .notty
        case ETXTBSY: self = .txtbsy
        case EFBIG: self = .fbig
        case ENOSPC: self = .nospc
        case ESPIPE: self = .spipe
        case EROFS: self = .rofs
        case EMLINK: self = .mlink
        case EPIPE: self = .pipe
        case ERANGE: self = .range
        case ENAMETOOLONG: self = .nametoolong
        case ENOSYS: self = .nosys
        case ENOTEMPTY: self = .notempty
        case ELOOP: self = .loop
        case EOVERFLOW: self = .overflow
        case ESTALE: self = .stale
        case EINTR: self = .intr
        case EOPNOTSUPP: self = .notsup
        case ENOTSOCK: self = .notsock
        case EILSEQ: self = .ilseq
        default: self = .io
        }
    }
}
