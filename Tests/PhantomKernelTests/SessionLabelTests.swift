import Testing
@testable import PhantomKernel

/// Session labels as Genode's `Session_label` (repos/base/include/base/session_label.h)
/// and the Sandbox's label helpers (repos/os/src/lib/sandbox/utils.h, child.cc).
@Suite struct SessionLabelTests {
    // session_label.h `prefixed_label`, applied per parent by base/child.cc `Child::session`
    @Test func eachParentPutsTheChildNameInFront() {
        let fromApp = SessionLabel.prefixed("app", "log")
        #expect(fromApp.text == "app -> log")
        let fromInit = SessionLabel.prefixed("init", fromApp)
        #expect(fromInit.text == "init -> app -> log")
        #expect(SessionRequest(child: "app", service: "LOG", clientLabel: "log").label == "app -> log")
    }

    // current session_label.h concatenates without the 2016 empty-label special case
    @Test func anEmptyClientLabelStillGetsTheSeparator() {
        #expect(SessionLabel.prefixed("app", .empty).text == "app -> ")
        #expect(SessionLabel.prefixed("", "log").text == " -> log")
    }

    // session_label.h `last_element`
    @Test func lastElementIsThePartAfterTheLastSeparator() {
        #expect(SessionLabel("init -> app -> log").lastElement == "log")
        #expect(SessionLabel("log").lastElement == "log")
        #expect(SessionLabel("ab").lastElement == "ab")          // shorter than the separator
        #expect(SessionLabel("").lastElement == "")
        #expect(SessionLabel("app -> ").lastElement == "")
        #expect(SessionLabel(" -> b").lastElement == "b")         // separator at offset 0 is found
        #expect(SessionLabel("a->b").lastElement == "a->b")       // only " -> " separates
    }

    // session_label.h `prefix`: the search stops before offset 0
    @Test func prefixIsTheLabelWithoutItsLastElement() {
        #expect(SessionLabel("init -> app -> log").prefix == "init -> app")
        #expect(SessionLabel("a -> b").prefix == "a")
        #expect(SessionLabel("log").prefix == "")
        #expect(SessionLabel(" -> b").prefix == "")
        #expect(SessionLabel("abc").prefix == "")
        #expect(SessionLabel("app -> ").prefix == "app")
    }

    // sandbox/utils.h `skip_label_prefix`
    @Test func scopedLabelDropsTheChildNameAndSeparator() {
        #expect(SessionLabel("app -> fs -> data").scoped(to: "app") == "fs -> data")
        #expect(SessionLabel("app -> ").scoped(to: "app") == "")
        #expect(SessionLabel("app -> log").scoped(to: "ap") == nil)   // "ap" is not followed by " -> "
        #expect(SessionLabel("app").scoped(to: "app") == nil)          // environment session label
        #expect(SessionLabel("other -> log").scoped(to: "app") == nil)
    }

    // sandbox/child.cc `_with_route`, `rewritten_target_label`
    @Test func targetLabelReplacesTheWholeLabel() {
        let label = SessionLabel("app -> fonts")
        #expect(label.rewritten(by: initNode("parent", ["label": "fonts.tar"])) == "fonts.tar")
        #expect(label.rewritten(by: initNode("parent", ["label": ""])) == "")
        // label wins over identity/resource
        #expect(label.rewritten(by: initNode("parent", ["label": "x", "resource": "y"])) == "x")
    }

    @Test func targetWithoutAttributesKeepsTheLabel() {
        #expect(SessionLabel("init -> app -> log").rewritten(by: initNode("parent")) == "init -> app -> log")
        #expect(SessionLabel("app.wasm").rewritten(by: initNode("parent")) == "app.wasm")
        #expect(SessionLabel("app -> ").rewritten(by: initNode("child", ["name": "fs"])) == "app -> ")
    }

    @Test func resourceAndIdentityRewriteTheirHalf() {
        let label = SessionLabel("init -> app -> config")
        #expect(label.rewritten(by: initNode("parent", ["resource": "app.config"])) == "init -> app -> app.config")
        #expect(label.rewritten(by: initNode("parent", ["identity": "sandbox"])) == "sandbox -> config")
        #expect(label.rewritten(by: initNode("parent", ["prepend_resource": "/etc/"])) == "init -> app -> /etc/config")
        #expect(label.rewritten(by: initNode("parent", ["prepend_resource": "/etc/", "resource": "x"])) == "init -> app -> /etc/x")
        // an empty identity hides who asks (Genode: identity.length() > 1 is false)
        #expect(label.rewritten(by: initNode("parent", ["identity": ""])) == "config")
        // a single-element label has an empty identity
        #expect(SessionLabel("app.wasm").rewritten(by: initNode("parent", ["resource": "x.wasm"])) == "x.wasm")
    }

    // Session_label is String<160>: 159 bytes of text
    @Test func labelsAreCutAtGenodesCapacity() {
        let long = SessionLabel(String(repeating: "a", count: 200))
        #expect(long.text.utf8.count == 159)
        let prefixed = SessionLabel.prefixed(String(repeating: "p", count: 100), SessionLabel(String(repeating: "l", count: 100)))
        #expect(prefixed.text.utf8.count == 159)
        #expect(prefixed.text.hasPrefix(String(repeating: "p", count: 100) + " -> "))
        // never splits a character: 158 ASCII bytes + a two-byte character does not fit
        let multibyte = SessionLabel(String(repeating: "a", count: 158) + "é")
        #expect(multibyte.text.utf8.count == 158)
        #expect(SessionLabel(String(repeating: "a", count: 159)).text.utf8.count == 159)
    }
}
