import PhantomEngine
import PhantomSpace

// The contract between the interpreter and the functions it imports from the
// host (WASI preview 1 first, kernel sessions later). Both sides keep their
// state in the object space; nothing here may hold state that a snapshot needs.

/// A WebAssembly value as its raw bits: i32 zero-extended, i64, f32/f64 bit
/// patterns, references as described by the runtime (0 = null).
public typealias RawValue = UInt64

/// A trap: ends its instance (never the host) with a message naming the cause.
public struct Trap: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The calling instance's linear memory as a host function sees it.
/// Addresses are guest addresses (offsets into the memory); every access is
/// bounds-checked and an out-of-bounds one throws a trap. Writes are marked
/// dirty in the object space.
public protocol GuestMemory: AnyObject {
    /// Current size in bytes.
    var byteCount: UInt64 { get }
    func read(at address: UInt64, count: Int) throws(Trap) -> [UInt8]
    func write(_ bytes: [UInt8], at address: UInt64) throws(Trap)
    func loadUInt32(at address: UInt64) throws(Trap) -> UInt32
    func loadUInt64(at address: UInt64) throws(Trap) -> UInt64
    func storeUInt32(_ value: UInt32, at address: UInt64) throws(Trap)
    func storeUInt64(_ value: UInt64, at address: UInt64) throws(Trap)
}

/// What a host call did.
public enum HostCallOutcome: Equatable, Sendable {
    /// Finished; these are the function's results.
    case returned([RawValue])
    /// The program ends with this exit code (WASI `proc_exit`).
    case exit(code: UInt32)
    /// The call cannot finish yet. The thread parks (not holding a worker,
    /// counted as blocked for safepoints) and the call is *re-executed from
    /// its start with the same arguments* once the condition may hold — also
    /// after a restore from a snapshot (DESIGN.md invariant 5).
    case block(BlockCondition)
    /// Ends the instance with a trap.
    case trap(Trap)
}

/// What a blocked host call waits for: the engine contract's waitable
/// (`PhantomEngine`), named here as the host interface has always named it.
public typealias BlockCondition = Waitable

/// Everything a host function may touch during one call: the caller's memory
/// and the call's own scratch slot — never the object space as a whole
/// (DESIGN.md invariant 7). A host function reaches anything else only
/// through what its resolver gave it: a component's WASI state, its sessions.
public struct HostCallContext {
    /// The caller's memory 0, if it has one.
    public let memory: GuestMemory?
    /// A persistent scratch slot for this call, stored with the calling thread:
    /// 0 on the first execution of a call, and whatever the host function left
    /// there on a re-execution of the same (blocked) call. Cleared when the call
    /// returns. A sleep stores its absolute deadline here, so that re-executing
    /// it after a restore does not restart the sleep.
    public var pendingCallState: UInt64

    public init(memory: GuestMemory?, pendingCallState: UInt64) {
        self.memory = memory
        self.pendingCallState = pendingCallState
    }
}

/// One imported function implemented by the host.
public struct HostFunction: Sendable {
    public let parameters: [ValueType]
    public let results: [ValueType]
    public let call: @Sendable (inout HostCallContext, [RawValue]) -> HostCallOutcome

    public init(parameters: [ValueType], results: [ValueType],
                call: @escaping @Sendable (inout HostCallContext, [RawValue]) -> HostCallOutcome) {
        self.parameters = parameters
        self.results = results
        self.call = call
    }
}

/// Resolves imports by module and name (e.g. "wasi_snapshot_preview1", "fd_write").
public protocol HostModuleResolver {
    func resolve(module: String, name: String) -> HostFunction?
}
