import Foundation

/// The kernel's reading of an init config: the `start` nodes as `StartSpec`s,
/// `parent-provides`, routes, `default` quotas and our own `phantom` node.
struct InitModel {
    var root: ConfigNode
    var syntax: ConfigSyntax
    var starts: [StartSpec]
    var parentProvides: [String]
    var warnings: [String]
    /// `<phantom><file_system><policy …/></file_system></phantom>`: which host
    /// sub directory the built-in File_system serves to which label.
    var fileSystemPolicies: [ConfigNode]
    /// `<phantom snapshot_period="…"/>`, when given.
    var snapshotPeriod: String?

    static let knownTopLevel: Set<String> = [
        "parent-provides", "default-route", "default", "start", "service", "report", "resource",
        "alias", "phantom", "heartbeat",
    ]

    init(root: ConfigNode, syntax: ConfigSyntax, source: String) throws {
        self.root = root
        self.syntax = syntax
        var warnings: [String] = []
        parentProvides = root.child(ofType: "parent-provides")?.children(ofType: "service").compactMap { $0[attribute: "name"] } ?? []
        let defaults = root.child(ofType: "default")
        let defaultCaps = defaults?[attribute: "caps"].flatMap { UInt64($0) } ?? 0
        var starts: [StartSpec] = []
        var names = Set<String>()
        for node in root.children {
            guard Self.knownTopLevel.contains(node.type) else {
                warnings.append("unknown config element type \"\(node.type)\"")
                continue
            }
            guard node.type == "start" else { continue }
            guard let name = node[attribute: "name"], !name.isEmpty else {
                throw KernelError.config("\(source):\(node.location.line):\(node.location.column): a start node has no name")
            }
            guard names.insert(name).inserted else {
                throw KernelError.config("\(source):\(node.location.line):\(node.location.column): more than one start node is named \"\(name)\"")
            }
            let ram: UInt64
            if let text = node[attribute: "ram"] {
                guard let value = Quantity.parse(text) else {
                    throw KernelError.config("\(source):\(node.location.line):\(node.location.column): start \"\(name)\": ram=\"\(text)\" is not a size (e.g. 4M, 512K)")
                }
                ram = value
            } else {
                ram = 0
            }
            let configNode = node.child(ofType: "config")
            var fileSystems: [(guest: String, label: String)] = []
            for dir in configNode?.child(ofType: "vfs")?.children(ofType: "dir") ?? [] {
                guard let guest = dir[attribute: "name"], let fs = dir.child(ofType: "fs") else { continue }
                fileSystems.append((guest.hasPrefix("/") ? guest : "/" + guest, fs[attribute: "label"] ?? ""))
            }
            starts.append(StartSpec(
                name: name, binary: node.child(ofType: "binary")?[attribute: "name"] ?? name,
                version: node[attribute: "version"], ram: ram,
                caps: node[attribute: "caps"].flatMap { UInt64($0) } ?? defaultCaps,
                priority: node[attribute: "priority"].flatMap { Int($0) } ?? 0,
                configText: configNode.map { ConfigText.render($0, as: syntax) } ?? "",
                fileSystems: fileSystems,
                arguments: configNode?.children(ofType: "arg").compactMap { $0[attribute: "value"] } ?? [],
                environment: configNode?.children(ofType: "env").compactMap { env in
                    env[attribute: "key"].map { "\($0)=\(env[attribute: "value"] ?? "")" }
                } ?? [],
                provides: node.child(ofType: "provides")?.children(ofType: "service").compactMap { $0[attribute: "name"] } ?? [],
                node: node))
        }
        self.starts = starts
        self.warnings = warnings
        let phantom = root.child(ofType: "phantom")
        fileSystemPolicies = phantom?.child(ofType: "file_system")?.children.filter { $0.type == "policy" || $0.type == "default-policy" } ?? []
        snapshotPeriod = phantom?[attribute: "snapshot_period"]
    }

    /// The RAM init may hand out: `resource RAM preserve` is kept back from
    /// the space limit.
    func totalRAM(spaceLimit: UInt64) -> UInt64 {
        let preserve = root.children(ofType: "resource").first { $0[attribute: "name"] == "RAM" }?[attribute: "preserve"]
            .flatMap(Quantity.parse) ?? 0
        return spaceLimit > preserve ? spaceLimit - preserve : 0
    }
}

/// Genode's size notation: a number with an optional K, M or G suffix.
enum Quantity {
    static func parse(_ text: String) -> UInt64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let last = trimmed.last else { return nil }
        let multiplier: UInt64
        var digits = Substring(trimmed)
        switch last {
        case "K", "k": multiplier = 1 << 10; digits = digits.dropLast()
        case "M", "m": multiplier = 1 << 20; digits = digits.dropLast()
        case "G", "g": multiplier = 1 << 30; digits = digits.dropLast()
        default: multiplier = 1
        }
        guard let value = UInt64(digits) else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }
}
