import PhantomEngine
import PhantomSpace
import PhantomWasm

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

    init(image: ComponentImage, instance: Instance?, thread: EngineThread?, wasi: WASI?) {
        self.image = image
        self.instance = instance
        self.thread = thread
        self.wasi = wasi
    }

    var name: String { image.name }
    var id: UInt64 { image.id }
    var isRunning: Bool { image.state == .running }

    /// Linear memory in use, charged to the component's RAM quota.
    var memoryBytes: UInt64 { (instance?.memoryPages ?? 0) * 65536 }
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

    static func == (a: StartSpec, b: StartSpec) -> Bool {
        a.name == b.name && a.binary == b.binary && a.version == b.version && a.ram == b.ram && a.caps == b.caps
            && a.configText == b.configText && a.node == b.node
    }
}
