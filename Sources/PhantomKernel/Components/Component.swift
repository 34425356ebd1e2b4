import PhantomEngine
import PhantomSpace
import PhantomVM
import PhantomWasm
import Synchronization

/// A running component as the kernel holds it while the process lives: its
/// persistent description (`ComponentImage`, written into the object space at
/// every cut) plus the transient views an engine rebuilds after a restore.
final class Component: @unchecked Sendable {
    // @unchecked: `image` and `task` change only under the kernel's lock; the
    // engine views are immutable once the component runs.
    var image: ComponentImage
    let instance: Instance?
    let thread: EngineThread?
    let wasi: WASI?
    var task: Scheduler.TaskID?
    /// Whether it reaches its event loop (`Kernel+Heartbeat.swift`).
    let liveness: Liveness
    /// Heartbeats it did not answer in a row (kernel lock). Transient: a
    /// restore starts counting anew.
    var skippedHeartbeats: UInt64 = 0
    /// `liveness.entries` at the last heartbeat (kernel lock).
    var entriesAtLastHeartbeat: UInt64 = 0
    /// A nested init's parsed config (kernel lock); rebuilt from
    /// `image.initConfigText` after a restore.
    var initModel: InitModel?
    /// A native test-init's script and timers (kernel lock).
    var testInit: TestInitRuntime?

    init(image: ComponentImage, instance: Instance?, thread: EngineThread?, wasi: WASI?, liveness: Liveness = Liveness()) {
        self.image = image
        self.liveness = liveness
        self.instance = instance
        self.thread = thread
        self.wasi = wasi
    }

    var name: String { image.name }
    var id: UInt64 { image.id }
    var isRunning: Bool { image.state == .running }
    /// Running, but stuck (Genode's STUCK, `Kernel+Dependencies.swift`).
    var isStuck: Bool { isRunning && image.stuck == true }

    /// Linear memory in use, charged to the component's RAM quota (for a
    /// Phantom VM component, its objects).
    var memoryBytes: UInt64 {
        if let vm = thread as? VMEngineThread { return vm.liveBytes }
        return (instance?.memoryPages ?? 0) * 65536
    }

    /// Whether it has engine state in the space (a WebAssembly instance or a Phantom VM heap).
    var hasEngineState: Bool { image.native == nil && (image.instance != 0 || image.pvmHeap != nil) }
}

/// What the personality tells the heartbeat monitor: a component reaches its
/// event loop when it waits for events — `service_next`, `poll_oneoff` with
/// a subscription other than a clock, a ROM call waiting for a new version —
/// whether the wait blocks or not.
/// Set from host calls on worker threads, read by the monitor: atomics.
final class Liveness: Sendable {
    /// Event-loop entries so far.
    let entries = Atomic<UInt64>(0)
    /// True while it is blocked in its event loop (an idle component
    /// answers every heartbeat, as Genode's idle entrypoint does).
    let waiting = Atomic<Bool>(false)

    /// An event-loop call: it blocks (`blocks`) or returns with an event.
    func eventLoop(blocks: Bool) {
        entries.add(1, ordering: .relaxed)
        waiting.store(blocks, ordering: .relaxed)
    }

    /// A Phantom VM component: going idle (every Phantom thread sleeps or
    /// waits) is entering its event loop; running again leaves it.
    func idle(_ idle: Bool) {
        if idle { entries.add(1, ordering: .relaxed) }
        waiting.store(idle, ordering: .relaxed)
    }
}

/// What a `start` node asks for, reduced to what the kernel acts on.
struct StartSpec: Equatable {
    var name: String
    var binary: String
    var version: String?
    var ram: UInt64
    var caps: UInt64
    var priority: Int
    /// The inline `config` node as text in the parent's syntax ("" when none).
    var configText: String
    /// Preopened directories: guest path → File_system session label.
    var fileSystems: [(guest: String, label: String)]
    /// `<config><arg value="…"/></config>`: argv after the name, as Genode's
    /// libc passes them; `<env key="…" value="…"/>` likewise.
    var arguments: [String] = []
    var environment: [String] = []
    /// Services the start node declares it provides (`provides`).
    var provides: [String]
    /// The node itself (routes are read from it when sessions are routed).
    var node: ConfigNode
    /// `<heartbeat/>` in the start node: init watches it (`Kernel+Heartbeat`).
    var heartbeat = false
    /// `<heartbeat restart_after_skipped=N/>`: restart after N skipped (0: never).
    var restartAfterSkippedHeartbeats: UInt64 = 0

    static func == (a: StartSpec, b: StartSpec) -> Bool {
        a.name == b.name && a.binary == b.binary && a.version == b.version && a.ram == b.ram && a.caps == b.caps
            && a.configText == b.configText && a.node == b.node
    }
}
