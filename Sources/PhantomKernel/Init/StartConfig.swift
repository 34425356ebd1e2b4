/// One `<start>` node: a child init is to run (Sandbox `Child`,
/// repos/os/src/lib/sandbox/child.h; schema repos/os/src/init/init.hsd).
public struct StartConfig: Sendable, Hashable {
    /// The child's name, unique among init's `<start>` and `<alias>` nodes. It
    /// is the first element of every label the child's sessions carry.
    public var name: String
    /// The `version` attribute. A changed version restarts the child even if
    /// nothing else changed (Sandbox `Start_model::matches` compares name and
    /// version). Nil when absent, which differs from `version=""` only in the
    /// state report.
    public var version: String?
    /// `<binary name=…>`, else the child's name. A `<binary>` node without a
    /// name gives an empty binary name, as in Genode.
    public var binary: String
    /// The `ld` attribute (default yes). With `ld="no"` the binary is handed
    /// out for `ld.lib.so` requests; see `RouteModel.resolve(_:for:…)`.
    public var ld: Bool
    /// RAM the child is to get: `ram`, else `<default ram>`, overridden by a
    /// legacy `<resource name="RAM" quantum=…>` sub node.
    public var ram: NumberOfBytes
    /// Capabilities: `caps`, else `<default caps>`, overridden by a legacy
    /// `<resource name="CAP" quantum=…>` (0 when that has no quantum).
    public var caps: UInt64
    /// CPU quota in percent from `<resource name="CPU" quantum=…>` (0: none).
    public var cpuPercent: UInt64
    /// The `priority` attribute as written: 0 is the parent's own priority,
    /// negative values are lower.
    public var priority: Int64
    /// Genode's internal priority level: the negated `priority`, clamped to
    /// init's `prio_levels` (Sandbox `priority_from_node`). 0 is highest.
    public var priorityLevel: Int64
    /// `managing_system` (default no): may the child manage system resources.
    public var managingSystem: Bool
    /// The inline `<config>` node, served to the child as its `config` ROM.
    public var config: ConfigNode?
    /// The child's own routing rules; nil means init's `<default-route>`.
    public var route: RouteModel?
    /// Services the child may announce (`<provides><service name=…/>`).
    public var provides: [String]
    /// `<exit propagate="yes"/>`: the child's exit ends init with the same
    /// exit value instead of being logged and reported.
    public var exitPropagate: Bool
    /// A `<heartbeat>` sub node is present: init watches the child's liveness.
    public var heartbeat: Bool
    /// `<heartbeat restart_after_skipped=…>` (schema default 0: never).
    public var restartAfterSkippedHeartbeats: UInt64
    /// The node itself, for detecting changes on reconfiguration (Genode
    /// compares start nodes to decide between keeping, updating and
    /// restarting a child).
    public var node: ConfigNode

    public var location: ConfigLocation { node.location }

    /// Genode's child names are `String<64>`: at most 63 bytes.
    public static let maxNameBytes = 63
}

extension StartConfig {
    /// Reads a `<start>` node; nil (with messages) when the child cannot be
    /// started as written.
    static func parse(_ node: ConfigNode, defaults: InitConfig.Defaults, prioLevels: Int64,
                      reader: inout AttributeReader) -> StartConfig? {
        guard let name = node[attribute: "name"], !name.isEmpty else {
            reader.messages.append(.warning("missing 'name' attribute in '<start>' entry", at: node.location))
            reader.messages.append(.warning("skipped startup of nameless child", at: node.location))
            return nil
        }
        let context = "start \"\(name)\""
        guard name.utf8.count <= maxNameBytes else {
            reader.messages.append(.error("\(context): name longer than \(maxNameBytes) bytes, child not started",
                                          at: node.location))
            return nil
        }

        var malformed = false
        func take<T>(_ value: Malformable<T>, _ fallback: T) -> T {
            if value.isMalformed { malformed = true }
            return value.or(fallback)
        }

        var ram = take(reader.bytes(node, "ram", context: context), defaults.ram)
        var caps = take(reader.unsigned(node, "caps", context: context), defaults.caps)
        var cpuPercent: UInt64 = 0
        for resource in node.children(ofType: "resource") {
            switch resource[attribute: "name"] {
            case "RAM": ram = take(reader.bytes(resource, "quantum", context: context), ram)
            // Genode's defaults differ: a RAM resource without quantum keeps the
            // amount so far, a CAP resource without quantum means 0 caps.
            case "CAP": caps = take(reader.unsigned(resource, "quantum", context: context), 0)
            case "CPU": cpuPercent = take(reader.unsigned(resource, "quantum", context: context), cpuPercent)
            default: break
            }
        }
        let priority = take(reader.signed(node, "priority", context: context), 0)
        if malformed {
            reader.messages.append(.error("\(context): child not started because of malformed attributes", at: node.location))
            return nil
        }

        let binary: String = node.child(ofType: "binary").map { $0[attribute: "name"] ?? "" } ?? name
        let exitNode = node.child(ofType: "exit")
        let heartbeatNode = node.child(ofType: "heartbeat")
        let provides = node.child(ofType: "provides")?.children(ofType: "service").map { $0[attribute: "name"] ?? "" } ?? []

        return StartConfig(
            name: name,
            version: node[attribute: "version"],
            binary: binary,
            ld: reader.bool(node, "ld", default: true, context: context),
            ram: ram,
            caps: caps,
            cpuPercent: cpuPercent,
            priority: priority,
            priorityLevel: priorityLevel(of: name, priority: priority, prioLevels: prioLevels,
                                         messages: &reader.messages, at: node.location),
            managingSystem: reader.bool(node, "managing_system", default: false, context: context),
            config: node.child(ofType: "config"),
            route: node.child(ofType: "route").map(RouteModel.init(route:)),
            provides: provides,
            exitPropagate: exitNode.map { reader.bool($0, "propagate", default: false, context: context) } ?? false,
            heartbeat: heartbeatNode != nil,
            restartAfterSkippedHeartbeats: heartbeatNode.map {
                reader.unsigned($0, "restart_after_skipped", context: context).or(0)
            } ?? 0,
            node: node)
    }

    /// Sandbox `priority_from_node` (utils.h): priorities are negative in the
    /// config because a child never runs above its parent; internally they are
    /// negated, and a level beyond `prio_levels` is raised to the lowest one,
    /// with Genode's warning (which prints both in config form).
    static func priorityLevel(of name: String, priority: Int64, prioLevels: Int64,
                              messages: inout [InitMessage], at location: ConfigLocation) -> Int64 {
        let level = 0 &- priority
        guard level != 0, level >= prioLevels else { return level }
        let raised = prioLevels > 0 ? prioLevels - 1 : 0
        messages.append(.warning("\(name): invalid priority, upgrading from \(0 &- level) to \(0 &- raised)", at: location))
        return raised
    }
}
