import Testing
@testable import PhantomKernel

/// Reading init's config as Genode's Sandbox does (config_model.cc, child.h,
/// library.cc, utils.h, alias.h, report.h, types.h; schema init.hsd).
@Suite struct InitConfigTests {
    private func parse(_ nodes: ConfigNode...) -> InitConfig {
        InitConfig(parsing: initNode("config", [:], nodes))
    }

    // A config in the style of Genode's run/init scenarios, every section once
    @Test func aCompleteConfigIsModelled() throws {
        let config = InitConfig(parsing: initNode("config", ["version": "3", "verbose": "yes", "prio_levels": "4"], [
            initNode("parent-provides", [:], [initNode("service", ["name": "ROM"]), initNode("service", ["name": "LOG"])]),
            initNode("default-route", [:], [initNode("any-service", [:], [initNode("parent"), initNode("any-child")])]),
            initNode("default", ["caps": "100", "ram": "1M"]),
            initNode("report", ["child_ram": "yes", "delay_ms": "500", "buffer": "64K"]),
            initNode("resource", ["name": "RAM", "preserve": "2M"]),
            initNode("phantom", ["snapshot_period": "1s", "retain": "8"]),
            startNode("log_server", ["ram": "2M", "caps": "150", "priority": "-1", "version": "7"], [
                initNode("binary", ["name": "log.wasm"]),
                initNode("provides", [:], [initNode("service", ["name": "LOG"]), initNode("service", ["name": "Report"])]),
                initNode("config", ["verbose": "no"]),
                routeNode(initNode("service", ["name": "ROM"], [initNode("parent")])),
                initNode("exit", ["propagate": "yes"]),
            ]),
            startNode("app"),
            initNode("alias", ["name": "log", "child": "log_server"]),
            initNode("service", ["name": "LOG"], [initNode("default-policy", [:], [initNode("child", ["name": "log_server"])])]),
        ]))
        #expect(config.messages.isEmpty)
        #expect(config.version == "3")
        #expect(config.verbose)
        #expect(config.prioLevels == 4)
        #expect(config.parentProvides == ["ROM", "LOG"])
        #expect(config.defaultRoute?.rules.count == 1)
        #expect(config.defaults == .init(caps: 100, ram: NumberOfBytes(1 << 20)))
        #expect(config.report?.childRam == true)
        #expect(config.report?.delayMs == 500)
        #expect(config.report?.buffer == NumberOfBytes(64 * 1024))
        #expect(config.preservation == Preservation(ram: NumberOfBytes(2 << 20), caps: 20))
        #expect(config.phantom == PhantomConfig(snapshotPeriod: .seconds(1), retain: 8))
        #expect(config.aliases.map(\.name) == ["log"])
        #expect(config.aliasTable == ["log": "log_server"])
        #expect(config.services.map(\.name) == ["LOG"])
        #expect(config.starts.map(\.name) == ["log_server", "app"])

        let server = try #require(config.start(named: "log_server"))
        #expect(server.binary == "log.wasm")
        #expect(server.version == "7")
        #expect(server.ram == NumberOfBytes(2 << 20))
        #expect(server.caps == 150)
        #expect(server.priority == -1)
        #expect(server.priorityLevel == 1)
        #expect(server.provides == ["LOG", "Report"])
        #expect(server.config?[attribute: "verbose"] == "no")
        #expect(server.route?.rules.count == 1)
        #expect(server.exitPropagate)
    }

    // child.h: binary defaults to the name, ld to yes, <default> supplies ram and caps
    @Test func startDefaults() throws {
        let config = parse(initNode("default", ["caps": "50", "ram": "512K"]), startNode("app"))
        let app = try #require(config.start(named: "app"))
        #expect(app.binary == "app")
        #expect(app.ld)
        #expect(!app.managingSystem)
        #expect(app.version == nil)
        #expect(app.ram == NumberOfBytes(512 * 1024))
        #expect(app.caps == 50)
        #expect(app.priority == 0 && app.priorityLevel == 0)
        #expect(app.config == nil && app.route == nil && app.provides.isEmpty)
        #expect(!app.exitPropagate && !app.heartbeat)
        #expect(app.cpuPercent == 0)
    }

    // config_model.cc Default_node: the <default> counts wherever it stands; without one, 0
    @Test func defaultAppliesRegardlessOfPosition() {
        #expect(parse(startNode("a"), initNode("default", ["caps": "70"])).start(named: "a")?.caps == 70)
        let bare = parse(startNode("a")).start(named: "a")
        #expect(bare?.caps == 0)
        #expect(bare?.ram == NumberOfBytes(0))
    }

    // child.h `_binary_from_node`: <binary> without name gives an empty binary name
    @Test func binaryNodeWithoutNameIsEmpty() {
        #expect(parse(startNode("a", [:], [initNode("binary")])).start(named: "a")?.binary == "")
    }

    // child.h `_resources_from_start_node`: legacy <resource> sub nodes override the attributes
    @Test func legacyResourceNodesOverride() throws {
        let config = parse(startNode("a", ["ram": "1M", "caps": "100"], [
            initNode("resource", ["name": "RAM", "quantum": "3M"]),
            initNode("resource", ["name": "CPU", "quantum": "20"]),
        ]), startNode("b", ["caps": "100"], [initNode("resource", ["name": "CAP"])]),
            startNode("c", ["ram": "1M"], [initNode("resource", ["name": "RAM"])]))
        let a = try #require(config.start(named: "a"))
        #expect(a.ram == NumberOfBytes(3 << 20))
        #expect(a.caps == 100)
        #expect(a.cpuPercent == 20)
        #expect(config.start(named: "b")?.caps == 0)                         // CAP without quantum: 0
        #expect(config.start(named: "c")?.ram == NumberOfBytes(1 << 20))    // RAM without quantum: unchanged
    }

    // child.h `_name_from_node` and library.cc `create_child`
    @Test func namelessStartIsSkippedWithGenodesWarnings() {
        let config = parse(initNode("start", ["ram": "1M"], [], line: 5, column: 3), startNode("b"))
        #expect(config.starts.map(\.name) == ["b"])
        let here = ConfigLocation(line: 5, column: 3)
        #expect(config.messages == [.warning("missing 'name' attribute in '<start>' entry", at: here),
                                    .warning("skipped startup of nameless child", at: here)])
        #expect(parse(initNode("start", ["name": ""])).starts.isEmpty)
    }

    // Start_model: <start> and <alias> share one name space; we keep the first and say so
    @Test func duplicateNamesAreReportedAndIgnored() {
        let config = parse(startNode("a", ["caps": "1"]),
                           initNode("start", ["name": "a", "caps": "2"], [], line: 9, column: 1),
                           initNode("alias", ["name": "a", "child": "b"], [], line: 10, column: 1),
                           initNode("alias", ["name": "x", "child": "a"]),
                           initNode("start", ["name": "x"], [], line: 12, column: 1))
        #expect(config.starts.map(\.caps) == [1])
        #expect(config.aliases.map(\.name) == ["x"])
        #expect(config.messages == [
            .error("<start> node \"a\" ignored: the name is already used by an earlier <start> node", at: ConfigLocation(line: 9, column: 1)),
            .error("<alias> node \"a\" ignored: the name is already used by an earlier <start> node", at: ConfigLocation(line: 10, column: 1)),
            .error("<start> node \"x\" ignored: the name is already used by an earlier <alias> node", at: ConfigLocation(line: 12, column: 1)),
        ])
    }

    // Genode would silently fall back to the default; we refuse to start the child and say why
    @Test func malformedQuantitiesStopTheChild() {
        let config = parse(initNode("start", ["name": "a", "ram": "12X"], [], line: 3, column: 7),
                           initNode("start", ["name": "b", "caps": "many"], [], line: 4, column: 7),
                           initNode("start", ["name": "c", "priority": "-"], [], line: 5, column: 7),
                           startNode("d", [:], [initNode("resource", ["name": "RAM", "quantum": "1m"], [], line: 6, column: 9)]),
                           startNode("ok"))
        #expect(config.starts.map(\.name) == ["ok"])
        let a = ConfigLocation(line: 3, column: 7)
        #expect(config.messages.first == .error("start \"a\": malformed ram=\"12X\", expected a number of bytes with an optional K, M or G suffix", at: a))
        #expect(config.messages.first?.description
            == "Error: line 3, column 7: start \"a\": malformed ram=\"12X\", expected a number of bytes with an optional K, M or G suffix")
        #expect(config.messages.contains(.error("start \"a\": child not started because of malformed attributes", at: a)))
        #expect(config.messages.contains(.error("start \"b\": malformed caps=\"many\", expected a non-negative integer",
                                                at: ConfigLocation(line: 4, column: 7))))
        #expect(config.messages.contains(.error("start \"c\": malformed priority=\"-\", expected an integer",
                                                at: ConfigLocation(line: 5, column: 7))))
        #expect(config.messages.contains(.error("start \"d\": malformed quantum=\"1m\", expected a number of bytes with an optional K, M or G suffix",
                                                at: ConfigLocation(line: 6, column: 9))))
        #expect(config.messages.count == 8)
    }

    // Genode's String<64> child names
    @Test func overlongNamesAreRefused() {
        let long = String(repeating: "n", count: 64)
        let config = parse(startNode(long), startNode(String(repeating: "n", count: 63)))
        #expect(config.starts.count == 1)
        #expect(config.messages == [.error("start \"\(long)\": name longer than 63 bytes, child not started")])
    }

    // config_model.cc: `error("unknown config element type <", node.type(), ">")`; we skip the node and go on
    @Test func unknownNodeTypesAreSkipped() {
        let config = parse(initNode("strat", ["name": "typo"], [], line: 2, column: 1), startNode("after"))
        #expect(config.messages == [.error("unknown config element type <strat>", at: ConfigLocation(line: 2, column: 1))])
        #expect(config.messages.first?.description == "Error: line 2, column 1: unknown config element type <strat>")
        #expect(config.starts.map(\.name) == ["after"])
        #expect(InitConfig.knownNodeTypes.contains("phantom"))
    }

    // utils.h `priority_from_node`
    @Test func prioritiesAreClampedToPrioLevels() throws {
        let config = InitConfig(parsing: initNode("config", ["prio_levels": "4"], [
            startNode("low", ["priority": "-5"]), startNode("mid", ["priority": "-2"]), startNode("top"),
        ]))
        #expect(try #require(config.start(named: "low")).priorityLevel == 3)
        #expect(try #require(config.start(named: "mid")).priorityLevel == 2)
        #expect(try #require(config.start(named: "top")).priorityLevel == 0)
        #expect(config.messages == [.warning("low: invalid priority, upgrading from -5 to -3")])

        let disabled = parse(startNode("a", ["priority": "-1"]))
        #expect(disabled.start(named: "a")?.priorityLevel == 0)
        #expect(disabled.messages == [.warning("a: invalid priority, upgrading from -1 to 0")])
    }

    // utils.h `prio_levels_from_node`
    @Test func prioLevelsMustBeAPowerOfTwoBelow64() {
        for bad in ["3", "64", "-4", "6"] {
            let config = InitConfig(parsing: initNode("config", ["prio_levels": bad]))
            #expect(config.prioLevels == 0)
            #expect(config.messages == [.warning("prio levels is not power of two, priorities are disabled")])
        }
        for good in ["1", "2", "32"] {
            let config = InitConfig(parsing: initNode("config", ["prio_levels": good]))
            #expect(config.prioLevels == Int64(good))
            #expect(config.messages.isEmpty)
        }
    }

    // report.h Report_detail, state_reporter.h delay_ms, init main.cc buffer
    @Test func reportAttributesAndDefaults() throws {
        #expect(parse().report == nil)
        let plain = try #require(parse(initNode("report")).report)
        #expect(plain == ReportConfig())
        #expect(plain.delayMs == 100 && plain.buffer == NumberOfBytes(4096))
        #expect(!plain.ids && !plain.requested && !plain.provided && !plain.sessionArgs)
        #expect(!plain.childRam && !plain.childCaps && !plain.initRam && !plain.initCaps)
        #expect(plain.samplingPeriodMs == nil)

        let full = try #require(parse(initNode("report", [
            "ids": "yes", "requested": "true", "provided": "on", "session_args": "yes", "child_ram": "yes",
            "child_caps": "yes", "init_ram": "yes", "init_caps": "yes", "delay_ms": "2500", "buffer": "1M",
        ])).report)
        #expect(full.ids && full.requested && full.provided && full.sessionArgs)
        #expect(full.childRam && full.childCaps && full.initRam && full.initCaps)
        #expect(full.delayMs == 2500 && full.buffer == NumberOfBytes(1 << 20))
        #expect(full.samplingPeriodMs == 2500)
        #expect(parse(initNode("report", ["child_caps": "yes", "delay_ms": "200"])).report?.samplingPeriodMs == 1000)
    }

    // types.h Preservation and config_model.cc Resource_node
    @Test func preservationDefaultsAndOverrides() {
        #expect(parse().preservation == Preservation(ram: NumberOfBytes(320 * 1024), caps: 20))
        let config = parse(initNode("resource", ["name": "CAP", "preserve": "50"]), initNode("resource", ["name": "RAM", "preserve": "1G"]))
        #expect(config.preservation == Preservation(ram: NumberOfBytes(1 << 30), caps: 50))
        let unknown = parse(initNode("resource", ["name": "CPU", "preserve": "5"], [], line: 3, column: 1))
        #expect(unknown.messages == [.error("unknown resource name \"CPU\" in <resource> node, expected RAM or CAP",
                                            at: ConfigLocation(line: 3, column: 1))])
    }

    // alias.h: `warning("alias node \"", name, "\" lacks child attribute")`
    @Test func aliasWithoutChildIsWarnedAbout() {
        let config = parse(initNode("alias", ["name": "gui"]), initNode("alias", ["child": "x"]))
        #expect(config.aliases == [AliasConfig(name: "gui", child: "", location: .unknown)])
        #expect(config.messages == [.warning("alias node \"gui\" lacks child attribute"),
                                    .error("missing 'name' attribute in '<alias>' entry")])
    }

    // our <phantom> node
    @Test func phantomNodeReadsPeriodAndRetention() {
        #expect(parse().phantom == nil)
        #expect(parse(initNode("phantom", ["snapshot_period": "20ms"])).phantom == PhantomConfig(snapshotPeriod: .milliseconds(20)))
        #expect(parse(initNode("phantom", ["snapshot_period": "1min"])).phantom?.snapshotPeriod == .seconds(60))
        #expect(parse(initNode("phantom", ["snapshot_period": "10ms"])).phantom?.snapshotPeriod == .milliseconds(10))
        #expect(parse(initNode("phantom", ["retain": "3"])).phantom == PhantomConfig(retain: 3))
        #expect(parse(initNode("phantom")).phantom == PhantomConfig())

        let tooFast = parse(initNode("phantom", ["snapshot_period": "5ms"]))
        #expect(tooFast.phantom == PhantomConfig())
        #expect(tooFast.messages == [.error("phantom: snapshot_period=\"5ms\" out of range (10ms to 1min)")])
        #expect(parse(initNode("phantom", ["snapshot_period": "2min"])).messages.count == 1)
        for bad in ["1h", "fast", "1.5s", "s", "", "-1s"] {
            #expect(parse(initNode("phantom", ["snapshot_period": bad])).messages
                == [.error("phantom: malformed snapshot_period=\"\(bad)\", expected a duration such as 20ms, 1s or 1min")])
        }
        for bad in ["0", "-1", "eight"] {
            let config = parse(initNode("phantom", ["retain": bad]))
            #expect(config.phantom?.retain == nil)
            #expect(config.messages == [.error("phantom: malformed retain=\"\(bad)\", expected a positive integer")])
        }
    }

    // Genode's bool parsing falls back to the default; we keep that and warn
    @Test func malformedBooleansWarnAndUseTheDefault() {
        let config = parse(startNode("a", ["ld": "maybe", "managing_system": "1"]))
        #expect(config.start(named: "a")?.ld == true)
        #expect(config.start(named: "a")?.managingSystem == false)
        #expect(config.messages == [
            .warning("start \"a\": ld=\"maybe\" is not a boolean (yes/no), using yes"),
            .warning("start \"a\": managing_system=\"1\" is not a boolean (yes/no), using no"),
        ])
    }

    // schema init.hsd: <start> sub nodes heartbeat, exit, provides
    @Test func startSubNodes() throws {
        let config = parse(startNode("a", ["managing_system": "yes", "ld": "no"], [
            initNode("heartbeat", ["restart_after_skipped": "3"]),
            initNode("exit", ["propagate": "no"]),
            initNode("provides", [:], [initNode("service", ["name": "Nic"]), initNode("service", ["name": "Uplink"])]),
        ]))
        let a = try #require(config.start(named: "a"))
        #expect(a.heartbeat && a.restartAfterSkippedHeartbeats == 3)
        #expect(!a.exitPropagate)
        #expect(a.managingSystem && !a.ld)
        #expect(a.provides == ["Nic", "Uplink"])
        #expect(a.node == startNode("a", ["managing_system": "yes", "ld": "no"], [
            initNode("heartbeat", ["restart_after_skipped": "3"]),
            initNode("exit", ["propagate": "no"]),
            initNode("provides", [:], [initNode("service", ["name": "Nic"]), initNode("service", ["name": "Uplink"])]),
        ]))
    }

    // config_model.cc: every <parent-provides> adds services; the last <default-route> counts
    @Test func repeatedSectionsCombineLikeGenodes() {
        let config = parse(
            initNode("parent-provides", [:], [initNode("service", ["name": "LOG"])]),
            initNode("default-route", [:], [initNode("any-service", [:], [initNode("parent")])]),
            initNode("parent-provides", [:], [initNode("service", ["name": "Timer"])]),
            initNode("default-route", [:], [initNode("service", ["name": "LOG"], [initNode("parent")]),
                                            initNode("any-service", [:], [initNode("any-child")])]))
        #expect(config.parentProvides == ["LOG", "Timer"])
        #expect(config.defaultRoute?.rules.count == 2)
    }

    // config_model.cc Heartbeat_node / Affinity_space_node are known, with Genode's defaults
    @Test func heartbeatAndAffinitySpace() {
        let config = parse(initNode("heartbeat"), initNode("affinity-space", ["width": "4"]))
        #expect(config.messages.isEmpty)
        #expect(config.heartbeat == HeartbeatConfig(rateMs: 1000))
        #expect(config.affinitySpace == InitConfig.AffinitySpace(width: 4, height: 1))
        #expect(parse(initNode("heartbeat", ["rate_ms": "250"])).heartbeat?.rateMs == 250)
    }

    // unreadable values outside <start> keep Genode's default and are reported
    @Test func malformedGlobalValuesFallBackToGenodesDefaults() {
        let config = parse(initNode("default", ["ram": "lots"]), initNode("report", ["delay_ms": "soon", "buffer": "4k"]))
        #expect(config.defaults.ram == NumberOfBytes(0))
        #expect(config.report?.delayMs == 100)
        #expect(config.report?.buffer == NumberOfBytes(4096))
        #expect(config.messages == [
            .error("default: malformed ram=\"lots\", expected a number of bytes with an optional K, M or G suffix"),
            .error("report: malformed delay_ms=\"soon\", expected a non-negative integer"),
            .error("report: malformed buffer=\"4k\", expected a number of bytes with an optional K, M or G suffix"),
        ])
    }
}
