import Foundation
import PhantomSpace
import PhantomStore
import PhantomWasm
@testable import PhantomKernel

/// The repository's committed WebAssembly fixtures.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func directory(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// A node built in code: `node("start", ["name": "a"], [children])`.
func node(_ type: String, _ attributes: KeyValuePairs<String, String> = [:], _ children: [ConfigNode] = []) -> ConfigNode {
    ConfigNode(type: type, attributes: attributes.map { ConfigAttribute($0.key, $0.value) }, children: children)
}

/// A system on an in-memory image that can be "killed" and booted again.
final class KernelHarness {
    let device = MemoryBlockDevice()
    var space: ObjectSpace
    var kernel: Kernel
    let log = KernelLog(writer: nil)
    let romDirectory: String
    let fileSystemRoot: String

    init(config: ConfigNode, romDirectory: String = Fixtures.directory("Programs/wasm/c")) throws {
        self.romDirectory = romDirectory
        fileSystemRoot = FileManager.default.temporaryDirectory.appendingPathComponent("phantom-kernel-\(UUID().uuidString)").path
        space = try ObjectSpace(store: try Store.create(on: device), options: .init(limitBytes: 1 << 30))
        let model = try InitModel(root: config, syntax: .xml, source: "test config")
        kernel = try Kernel.boot(space: space, model: model, text: "", stored: nil,
                                 options: .init(romDirectory: romDirectory, fileSystemRoot: fileSystemRoot), log: log)
        kernel.run()
    }

    /// Boots an init config given as text (XML or HID, told apart as
    /// `phantom boot` does), so children's config ROMs are rendered in the
    /// syntax the config was written in.
    init(configText: String, source: String, romDirectory: String) throws {
        self.romDirectory = romDirectory
        fileSystemRoot = FileManager.default.temporaryDirectory.appendingPathComponent("phantom-kernel-\(UUID().uuidString)").path
        space = try ObjectSpace(store: try Store.create(on: device), options: .init(limitBytes: 1 << 30))
        let model = try InitModel.parse(configText, source: source)
        kernel = try Kernel.boot(space: space, model: model, text: configText, stored: nil,
                                 options: .init(romDirectory: romDirectory, fileSystemRoot: fileSystemRoot), log: log)
        kernel.run()
    }

    /// Takes a snapshot with the kernel's tables written at its cut.
    func snapshot() throws {
        let kernel = self.kernel
        try space.snapshot(whileStopped: { kernel.writeTablesAtCut() })
    }

    /// Snapshot, stop everything, reopen the image and boot it again: what a
    /// kill after that snapshot and a new `phantom boot` do.
    func restart(config: ConfigNode) throws {
        try restart(model: try InitModel(root: config, syntax: .xml, source: "test config"), text: "")
    }

    /// `restart(config:)` with the config as text.
    func restart(configText: String) throws {
        try restart(model: try InitModel.parse(configText, source: "test config"), text: configText)
    }

    private func restart(model: InitModel, text: String) throws {
        try snapshot()
        kernel.stop()
        (try? WasmEngine.shared(for: space))?.close()
        space = try ObjectSpace(store: try Store.open(device), options: .init(limitBytes: 1 << 30))
        let stored = try KernelRecord.load(from: space)
        kernel = try Kernel.boot(space: space, model: model, text: text, stored: stored,
                                 options: .init(romDirectory: romDirectory, fileSystemRoot: fileSystemRoot), log: log)
        kernel.run()
    }

    func waitForLine(after: UInt64 = 0, _ matches: @escaping (String) -> Bool) -> KernelLog.Line? {
        log.waitForLine(after: after, timeout: 120, matches)
    }

    deinit {
        kernel.stop()
        try? FileManager.default.removeItem(atPath: fileSystemRoot)
    }
}
