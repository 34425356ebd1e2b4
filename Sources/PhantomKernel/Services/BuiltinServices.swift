import Foundation

/// The services init provides itself (its `parent-provides`), on host
/// resources. Each declares what a restore does to its host side (DESIGN.md
/// invariant 6):
///
/// | service | host side | after a restore |
/// |---|---|---|
/// | LOG | the kernel log (stdout) | nothing to re-open; lines after the snapshot are written again |
/// | ROM | files in the ROM directory; inline configs; reports | re-read by name |
/// | Report | kept in the kernel's tables | restored with them |
/// | Timer | the host's clocks; the scheduler's wall-clock timer | nothing to re-open: deadlines are wall-clock times stored with the blocked call, re-armed when it is re-executed, so a sleep ends when it would have; a WASI component's session (TimerPersonality.swift) is found again in the tables |
/// | File_system | a host directory per policy | files re-opened by path (WASI) |
/// | PD, CPU | the component's quota and priority | part of the tables |
final class BuiltinServices: Sendable {
    static let names: Set<String> = ["LOG", "ROM", "Report", "Timer", "File_system", "PD", "CPU", "Terminal"]

    let romDirectory: String

    init(romDirectory: String) {
        self.romDirectory = romDirectory
    }

    /// A component's binary from the ROM directory (`NAME`, else `NAME.wasm`).
    func binary(named name: String) throws -> [UInt8] {
        guard !name.contains("/"), !name.isEmpty, name != ".", name != ".." else {
            throw KernelError.start("binary \"\(name)\" is not a ROM module name")
        }
        for candidate in [name, name + ".wasm"] {
            let path = (romDirectory as NSString).appendingPathComponent(candidate)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
               let data = FileManager.default.contents(atPath: path) {
                return Array(data)
            }
        }
        throw KernelError.start("ROM module \"\(name)\" not found in \(romDirectory)")
    }

    /// A ROM file by name from the ROM directory, if there is one.
    func romFile(named name: String) -> [UInt8]? {
        guard !name.contains("/"), !name.isEmpty, name != ".", name != ".." else { return nil }
        let path = (romDirectory as NSString).appendingPathComponent(name)
        return FileManager.default.contents(atPath: path).map { Array($0) }
    }

    /// The host directory the File_system service grants to `label`: the
    /// `root` of the policy that label selects (exact label, then longest
    /// prefix, then `default-policy`), under the service's host root, created
    /// if missing. No policy, no directory (Genode: the session is denied).
    func fileSystemDirectory(label: String, root: String, policies: ConfigNode?) throws -> String {
        let policy: ConfigNode
        switch SessionPolicy.select(label: SessionLabel(label), in: policies ?? ConfigNode(type: "file_system")) {
        case let .policy(_, node): policy = node
        case let .defaultPolicy(node): policy = node
        case let .denied(message): throw KernelError.start("File_system: \(message.text)")
        }
        let relative = (policy[attribute: "root"] ?? "/").split(separator: "/").filter { $0 != "." && !$0.isEmpty }
        guard !relative.contains("..") else { throw KernelError.start("File_system policy root \"\(policy[attribute: "root"] ?? "")\" leaves the service's root") }
        let path = ([root] + relative.map(String.init)).joined(separator: "/")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }
}

