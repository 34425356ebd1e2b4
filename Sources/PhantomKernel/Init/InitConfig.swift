/// Init's config as a typed model: what to start, how to route, what to
/// report (Sandbox `Config_model`, repos/os/src/lib/sandbox/config_model.cc;
/// schema repos/os/src/init/init.hsd).
///
/// Reading never fails as a whole. Like Genode's init, a bad entry is logged
/// and the rest applies; the lines are in `messages`, in document order, with
/// Genode's wording where Genode has one. Where Genode would silently use a
/// default for an unreadable value, we log it too (see `AttributeReader`).
///
/// Two deliberate differences from Genode's init:
/// - An unknown node type is logged with Genode's error and skipped. Genode
///   additionally logs "unable to apply complete configuration" and stops
///   applying the rest of the config at that node.
/// - A second `<start>` or `<alias>` with a name already in use is reported
///   and ignored. Genode keeps it in its model but never creates the child
///   while the first exists, without a message.
///
/// docs/INIT.md lists all differences and documents our `<phantom>` node.
public struct InitConfig: Sendable, Hashable {
    /// The config's `version` attribute, reflected in the state report.
    public var version: String?
    /// `verbose`: log children's resources and routing decisions.
    public var verbose: Bool
    /// `ld_verbose`: passed to the dynamic linker in Genode; kept for
    /// completeness.
    public var ldVerbose: Bool
    /// `prio_levels` (0 when absent or not a power of two below 64).
    public var prioLevels: Int64
    /// Service names of all `<parent-provides>` nodes, in document order.
    public var parentProvides: [String]
    /// `<default-route>`: routes of children without their own `<route>`.
    public var defaultRoute: RouteModel?
    /// `<default caps=… ram=…>`.
    public var defaults: Defaults
    /// `<affinity-space width=… height=…>`.
    public var affinitySpace: AffinitySpace?
    /// `<report>`; nil means no state report.
    public var report: ReportConfig?
    /// `<heartbeat rate_ms=…>`; nil means no heartbeat monitoring.
    public var heartbeat: HeartbeatConfig?
    /// `<resource name="RAM"|"CAP" preserve=…>`: what init keeps for itself.
    public var preservation: Preservation
    /// Children in document order, which is also the order they are started
    /// in and get slack RAM in.
    public var starts: [StartConfig]
    /// `<alias name=… child=…/>` in document order.
    public var aliases: [AliasConfig]
    /// `<service>` nodes: services init offers to its parent.
    public var services: [ServiceConfig]
    /// Our `<phantom>` node (snapshot period, retained generations).
    public var phantom: PhantomConfig?
    /// What was wrong or noteworthy, in document order.
    public var messages: [InitMessage]

    public struct Defaults: Sendable, Hashable {
        public var caps: UInt64
        public var ram: NumberOfBytes

        public init(caps: UInt64 = 0, ram: NumberOfBytes = NumberOfBytes(0)) {
            self.caps = caps
            self.ram = ram
        }
    }

    public struct AffinitySpace: Sendable, Hashable {
        public var width: UInt64
        public var height: UInt64

        public init(width: UInt64, height: UInt64) {
            self.width = width
            self.height = height
        }
    }

    /// The node types init knows (Sandbox `Config_node::type_matches`, plus
    /// our `phantom`).
    public static let knownNodeTypes: Set<String> = [
        "parent-provides", "default-route", "default", "start", "alias", "affinity-space",
        "report", "resource", "heartbeat", "service", "phantom",
    ]

    public init(parsing root: ConfigNode) {
        var reader = AttributeReader()
        let context = "config"
        version = root[attribute: "version"]
        verbose = reader.bool(root, "verbose", default: false, context: context)
        ldVerbose = reader.bool(root, "ld_verbose", default: false, context: context)
        prioLevels = Self.prioLevels(root, reader: &reader)
        parentProvides = []
        defaultRoute = nil
        defaults = Defaults()
        affinitySpace = nil
        report = nil
        heartbeat = nil
        preservation = Preservation()
        starts = []
        aliases = []
        services = []
        phantom = nil

        // <default> applies to every start node wherever it appears, as in
        // Genode, where children read the default when they are created.
        for node in root.children(ofType: "default") {
            defaults = Defaults(caps: reader.unsigned(node, "caps", context: "default").or(0),
                                ram: reader.bytes(node, "ram", context: "default").or(NumberOfBytes(0)))
        }

        var names: [String: String] = [:]   // child or alias name -> node type that took it
        for node in root.children {
            switch node.type {
            case "parent-provides":
                // every sub node names a service (Sandbox `Parent_provides_model`)
                parentProvides += node.children.map { $0[attribute: "name"] ?? "" }
            case "default-route":
                defaultRoute = RouteModel(route: node)
            case "default":
                break
            case "affinity-space":
                affinitySpace = AffinitySpace(width: reader.unsigned(node, "width", context: "affinity-space").or(1),
                                              height: reader.unsigned(node, "height", context: "affinity-space").or(1))
            case "report":
                report = ReportConfig.parse(node, reader: &reader)
            case "heartbeat":
                heartbeat = HeartbeatConfig(rateMs: reader.unsigned(node, "rate_ms", context: "heartbeat").or(1000))
            case "resource":
                preservation.apply(node, reader: &reader)
            case "service":
                services.append(ServiceConfig(name: node[attribute: "name"] ?? "", node: node))
            case "phantom":
                phantom = PhantomConfig.parse(node, reader: &reader)
            case "start":
                guard let start = StartConfig.parse(node, defaults: defaults, prioLevels: prioLevels, reader: &reader)
                else { continue }
                if let taken = names[start.name] {
                    reader.messages.append(Self.duplicate(start.name, type: "start", takenBy: taken, at: node.location))
                    continue
                }
                names[start.name] = "start"
                starts.append(start)
            case "alias":
                guard let alias = AliasConfig.parse(node, reader: &reader) else { continue }
                if let taken = names[alias.name] {
                    reader.messages.append(Self.duplicate(alias.name, type: "alias", takenBy: taken, at: node.location))
                    continue
                }
                names[alias.name] = "alias"
                aliases.append(alias)
            default:
                reader.messages.append(.error("unknown config element type <\(node.type)>", at: node.location))
            }
        }
        // Genode's sandbox, creating a child with an `<affinity>` but no
        // affinity space to place it in.
        if affinitySpace == nil {
            for start in starts where start.node.child(ofType: "affinity") != nil {
                reader.messages.append(.warning("affinity-space configuration missing, but affinity defined for child \(start.name)"))
            }
        }
        messages = reader.messages
    }

    /// The child started by the `<start>` node of this name.
    public func start(named name: String) -> StartConfig? {
        starts.first { $0.name == name }
    }

    /// Alias name to child name, for `RoutingState.aliases`.
    public var aliasTable: [String: String] {
        Dictionary(aliases.map { ($0.name, $0.child) }, uniquingKeysWith: { first, _ in first })
    }

    /// Routes a request of one of this config's children (see
    /// `RouteModel.resolve(_:for:defaultRoute:in:)`). A request from a name
    /// without a `<start>` node is denied.
    public func resolve(_ request: SessionRequest, in state: RoutingState) -> RouteResolution {
        guard let start = start(named: request.child) else { return RouteResolution(.denied) }
        return RouteModel.resolve(request, for: start, defaultRoute: defaultRoute, in: state)
    }

    private static func duplicate(_ name: String, type: String, takenBy: String, at location: ConfigLocation) -> InitMessage {
        .error("<\(type)> node \"\(name)\" ignored: the name is already used by an earlier <\(takenBy)> node", at: location)
    }

    /// Sandbox `prio_levels_from_node`: 0 disables priorities; anything but a
    /// power of two below 64 is refused with Genode's warning.
    private static func prioLevels(_ root: ConfigNode, reader: inout AttributeReader) -> Int64 {
        let levels = reader.signed(root, "prio_levels", context: "config").or(0)
        guard levels != 0 else { return 0 }
        guard levels > 0, levels < 64, levels & (levels - 1) == 0 else {
            reader.messages.append(.warning("prio levels is not power of two, priorities are disabled", at: root.location))
            return 0
        }
        return levels
    }
}

/// `<alias name=… child=…/>`: another name for a child, usable in
/// `<child name=…>` route targets (repos/os/src/lib/sandbox/alias.h).
public struct AliasConfig: Sendable, Hashable {
    public var name: String
    /// The child the alias stands for; empty (with Genode's warning) when the
    /// node lacks the attribute.
    public var child: String
    public var location: ConfigLocation

    static func parse(_ node: ConfigNode, reader: inout AttributeReader) -> AliasConfig? {
        guard let name = node[attribute: "name"], !name.isEmpty else {
            reader.messages.append(.error("missing 'name' attribute in '<alias>' entry", at: node.location))
            return nil
        }
        if !node.has(attribute: "child") {
            reader.messages.append(.warning("alias node \"\(name)\" lacks child attribute", at: node.location))
        }
        return AliasConfig(name: name, child: node[attribute: "child"] ?? "", location: node.location)
    }
}

/// A `<service name=…>` node: a service init offers to its parent, with the
/// `<policy>`/`<default-policy>` nodes that pick the child serving each
/// session (see `ServerRoute`).
public struct ServiceConfig: Sendable, Hashable {
    public var name: String
    public var node: ConfigNode
}

/// `<heartbeat rate_ms=…>` (default 1000).
public struct HeartbeatConfig: Sendable, Hashable {
    public var rateMs: UInt64
}

/// What init keeps for itself rather than hand to children
/// (`<resource name="RAM" preserve=…>`, `<resource name="CAP" preserve=…>`).
/// Genode's defaults: 40 × sizeof(long) KiB of RAM (320K on 64-bit), 20 caps
/// (Sandbox `Preservation`, types.h).
public struct Preservation: Sendable, Hashable {
    public static let defaultRam = NumberOfBytes(40 * 8 * 1024)
    public static let defaultCaps: UInt64 = 20

    public var ram: NumberOfBytes = Preservation.defaultRam
    public var caps: UInt64 = Preservation.defaultCaps

    public init(ram: NumberOfBytes = Preservation.defaultRam, caps: UInt64 = Preservation.defaultCaps) {
        self.ram = ram
        self.caps = caps
    }

    mutating func apply(_ node: ConfigNode, reader: inout AttributeReader) {
        switch node[attribute: "name"] {
        case "RAM": ram = reader.bytes(node, "preserve", context: "resource \"RAM\"").or(Self.defaultRam)
        case "CAP": caps = reader.unsigned(node, "preserve", context: "resource \"CAP\"").or(Self.defaultCaps)
        case let name:
            // Genode throws an exception nobody catches here.
            reader.messages.append(.error("unknown resource name \"\(name ?? "")\" in <resource> node, expected RAM or CAP",
                                          at: node.location))
        }
    }
}
