import ArgumentParser
import Foundation
import PhantomKernel
import PhantomStore

struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Create, inspect, verify and roll back images.",
        discussion: """
            An image is a file (or block device) holding the last few committed generations of the \
            object space. Every block carries a CRC32C checksum; a commit becomes visible only when its \
            superblock is durable, so a crash at any moment leaves exactly one committed generation.
            """,
        subcommands: [Create.self, Info.self, Verify.self, Generations.self, Rollback.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an empty image.")
        @Argument(help: "Path of the image file (or block device) to create.") var path: String
        @Option(help: "Largest size the image may grow to (e.g. 64G; 1M to 1P). A file starts small and grows.",
                transform: ByteSize.parser(in: (1 << 20)...(1 << 50)))
        var maxSize = ByteSize(bytes: 64 << 30)
        @Option(help: "Generations to keep (at least 2).") var retention = 3
        @Flag(help: "Replace an existing image (not one in use), or an empty or all-zero file left by an interrupted creation. A file that might hold other data (a damaged image, a foreign file) is never replaced; a block device is formatted.")
        var force = false

        func run() throws {
            guard retention >= 2 && retention <= Layout.maxRetention else {
                throw ValidationError("--retention must be between 2 and \(Layout.maxRetention)")
            }
            let options = Store.Options(retention: retention, maxBlocks: maxSize.bytes / UInt64(Layout.blockSize))
            let store: Store
            if !FileManager.default.fileExists(atPath: path) {
                // Built beside its name and renamed into place (ImageFile).
                store = try ImageFile.create(at: path, options: options, replacing: nil)
            } else {
                guard force else { throw StoreError.alreadyExists(path: path) }
                // Locked first: an image in use is refused, not replaced under its writer.
                let old = try FileBlockDevice(path: path, access: .exclusive)
                if let reason = try old.unfinishedReason() {
                    printError("phantom: \(path): \(reason) (not an image: the remains of an interrupted creation); replacing it")
                } else if old.isRegularFile {
                    do {
                        _ = try Store.open(old)
                    } catch {
                        throw StoreError.notReplaceable(path: path, reason: "it is not a readable image (\(error))")
                    }
                }
                store = try ImageFile.create(at: path, options: options, replacing: old)
            }
            print("created \(path): limit \(formatBytes(store.info.maxBlocks * UInt64(Layout.blockSize))), retention \(retention)")
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show size, used and free space, and the retained generations.",
            discussion: "Reads only, under a shared lock: refused while a writer (boot, run, resume, rollback) holds the image.")
        @Argument(help: "The image.") var path: String

        func run() throws {
            let store = try openImage(path)
            let info = store.info
            let block = UInt64(info.blockSize)
            print("image       \(info.path)")
            print("id          \(info.imageID.map { String(format: "%02x", $0) }.joined())")
            print("block size  \(info.blockSize)")
            print("size        \(formatBytes(info.extentBlocks * block)) on disk (limit \(formatBytes(info.maxBlocks * block)))")
            print("used        \(formatBytes(info.usedBlocks * block)) (\(info.usedBlocks) blocks)")
            print("free        \(formatBytes(info.freeBlocks * block)) up to the limit")
            print("retention   \(info.retention) generations")
            print("current     generation \(info.current)")
            print("")
            printGenerations(GenerationSummary.all(of: info))
        }
    }

    struct Generations: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the retained generations, newest first.",
            discussion: "Reads only, under a shared lock: refused while a writer (boot, run, resume, rollback) holds the image.")
        @Argument(help: "The image.") var path: String

        func run() throws {
            let store = try openImage(path)
            printGenerations(GenerationSummary.all(of: store.info))
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every block of every retained generation against its checksum.",
            discussion: """
                Reads only, under a shared lock, so it never mistakes a generation being replaced by a \
                live writer for damage: refused while a writer (boot, run, resume, rollback) holds the \
                image. Exits 0 when everything is intact, 1 when damage was found.
                """)
        @Argument(help: "The image.") var path: String

        func run() throws {
            let store = try openImage(path)
            let report = store.verify()
            for warning in report.warnings { print("warning: \(warning)") }
            for damage in report.damage { print("damage: \(damage)") }
            print("checked \(report.generationsChecked.count) generations, \(report.nodesChecked) map nodes, \(report.pagesChecked) pages")
            if report.isClean {
                print("ok: no damage")
            } else {
                print("DAMAGED: \(report.damage.count) problem(s); intact generations: \(report.intactGenerations.map(String.init).joined(separator: ", "))")
                throw ExitCode(1)
            }
        }
    }

    struct Rollback: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an older retained generation current again.",
            discussion: """
                Commits a new generation identical to the chosen one. Nothing is overwritten: the \
                newer generations stay retained until retention drops them, so a rollback can itself \
                be rolled back. A writer: refused while another process uses the image (stop it \
                first; it would overwrite the rollback).
                """)
        @Argument(help: "The image.") var path: String
        @Argument(help: "The generation to return to (see `phantom image generations`).") var generation: UInt64

        func run() throws {
            let store = try ImageAccess.openForWriting(path, create: false).store
            let record = try store.rollback(to: generation)
            print("rolled back to generation \(generation): it is now generation \(record.generation)")
        }
    }
}

/// Opens an image for the read-only commands, under a shared lock (ImageAccess).
func openImage(_ path: String) throws -> Store {
    try ImageAccess.openForReading(path)
}
