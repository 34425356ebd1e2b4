import PhantomKernel

/// Fuzzes config parsing and rendering, and test-init scripts: the input bytes, decoded as UTF-8
/// (invalid sequences become U+FFFD, as for any text handed to the kernel),
/// go to `ConfigParser.parse`, which picks XML or HID by the first non-blank
/// character. An error is a fine outcome; a crash, a hang or unbounded memory
/// is not. A config that parses is rendered in both syntaxes, and whatever
/// renders must read back as the same tree, or the target traps:
/// - HID from a HID source must always render (the parser accepts nothing
///   HID cannot say);
/// - XML reading trims content, so the XML round trip is compared with the
///   tree's content trimmed the same way.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let document = try? ConfigParser.parse(text, source: "fuzz") else { return 0 }
    // As a test-init script: one that is accepted must give a runtime
    // config (Genode's pkg/test-init) that init reads.
    if (try? TestInitScript.parse(text, source: "fuzz")) != nil {
        do {
            let runtime = try TestInitSystem.config(script: text, source: "fuzz", options: .init(stepLimitMs: 1000, keepGoing: true))
            _ = try Kernel.check(configText: runtime, source: "runtime")
        } catch {
            fatalError("an accepted test-init script gives no runtime config: \(error)")
        }
    }
    let tree = document.root.withoutLocations()
    for syntax in [ConfigSyntax.hid, .xml] {
        let rendered: String
        do {
            rendered = try ConfigRenderer.render(tree, as: syntax)
        } catch {
            if syntax == .hid && document.syntax == .hid {
                fatalError("a tree parsed from HID does not render as HID: \(error)")
            }
            continue
        }
        let back: ConfigDocument
        do {
            back = try ConfigParser.parse(rendered, source: "rendered")
        } catch {
            fatalError("rendered \(syntax) does not parse: \(error)\n\(rendered)")
        }
        let expected = syntax == .xml ? trimmedLikeXML(tree) : tree
        guard back.root.withoutLocations() == expected, back.warnings.isEmpty else {
            fatalError("\(syntax) round trip changed the tree:\n\(rendered)")
        }
    }
    return 0
}

/// The tree as XML reading would give it: content trimmed of XML white
/// space, and nil when nothing is left.
private func trimmedLikeXML(_ node: ConfigNode) -> ConfigNode {
    var node = node
    node.children = node.children.map(trimmedLikeXML)
    if let content = node.content {
        let space: Set<Unicode.Scalar> = [" ", "\t", "\n", "\r"]
        let scalars = content.unicodeScalars
        if let first = scalars.firstIndex(where: { !space.contains($0) }),
           let last = scalars.lastIndex(where: { !space.contains($0) }) {
            node.content = String(scalars[first...last])
        } else {
            node.content = nil
        }
    }
    return node
}
