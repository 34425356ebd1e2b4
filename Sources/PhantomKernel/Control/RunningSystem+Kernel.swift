import Foundation
import PhantomSpace
import PhantomStore
import Synchronization

/// A booted system as the control socket sees it: the kernel, its log and its
/// snapshot daemon. `phantom boot` owns one; the commands reach it through
/// `ControlServer`.
///
/// Stop and rollback requests only set a flag: the boot's main thread acts on
/// them (stopping the daemon and the kernel, then taking the final snapshot
/// or rolling the store back), because the store is not safe to use from two
/// threads. For the same reason the generations it answers are the store's
/// state as of the last commit, recorded on the writer thread right after it.
public final class BootedSystem: SystemControl {
    public enum Ending: Sendable, Equatable {
        case stop
        case rollback(to: UInt64)
    }

    public let kernel: Kernel
    public let log: KernelLog
    private let snapshot: @Sendable () -> Result<SnapshotResult, Error>
    private let storeInfo: Mutex<StoreInfo>
    private let ending = Mutex<Ending?>(nil)

    public init(kernel: Kernel, log: KernelLog, storeInfo: StoreInfo,
                snapshot: @escaping @Sendable () -> Result<SnapshotResult, Error>) {
        self.kernel = kernel
        self.log = log
        self.snapshot = snapshot
        self.storeInfo = Mutex(storeInfo)
    }

    /// What was asked of the system, if anything (polled by `phantom boot`).
    public var requestedEnding: Ending? { ending.withLock { $0 } }

    /// Records the store's state after a commit (call on the writer thread).
    public func committed(_ info: StoreInfo) { storeInfo.withLock { $0 = info } }

    public func stateReport() -> String { kernel.stateReport() }

    public func logLines(after: UInt64) -> [KernelLog.Line] { log.lines(after: after) }

    public func waitForLogLines(after: UInt64, timeout: TimeInterval) -> [KernelLog.Line] {
        log.waitForLines(after: after, timeout: timeout)
    }

    public func snapshotNow() -> Result<UInt64, SystemControlError> {
        if ending.withLock({ $0 }) != nil { return .failure(SystemControlError("the system is stopping")) }
        switch snapshot() {
        case let .success(result): return .success(result.generation.generation)
        case let .failure(error): return .failure(SystemControlError("the snapshot failed: \(error)"))
        }
    }

    public func applyConfig(_ text: String) -> Result<[String], SystemControlError> {
        do {
            return .success(try kernel.apply(configText: text))
        } catch {
            return .failure(SystemControlError("\(error)"))
        }
    }

    public func generations() -> [GenerationSummary] {
        GenerationSummary.all(of: storeInfo.withLock { $0 })
    }

    public func requestStop() {
        ending.withLock { if $0 == nil { $0 = .stop } }
    }

    public func rollbackAndStop(to generation: UInt64) -> Result<Void, SystemControlError> {
        let retained = storeInfo.withLock { $0.generations.map(\.generation) }
        guard retained.contains(generation) else {
            return .failure(SystemControlError("generation \(generation) is not retained (retained: \(retained.map(String.init).joined(separator: ", ")))"))
        }
        ending.withLock { $0 = .rollback(to: generation) }
        return .success(())
    }
}
