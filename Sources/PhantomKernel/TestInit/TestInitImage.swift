import Foundation

/// A test-init's progress, in the kernel's tables: it survives kill -9 with
/// everything else. The step index moves in the same locked change as what
/// completed it (a matched log line, a published config), so a snapshot
/// holds either both or neither.
struct TestInitImage: Codable, Equatable {
    /// The step running now (the number in its `step N (type)` line).
    var step = 0
    /// When the running `sleep` step ends (wall-clock nanoseconds; a restore
    /// goes on waiting for the same instant, as a Timer session would).
    var sleepUntil: UInt64?
    /// Steps that failed and were skipped (`phantom_keep_going`), as messages.
    var failures: [String] = []
}

/// What a test-init keeps while the process lives (kernel lock).
final class TestInitRuntime {
    let script: TestInitScript
    /// The step whose `step N` line was printed, and when it began (its
    /// limit counts from then; after a restore, from the restore).
    var announcedStep = -1
    var stepStarted = Date()
    /// The last state report an `expect_init_state` step rejected (printed
    /// once per change, as test-init warns on every one).
    var lastRejectedState: [UInt8] = []

    init(script: TestInitScript) {
        self.script = script
    }
}
