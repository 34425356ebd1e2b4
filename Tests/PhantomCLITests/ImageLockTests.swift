import Foundation
import Testing

/// A `phantom` process left running, its output collected as it comes.
typealias LiveProcess = PhantomProcess.Running

/// One writer per image (DESIGN.md invariant 9) across real processes: with a
/// writer running, every other writer — and every reader — is refused at once,
/// naming the image and the writer's pid; the running writer carries on and
/// the image verifies afterwards.
@Suite(.serialized) struct ImageLockTests {
    static var counter: String { fixture("c/counter.wasm") }

    enum Writer: String, CaseIterable, Sendable { case boot, system, run, resume }

    /// Starts `writer` on `image` and returns once it has committed a generation.
    private func start(_ writer: Writer, image: String) throws -> LiveProcess {
        // The counter runs forever (MAX 0), printing rarely (EVERY 100000), slowed down (SLOW 200).
        let run = ["run", "--image", image, "--verbose", "--snapshot-every", "30ms", Self.counter, "0", "100000", "200"]
        switch writer {
        case .boot:
            let process = try LiveProcess(["demo", "--image", image, "--snapshot-every", "30ms", "--rate", "5000"], in: nil)
            #expect(process.waitFor("snapshot: generation"), "boot never committed: \(process.output)")
            return process
        case .system:
            let process = try LiveProcess(["boot", "--image", image, "--snapshot-every", "30ms", "--verbose"], in: nil)
            #expect(process.waitFor("committed"), "boot never committed: \(process.output)")
            return process
        case .run:
            let process = try LiveProcess(run, in: nil)
            #expect(process.waitFor("committed"), "run never committed: \(process.output)")
            return process
        case .resume:
            // An unfinished run to resume: started, committed, killed.
            let first = try LiveProcess(run, in: nil)
            #expect(first.waitFor("committed"), "run never committed: \(first.output)")
            first.stop(SIGKILL)
            let process = try LiveProcess(["resume", "--image", image, "--verbose", "--snapshot-every", "30ms"], in: nil)
            #expect(process.waitFor("committed"), "resume never committed: \(process.output)")
            return process
        }
    }

    @Test(arguments: Writer.allCases)
    func secondWriterIsRefused(first writer: Writer) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("locked.img").path
        let holder = try start(writer, image: image)
        defer { if holder.process.isRunning { holder.stop(SIGKILL) } }

        let writers: [(String, [String])] = [
            ("demo", ["demo", "--image", image, "--iterations", "10"]),
            ("boot", ["boot", "--image", image, "--duration", "1s"]),
            ("run", ["run", "--image", image, Self.counter, "10", "1"]),
            ("run --fresh", ["run", "--fresh", "--image", image, Self.counter, "10", "1"]),
            ("resume", ["resume", "--image", image]),
            ("image rollback", ["image", "rollback", image, "1"]),
            ("image create --force", ["image", "create", "--force", image]),
        ]
        for (name, arguments) in writers {
            let second = try PhantomProcess.run(arguments)
            let context = "\(writer.rawValue), then \(name)"
            #expect(second.status == 75, "exit 75, image busy: \(context): \(second.status) \(second.stdout)")
            #expect(second.stderr.contains("\(image) is in use: process \(holder.pid) is writing it; a second writer would destroy it"),
                    "\(context): \(second.stderr)")
            #expect(!second.stderr.contains("created") && !second.stdout.contains("created"), "\(context)")
        }
        for reader in ["info", "verify", "generations"] {
            let output = try PhantomProcess.run(["image", reader, image])
            #expect(output.status == 75, "image \(reader) under \(writer.rawValue): \(output.status)")
            #expect(output.stderr.contains("\(image) is in use: process \(holder.pid) is writing it; a read-only command takes a shared lock"),
                    "image \(reader): \(output.stderr)")
        }
        // A system also has its control socket and its File_system's directory beside the image.
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
            .subtracting(writer == .system ? ["locked.img.sock", "locked.files"] : [])
        #expect(names == ["locked.img"], "no temporary file: \(names)")

        #expect(holder.process.isRunning, "the first writer carries on: \(holder.output)")
        let status = holder.stop()
        #expect(status == 143, "a clean stop by SIGTERM: \(holder.output)")
        #expect(!holder.output.stderr.contains("failed"), "\(holder.output.stderr)")

        let verify = try PhantomProcess.run(["image", "verify", image])
        #expect(verify.status == 0 && verify.stdout.contains("ok: no damage"), "\(verify.stdout) \(verify.stderr)")
        // Now free: a writer gets it.
        let rollback = try PhantomProcess.run(["image", "rollback", image, "\(try currentGeneration(image) - 1)"])
        #expect(rollback.status == 0, "\(rollback.stderr)")
    }

    private func currentGeneration(_ image: String) throws -> UInt64 {
        let info = try PhantomProcess.run(["image", "info", image])
        let line = info.lines.first { $0.hasPrefix("current") } ?? ""
        return number(after: "generation ", in: line) ?? 0
    }

    /// An empty or zeroed file (what a creation killed by an older phantom, or
    /// on a full disk, left) is refused with a message naming --fresh, and
    /// replaced by --fresh and by `image create --force`, with a message.
    @Test(arguments: ["empty", "zeroed"])
    func unfinishedFileIsReplacedOnlyByFresh(kind: String) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("\(kind).img").path
        let contents = kind == "empty" ? Data() : Data(count: 4 * 4096)
        FileManager.default.createFile(atPath: image, contents: contents)

        for arguments in [["run", "--image", image, Self.counter, "2000", "1000"], ["demo", "--image", image, "--iterations", "10"],
                          ["resume", "--image", image], ["image", "rollback", image, "0"]] {
            let refused = try PhantomProcess.run(arguments)
            #expect(refused.status != 0, "\(arguments)")
            #expect(refused.stderr.contains("\(image): ") && refused.stderr.contains("not a Phantom image")
                    && refused.stderr.contains("`--fresh`"), "\(arguments): \(refused.stderr)")
            #expect(FileManager.default.contents(atPath: image) == contents, "\(arguments): nothing written")
        }
        let fresh = try PhantomProcess.run(["run", "--fresh", "--image", image, Self.counter, "2000", "1000"])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(fresh.stderr.contains("replaced it with a new image"), "\(fresh.stderr)")
        #expect(fresh.stdout.contains("done 2000"))
        #expect(try PhantomProcess.run(["image", "verify", image]).status == 0)

        FileManager.default.createFile(atPath: image, contents: contents)
        let create = try PhantomProcess.run(["image", "create", "--force", image])
        #expect(create.status == 0 && create.stdout.contains("created"), "\(create.stderr)")
        #expect(create.stderr.contains("replacing it"), "\(create.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["\(kind).img"])
    }

    /// SIGKILL within milliseconds of creating an image: afterwards the name
    /// holds nothing or a complete image — never something that a plain run
    /// refuses — and no temporary file survives the next command.
    @Test func killDuringCreation() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("k.img").path
        for round in 0..<12 {
            try? FileManager.default.removeItem(atPath: image)
            let delay = Double(round) * 0.003
            _ = try PhantomProcess.runAndKill(["demo", "--image", image, "--snapshot-every", "10ms", "--rate", "0"], after: delay)
            let context = "round \(round), killed after \(delay) s"
            if FileManager.default.fileExists(atPath: image) {
                let verify = try PhantomProcess.run(["image", "verify", image])
                #expect(verify.status == 0, "\(context): \(verify.stdout) \(verify.stderr)")
            }
            let next = try PhantomProcess.run(["demo", "--image", image, "--iterations", "10", "--quiet"])
            #expect(next.status == 0, "\(context): \(next.stderr)")
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            #expect(names == ["k.img"], "\(context): \(names)")
        }
    }
}
