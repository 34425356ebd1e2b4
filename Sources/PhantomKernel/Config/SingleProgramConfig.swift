extension Kernel {
    /// The init config of a system with one child — what `phantom run`
    /// boots: the program, its argv and environment as Genode's libc takes
    /// them (`<arg>` values are the whole argv, `<env>`), its linear memory
    /// capped by its RAM quota, and every service from init.
    public static func singleProgramConfig(name: String, binary: String, arguments: [String], environment: [String], ram: UInt64) -> String {
        var start = ConfigNode(type: "start", attributes: [.init("name", name), .init("ram", "\(ram)"), .init("caps", "1000")])
        start.children.append(ConfigNode(type: "binary", attributes: [.init("name", binary)]))
        var config = ConfigNode(type: "config")
        config.children += ([name] + arguments).map { ConfigNode(type: "arg", attributes: [.init("value", $0)]) }
        config.children += environment.map { variable in
            let parts = variable.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return ConfigNode(type: "env", attributes: [.init("key", String(parts[0])), .init("value", parts.count > 1 ? String(parts[1]) : "")])
        }
        start.children.append(config)
        let services = ["LOG", "ROM", "PD", "CPU", "Timer", "File_system", "Report"].map { ConfigNode(type: "service", attributes: [.init("name", $0)]) }
        let root = ConfigNode(type: "config", children: [
            ConfigNode(type: "parent-provides", children: services),
            ConfigNode(type: "default-route", children: [ConfigNode(type: "any-service", children: [ConfigNode(type: "parent")])]),
            start,
        ])
        return (try? ConfigRenderer.render(root, as: .xml)) ?? ""
    }
}
