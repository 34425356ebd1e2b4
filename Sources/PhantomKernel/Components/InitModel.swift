import Foundation

/// The kernel's reading of an init config: Genode's semantics (`InitConfig`,
/// the routing layer) plus what the kernel needs to start a WebAssembly
/// component (argv, environment and preopens from the inline `config`, as
/// Genode's libc reads them).
struct InitModel {
    var root: ConfigNode
    var syntax: ConfigSyntax
    var initConfig: InitConfig
    var starts: [StartSpec]
    var parentProvides: [String]
    /// Init's messages about the config (warnings and errors), as it logs them.
    var warnings: [String]
    /// `<phantom><file_system><policy …/></file_system></phantom>`: which host
    /// sub directory the built-in File_system serves to which label.
    var fileSystemPolicies: ConfigNode?
    /// `<phantom snapshot_period="…"/>`, when given.
    var snapshotPeriod: String?

    init(root: ConfigNode, syntax: ConfigSyntax, source: String) throws {
        self.root = root
        self.syntax = syntax
        let initConfig = InitConfig(parsing: root)
        self.initConfig = initConfig
        parentProvides = initConfig.parentProvides
        warnings = initConfig.messages.map { message in
            message.location == .unknown ? message.description : "\(message.description) (\(source):\(message.location.line):\(message.location.column))"
        }
        starts = initConfig.starts.map { start in
            let configNode = start.config
            var fileSystems: [(guest: String, label: String)] = []
            for dir in configNode?.child(ofType: "vfs")?.children(ofType: "dir") ?? [] {
                guard let guest = dir[attribute: "name"], let fs = dir.child(ofType: "fs") else { continue }
                fileSystems.append((guest.hasPrefix("/") ? guest : "/" + guest, fs[attribute: "label"] ?? ""))
            }
            return StartSpec(
                name: start.name, binary: start.binary, version: start.version, ram: start.ram.value, caps: start.caps,
                priority: Int(start.priority),
                configText: configNode.map { ConfigText.render($0, as: syntax) } ?? "",
                fileSystems: fileSystems,
                arguments: configNode?.children(ofType: "arg").compactMap { $0[attribute: "value"] } ?? [],
                environment: configNode?.children(ofType: "env").compactMap { env in
                    env[attribute: "key"].map { "\($0)=\(env[attribute: "value"] ?? "")" }
                } ?? [],
                provides: start.provides, node: start.node,
                heartbeat: start.heartbeat, restartAfterSkippedHeartbeats: start.restartAfterSkippedHeartbeats)
        }
        let phantom = root.child(ofType: "phantom")
        fileSystemPolicies = phantom?.child(ofType: "file_system")
        snapshotPeriod = phantom?[attribute: "snapshot_period"]
    }

    /// The RAM init may hand out: `resource RAM preserve` is kept back from
    /// the space limit.
    func totalRAM(spaceLimit: UInt64) -> UInt64 {
        let preserve = initConfig.preservation.ram.value
        return spaceLimit > preserve ? spaceLimit - preserve : 0
    }
}
