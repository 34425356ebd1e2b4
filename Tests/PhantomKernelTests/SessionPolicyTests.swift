import Testing
@testable import PhantomKernel

/// Server-side policy selection as Genode's `Node_label_score` and
/// `with_matching_policy` (repos/os/include/os/session_policy.h); the denial
/// text is the one of Genode's `Session_policy` class.
@Suite struct SessionPolicyTests {
    private func policies(_ nodes: ConfigNode...) -> ConfigNode {
        initNode("config", [:], nodes)
    }

    private func chosenIndex(_ label: SessionLabel, _ config: ConfigNode) -> Int? {
        if case let .policy(index, _) = SessionPolicy.select(label: label, in: config) { return index }
        return nil
    }

    // stronger(): a present and matching `label` beats any prefix or suffix
    @Test func exactLabelBeatsLongerPrefixAndSuffix() {
        let config = policies(
            initNode("policy", ["label_prefix": "init -> app -> l"]),
            initNode("policy", ["label": "init -> app -> log"]),
            initNode("policy", ["label_suffix": "app -> log"]))
        #expect(chosenIndex("init -> app -> log", config) == 1)
        #expect(chosenIndex("init -> app -> lx", config) == 0)
    }

    // stronger(): the longer prefix wins, wherever it stands
    @Test func longestPrefixWins() {
        let config = policies(
            initNode("policy", ["label_prefix": "init -> app -> fs -> "]),
            initNode("policy", ["label_prefix": "init"]),
            initNode("policy", ["label_prefix": "init -> app"]))
        #expect(chosenIndex("init -> app -> fs -> home", config) == 0)
        #expect(chosenIndex("init -> app -> rom", config) == 2)
        #expect(chosenIndex("init -> other", config) == 1)
    }

    // stronger(): a prefix, even a short one, beats any suffix
    @Test func prefixBeatsSuffix() {
        let config = policies(
            initNode("policy", ["label_suffix": "app -> log"]),
            initNode("policy", ["label_prefix": "i"]))
        #expect(chosenIndex("init -> app -> log", config) == 1)
    }

    // stronger(): among suffixes the longer wins
    @Test func longestSuffixWins() {
        let config = policies(
            initNode("policy", ["label_suffix": "log"]),
            initNode("policy", ["label_suffix": "-> log"]))
        #expect(chosenIndex("init -> app -> log", config) == 1)
        #expect(chosenIndex("init -> app -> xlog", config) == 0)
    }

    // stronger(): equal scores are not stronger, so document order decides
    @Test func tiesGoToTheFirstPolicy() {
        let config = policies(
            initNode("policy", ["label_prefix": "init -> ", "writeable": "no"]),
            initNode("policy", ["label_prefix": "init -> ", "writeable": "yes"]))
        #expect(chosenIndex("init -> app", config) == 0)
        let labels = policies(
            initNode("policy", ["label": "a", "id": "1"]),
            initNode("policy", ["label": "a", "id": "2"]))
        #expect(chosenIndex("a", labels) == 0)
    }

    // conflict(): every present attribute must fit
    @Test func anyMismatchingAttributeDisqualifies() {
        let config = policies(
            initNode("policy", ["label_prefix": "init -> app", "label_suffix": "-> rom"]),
            initNode("policy", ["label_prefix": "init"]))
        #expect(chosenIndex("init -> app -> log", config) == 1)
        #expect(chosenIndex("init -> app -> rom", config) == 0)
    }

    // stronger(): with equal prefixes, having a (matching) suffix is stronger
    @Test func prefixWithSuffixBeatsPrefixAlone() {
        let config = policies(
            initNode("policy", ["label_prefix": "init -> app"]),
            initNode("policy", ["label_prefix": "init -> app", "label_suffix": "log"]))
        #expect(chosenIndex("init -> app -> log", config) == 1)
    }

    // with_matching_policy: fall back to <default-policy>
    @Test func defaultPolicyWhenNothingMatches() {
        let fallback = initNode("default-policy", ["root": "/"])
        let config = policies(initNode("policy", ["label": "x"]), fallback)
        #expect(SessionPolicy.select(label: "y", in: config) == .defaultPolicy(fallback))
        #expect(SessionPolicy.select(label: "y", in: config).node == fallback)
    }

    // Session_policy::_query_policy: warning text, then No_policy_defined
    @Test func noPolicyAndNoDefaultIsDenied() {
        let config = initNode("config", [:], [initNode("policy", ["label": "x"])], line: 4, column: 2)
        let selection = SessionPolicy.select(label: "init -> y", in: config)
        #expect(selection == .denied(.warning("no policy defined for label 'init -> y'", at: ConfigLocation(line: 4, column: 2))))
        #expect(selection.node == nil)
        guard case let .denied(message) = selection else { Issue.record("not denied"); return }
        #expect(message.description == "Warning: line 4, column 2: no policy defined for label 'init -> y'")
    }

    // stronger(): "something must match" — a policy without label attributes never does
    @Test func policyWithoutLabelAttributesNeverMatches() {
        let config = policies(initNode("policy", ["root": "/"]), initNode("default-policy"))
        #expect(SessionPolicy.select(label: "anything", in: config) == .defaultPolicy(initNode("default-policy")))
    }

    // Node_label_score considers only label, label_prefix, label_suffix
    @Test func labelLastAndUnscopedLabelDoNotSelectPolicies() {
        let config = policies(
            initNode("policy", ["label_last": "log"]),
            initNode("policy", ["unscoped_label": "init -> app -> log"]))
        if case .denied = SessionPolicy.select(label: "init -> app -> log", in: config) {} else {
            Issue.record("label_last/unscoped_label selected a policy")
        }
    }

    // current Node_label_score trims label and attribute values
    @Test func blanksAroundValuesAreIgnored() {
        let config = policies(initNode("policy", ["label": " init -> app\n"]))
        #expect(chosenIndex("init -> app", config) == 0)
        #expect(chosenIndex("\tinit -> app ", config) == 0)
        #expect(chosenIndex("init -> app2", config) == nil)
    }

    // match value "number of matching characters + 1": an empty prefix fits everything but scores lowest
    @Test func emptyPrefixMatchesEverythingButLosesToAnyLongerPrefix() {
        let config = policies(initNode("policy", ["label_prefix": ""]), initNode("policy", ["label_prefix": "i"]))
        #expect(chosenIndex("x", config) == 0)
        #expect(chosenIndex("init", config) == 1)
        let score = LabelScore(node: initNode("policy", ["label_prefix": "", "label_suffix": "ab"]), label: "xab")
        #expect(score.prefixMatch == 1)
        #expect(score.suffixMatch == 3)
        #expect(!score.conflict)
    }

    // with_matching_policy counts every sub node
    @Test func indexCountsAllSubNodes() {
        let config = policies(initNode("default-policy"), initNode("note"), initNode("policy", ["label": "a"]))
        #expect(chosenIndex("a", config) == 2)
    }
}
