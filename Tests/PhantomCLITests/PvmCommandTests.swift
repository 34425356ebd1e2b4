import Foundation
import Testing

/// `phantom pvm dis` and `phantom pvm asm` through the real command line:
/// a listing assembles back to the same bytes; bad input is a message
/// naming the file and where, exit status 1, never a signal.
@Suite struct PvmCommandTests {
    static let hello = """
        class .ru.dz.demo.hello
        methods 17
        const 0 "Hello, Phantom"
        signature main ordinal 16 returns .internal.void ()
        method main ordinal 16
          summon_this
          const_pool 0
          call 16 1
          os_drop
          summon_null
          ret
        method end
        """

    private func withDirectory(_ body: (URL) throws -> Void) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory)
    }

    private func write(_ text: String, to url: URL) throws { try Data(text.utf8).write(to: url) }
    private func bytes(_ url: URL) -> [UInt8] { Array(FileManager.default.contents(atPath: url.path) ?? Data()) }

    @Test func aListingAssemblesBackToTheSameClassFile() throws {
        try withDirectory { directory in
            let source = directory.appendingPathComponent("hello.pas")
            try write(Self.hello, to: source)
            let assembled = try PhantomProcess.run(["pvm", "asm", source.path])
            #expect(assembled.status == 0, "\(assembled.stderr)")
            let classFile = directory.appendingPathComponent("hello.pc")
            #expect(bytes(classFile).starts(with: Array("phfr:C".utf8)), "the default output is FILE.pc")

            let listed = try PhantomProcess.run(["pvm", "dis", classFile.path])
            #expect(listed.status == 0, "\(listed.stderr)")
            #expect(listed.lines.contains("method main ordinal 16"))
            #expect(listed.stdout.contains("  call_10 1\t\t\t\t\t\t//  @6\n"), "\(listed.stdout)")

            let listing = directory.appendingPathComponent("listing.pas")
            try write(listed.stdout, to: listing)
            let again = directory.appendingPathComponent("again.pc")
            let reassembled = try PhantomProcess.run(["pvm", "asm", listing.path, "-o", again.path])
            #expect(reassembled.status == 0, "\(reassembled.stderr)")
            #expect(bytes(again) == bytes(classFile))

            let old = directory.appendingPathComponent("old.pc")
            #expect(try PhantomProcess.run(["pvm", "asm", source.path, "-o", old.path, "--old-signatures"]).status == 0)
            #expect(bytes(old).count == bytes(classFile).count - 4, "the old signature layout has no is_ctor")
            #expect(try PhantomProcess.run(["pvm", "dis", old.path]).stdout.contains("signature main ordinal 16 old returns"))
        }
    }

    @Test func listsTheClassesOfABundle() throws {
        try withDirectory { directory in
            var bundle: [UInt8] = []
            for name in ["ru.dz.a", "ru.dz.b"] {
                let source = directory.appendingPathComponent("\(name).pas")
                try write("class .\(name)\n", to: source)
                #expect(try PhantomProcess.run(["pvm", "asm", source.path]).status == 0)
                let classFile = bytes(directory.appendingPathComponent("\(name).pc"))
                let length = UInt32(classFile.count)
                bundle += Array(name.utf8) + [UInt8](repeating: 0, count: 512 - name.utf8.count)
                bundle += [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)] + classFile
            }
            let path = directory.appendingPathComponent("classes.bundle")
            try Data(bundle).write(to: path)
            let all = try PhantomProcess.run(["pvm", "dis", path.path])
            #expect(all.status == 0, "\(all.stderr)")
            #expect(all.lines.filter { $0.hasPrefix("// bundle entry") } == ["// bundle entry 0: ru.dz.a (50 bytes)", "// bundle entry 1: ru.dz.b (50 bytes)"])
            let one = try PhantomProcess.run(["pvm", "dis", path.path, "--class", "/ru/dz/b"])
            #expect(one.status == 0 && one.lines.first == "class .ru.dz.b", "\(one.stdout)")
            let missing = try PhantomProcess.run(["pvm", "dis", path.path, "--class", "ru.dz.c"])
            #expect(missing.status == 1 && missing.stderr.contains("has no class ru.dz.c (it has 2: ru.dz.a, ru.dz.b)"), "\(missing.stderr)")
            // A bundle cut inside its second entry.
            try Data(bundle.dropLast(3)).write(to: path)
            let cut = try PhantomProcess.run(["pvm", "dis", path.path])
            #expect(cut.status == 1 && cut.stderr.contains("entry 1: at offset 1078: entry 'ru.dz.b' declares 50 bytes, only 47 follow"), "\(cut.stderr)")
        }
    }

    @Test func badInputIsAMessageNotACrash() throws {
        try withDirectory { directory in
            let source = directory.appendingPathComponent("bad.pas")
            try write("class a\nmethod m ordinal 0\n  foo\nmethod end\n", to: source)
            let refused = try PhantomProcess.run(["pvm", "asm", source.path])
            #expect(refused.status == 1 && refused.stderr.contains("bad.pas:3:3: unknown mnemonic 'foo'"), "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("bad.pc").path), "nothing is written")

            let truncated = directory.appendingPathComponent("truncated.pc")
            try Data("phfr:C\u{0}\u{0}\u{0}\u{40}".utf8 + [0, 0, 0, 1]).write(to: truncated)
            let cut = try PhantomProcess.run(["pvm", "dis", truncated.path])
            #expect(cut.status == 1)
            #expect(cut.stderr.contains("truncated.pc: record 0 ('C' at offset 0): at offset 6: record length 64 runs past the end of the file (14 bytes left)"), "\(cut.stderr)")

            var generator = SystemRandomNumberGenerator()
            for size in [0, 7, 600, 5000] {
                let garbage = directory.appendingPathComponent("garbage-\(size)")
                try Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: garbage)
                let output = try PhantomProcess.run(["pvm", "dis", garbage.path])
                #expect(!output.killedBySignal && output.status == 1, "\(size) bytes: \(output.stderr)")
                #expect(output.stderr.contains(garbage.path))
            }
            let missing = try PhantomProcess.run(["pvm", "dis", directory.appendingPathComponent("none.pc").path])
            #expect(missing.status == 1 && missing.stderr.contains("none.pc: no such file"))
        }
    }

    @Test func aBundleOfAssemblyRunsAndFreshStartsOver() throws {
        try withDirectory { directory in
            let programs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Programs/pvm/regression").path
            let bundle = directory.appendingPathComponent("regression.bundle").path
            let packed = try PhantomProcess.run(["pvm", "bundle", "-o", bundle, programs])
            #expect(packed.status == 0 && packed.stderr.contains("regression.bundle: 3 classes"), "\(packed.stderr)")
            let image = directory.appendingPathComponent("pvm.img").path
            let first = try PhantomProcess.run(["pvm", "run", bundle, "--image", image])
            #expect(first.status == 0 && first.stdout.contains("Finished compiler regression tests"), "\(first.stderr)")
            #expect(first.stderr.contains("booting"))
            // The same image again: boot has run, nothing is left to do.
            let again = try PhantomProcess.run(["pvm", "run", bundle, "--image", image])
            #expect(again.status == 0 && again.stderr.contains("resuming") && !again.stdout.contains("Finished"), "\(again.stderr)")
            // --fresh: a new image, booted again.
            let fresh = try PhantomProcess.run(["pvm", "run", bundle, "--image", image, "--fresh"])
            #expect(fresh.status == 0 && fresh.stderr.contains("booting") && fresh.stdout.contains("Finished compiler regression tests"),
                    "\(fresh.stderr)")
            // A class given twice, and no class at all, are refused by name.
            let twice = try PhantomProcess.run(["pvm", "bundle", "-o", bundle, programs, programs + "/phantom.util.map.pas"])
            #expect(twice.status == 1 && twice.stderr.contains("class .phantom.util.map was already given by"), "\(twice.stderr)")
            let none = try PhantomProcess.run(["pvm", "bundle", "-o", bundle, directory.path + "/nothing-here"])
            #expect(none.status == 1 && none.stderr.contains("nothing-here: no such file or directory"), "\(none.stderr)")
        }
    }

    @Test func theDefaultSystemsBundleIsBuiltFromItsSources() throws {
        // system/rom/uptime.bundle is committed; Programs/pvm/build.sh makes it.
        try withDirectory { directory in
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let rebuilt = directory.appendingPathComponent("uptime.bundle")
            let output = try PhantomProcess.run(["pvm", "bundle", "-o", rebuilt.path, root.appendingPathComponent("Programs/pvm/uptime").path])
            #expect(output.status == 0, "\(output.stderr)")
            let committed = bytes(root.appendingPathComponent("system/rom/uptime.bundle"))
            #expect(!committed.isEmpty, "system/rom/uptime.bundle is missing")
            #expect(bytes(rebuilt) == committed, "system/rom/uptime.bundle is stale: run Programs/pvm/build.sh")
        }
    }
}
