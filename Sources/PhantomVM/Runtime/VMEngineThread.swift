import PhantomEngine
import PhantomSpace
import Synchronization

/// A Phantom VM behind the kernel's engine contract (`EngineThread`): a
/// component whose binary is a class bundle is one VM, its Phantom threads
/// run by the VM's own round-robin inside the kernel task's slices.
///
/// The global cut: a slice runs the VM in rounds and polls the space's
/// safepoint coordinator between two rounds, where every Phantom thread's
/// registers are in its frame (`VirtualMachine.runRound`). A snapshot the
/// kernel requests mid-slice therefore waits at most one round (10,000
/// instructions, about 0.1 ms), and captures the VM at an instruction
/// boundary of every thread, in the same cut as the WebAssembly components.
/// Stack pages are written through host pointers and marked dirty when a
/// round loads a frame; a round never spans a capture, so none is missed.
///
/// A sleeping VM (every thread sleeps) blocks the task until the first
/// wake-up time; a VM whose threads all wait for each other ends the
/// component as trapped (a deadlock nothing can break); when every thread
/// has ended the component exits with 0.
public final class VMEngineThread: EngineThread, @unchecked Sendable {
    // @unchecked: the scheduler runs one slice of a task at a time, and the
    // VM is touched only inside `runSlice` (the owner's setup and teardown
    // happen before the task is submitted and after it ended).
    public let vm: VirtualMachine
    /// Instructions per kernel fuel unit: the kernel's fuel counts
    /// WebAssembly safepoints (back-edges and calls, a few to a few dozen
    /// instructions apart), ours counts Phantom instructions.
    public static let instructionsPerFuel = 10
    /// Instructions per round, the longest a safepoint request waits.
    public static let roundFuel = 10_000
    private var outcome: SliceOutcome?
    /// The heap's byte limit as the owner sets it from any thread (a quota
    /// change); applied at the start of the next slice.
    private let limit: Atomic<UInt64>
    /// The heap's bytes at the end of the last slice, for reports read on other threads.
    private let bytesInUse: Atomic<UInt64>

    /// Told when the VM goes idle (every thread sleeps or waits: the VM's
    /// scheduler waits for time to pass, its event loop) and when it runs
    /// again; the kernel's heartbeat monitor counts the former as an answer.
    public let onIdle: @Sendable (_ idle: Bool) -> Void

    public init(vm: VirtualMachine, onIdle: @escaping @Sendable (_ idle: Bool) -> Void = { _ in }) {
        self.vm = vm
        self.onIdle = onIdle
        limit = Atomic(vm.heap.byteLimit)
        bytesInUse = Atomic(vm.heap.liveBytes)
    }

    /// The byte limit for the VM's objects (a component's RAM quota).
    public func setByteLimit(_ bytes: UInt64) { limit.store(bytes, ordering: .relaxed) }

    /// What the VM's objects took when its last slice ended.
    public var liveBytes: UInt64 { bytesInUse.load(ordering: .relaxed) }

    public func runSlice(fuel: Int) -> SliceOutcome {
        if let outcome { return outcome }
        let space = vm.heap.space
        space.safepoints.register()
        defer {
            bytesInUse.store(vm.heap.liveBytes, ordering: .relaxed)
            space.safepoints.unregister()
        }
        vm.heap.byteLimit = limit.load(ordering: .relaxed)
        onIdle(false)
        var remaining = max(1, fuel) * Self.instructionsPerFuel
        while remaining > 0 {
            let result: VirtualMachine.RoundResult
            do { result = try vm.runRound(fuel: min(remaining, Self.roundFuel)) } catch {
                return end(.trapped(message: "the Phantom VM stopped: \(error)"))
            }
            switch result {
            case .ran:
                remaining -= Self.roundFuel
                space.safepoints.poll()
            case let .idle(until):
                onIdle(true)
                return .blocked(.wallClock(nanoseconds: until))
            case .deadlocked:
                return end(.trapped(message: "every remaining Phantom thread waits for another (deadlock)"))
            case .finished:
                return end(.exited(code: 0))
            }
        }
        return .yielded
    }

    private func end(_ final: SliceOutcome) -> SliceOutcome {
        outcome = final
        return final
    }
}
