import Foundation
import PhantomStore
import Testing

/// Bad images and bad arguments through the real command line: a clear
/// message on stderr naming what and where, a non-zero exit, nothing written.
@Suite struct CommandLineTests {
    private func withDirectory(_ body: (URL) throws -> Void) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory)
    }

    private func bytes(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data() }

    @Test func imageLifecycle() throws {
        try withDirectory { directory in
            let image = directory.appendingPathComponent("life.img").path
            let created = try PhantomProcess.run(["image", "create", image, "--retention", "4"])
            #expect(created.status == 0 && created.stdout.contains("created"))
            let again = try PhantomProcess.run(["image", "create", image])
            #expect(again.status != 0 && again.stderr.contains("already exists"))
            _ = try PhantomProcess.run(["demo", "--image", image, "--iterations", "2000", "--rate", "0", "--quiet"])
            _ = try PhantomProcess.run(["demo", "--image", image, "--iterations", "2000", "--rate", "0", "--quiet"])
            let info = try PhantomProcess.run(["image", "info", image])
            #expect(info.status == 0)
            #expect(info.stdout.contains("retention   4 generations"))
            #expect(info.stdout.contains("current     generation 2"))
            let generations = try PhantomProcess.run(["image", "generations", image])
            #expect(generations.lines.count == 4, "header + generations 2, 1, 0: \(generations.stdout)")
            let rollback = try PhantomProcess.run(["image", "rollback", image, "1"])
            #expect(rollback.status == 0 && rollback.stdout.contains("it is now generation 3"))
            let resumed = try PhantomProcess.run(["demo", "--image", image, "--iterations", "1", "--quiet"])
            #expect(resumed.stdout.contains("resumed at iteration 2000; invariant holds"), "\(resumed.stdout)")
            let missing = try PhantomProcess.run(["image", "rollback", image, "77"])
            #expect(missing.status != 0 && missing.stderr.contains("generation 77 is not retained"))
        }
    }

    @Test func foreignFile() throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("notes.txt").path
            let text = Data(String(repeating: "not an image at all\n", count: 2000).utf8)
            FileManager.default.createFile(atPath: path, contents: text)
            for arguments in [["image", "info", path], ["image", "verify", path], ["demo", "--image", path, "--iterations", "1"],
                              ["--image", path, "--duration", "1s"]] {
                let output = try PhantomProcess.run(arguments)
                #expect(output.status != 0)
                #expect(output.stderr.contains("\(path): not a Phantom image"), "\(arguments): \(output.stderr)")
            }
            #expect(bytes(path) == text, "nothing was written")
        }
    }

    @Test func tinyFile() throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("tiny.img").path
            FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3]))
            let output = try PhantomProcess.run(["image", "info", path])
            #expect(output.status != 0 && output.stderr.contains("3 bytes is too small"))
        }
    }

    @Test func zeroedSuperblocksAndFutureVersion() throws {
        try withDirectory { directory in
            let image = directory.appendingPathComponent("z.img").path
            _ = try PhantomProcess.run(["demo", "--image", image, "--iterations", "100", "--quiet"])
            var data = bytes(image)
            // A future format version, with a correct checksum: refused, not "repaired".
            do {   // released (and unlocked) before phantom opens the image
                let device = try FileBlockDevice(path: image)
                var superblock = try Store.open(device).superblock
                superblock.formatVersion = 2
                try device.writeBlock(superblock.generation % 4, superblock.encode())
            }
            let future = try PhantomProcess.run(["image", "info", image])
            #expect(future.status != 0 && future.stderr.contains("format version 2 is newer"), "\(future.stderr)")

            data.replaceSubrange(0..<(4 * 4096), with: [UInt8](repeating: 0, count: 4 * 4096))
            FileManager.default.createFile(atPath: image, contents: data)
            let zeroed = try PhantomProcess.run(["demo", "--image", image, "--iterations", "1"])
            #expect(zeroed.status != 0 && zeroed.stderr.contains("superblock area was erased"), "\(zeroed.stderr)")
            #expect(bytes(image) == data)
        }
    }

    @Test func verifyReportsDamageByGenerationAndBlock() throws {
        try withDirectory { directory in
            let image = directory.appendingPathComponent("d.img").path
            _ = try PhantomProcess.run(["demo", "--image", image, "--iterations", "300", "--quiet"])
            // Read under a shared lock, released at once: phantom then opens the image itself.
            let current = try ImageFile.openForReading(image).current
            let block = current.root.block
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: image))
            try handle.seek(toOffset: block * 4096 + 100)
            try handle.write(contentsOf: Data([0x55, 0xAA]))
            try handle.close()
            let verify = try PhantomProcess.run(["image", "verify", image])
            #expect(verify.status == 1)
            #expect(verify.stdout.contains("damage: generation \(current.generation): block \(block)"), "\(verify.stdout)")
            // Booting falls back to the previous generation, with a warning.
            let boot = try PhantomProcess.run(["demo", "--image", image, "--iterations", "1", "--quiet"])
            #expect(boot.status == 0, "\(boot.stderr)")
            #expect(boot.stderr.contains("warning: generation \(current.generation) is damaged"), "\(boot.stderr)")
            #expect(boot.stderr.components(separatedBy: "generation \(current.generation) is damaged").count == 2,
                    "the damage is reported once: \(boot.stderr)")
        }
    }

    @Test func badArguments() throws {
        for (arguments, message) in [
            (["--snapshot-every", "0ms"], "at least 10ms is needed"),
            (["--snapshot-every", "61s"], "snapshot-every"),
            (["demo", "--snapshot-every", "0ms"], "at least 1ms is needed"),
            (["--snapshot-every", "soon"], "snapshot-every"),
            (["image", "create", "/tmp/x.img", "--retention", "1"], "--retention must be between 2"),
            (["image", "info", "/nonexistent/nothing.img"], "no such image"),
            (["--space-limit", "lots"], "space-limit"),
        ] {
            let output = try PhantomProcess.run(arguments)
            #expect(output.status != 0, "\(arguments)")
            #expect(output.stderr.contains(message), "\(arguments): \(output.stderr)")
        }
        let help = try PhantomProcess.run(["--help"])
        #expect(help.stdout.contains("USAGE") && help.stdout.contains("image"))
    }
}
