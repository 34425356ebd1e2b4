/// How one slice of a thread ended, in terms every engine shares.
public enum SliceOutcome: Equatable, Sendable {
    /// The fuel ran out at a safepoint; run it again to continue.
    case yielded
    /// A call into the system cannot finish yet; run the thread again once the
    /// waitable may have fired and the call is re-executed from its start.
    case blocked(Waitable)
    /// The program ended by itself: returned from its entry point (`code` 0)
    /// or asked to exit (WASI `proc_exit`, Phantom `sys exit`).
    case exited(code: UInt32)
    /// The program did something the engine refuses; ends its component only.
    case trapped(message: String)

    /// Whether the thread can never run again.
    public var isFinal: Bool {
        switch self {
        case .exited, .trapped: true
        case .yielded, .blocked: false
        }
    }
}

/// One thread of a component as the kernel's scheduler sees it, whatever engine
/// runs it (WebAssembly today, the Phantom VM next).
///
/// The engine keeps the thread's whole state in the object space and writes its
/// registers back whenever the space's safepoint coordinator asks (DESIGN.md
/// invariant 1), so the kernel may snapshot between any two slices and during
/// one. `runSlice` registers the calling OS thread as a mutator for its
/// duration; a blocked thread holds no OS thread.
public protocol EngineThread: AnyObject, Sendable {
    /// Runs until `fuel` safepoints (loop back-edges and calls) have passed, or
    /// the thread blocks, exits or traps. Calling it again after a final
    /// outcome returns the same outcome without running anything.
    func runSlice(fuel: Int) -> SliceOutcome
}
