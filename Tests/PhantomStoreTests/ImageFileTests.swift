import Foundation
import Testing
@testable import PhantomStore

/// One writer per image and atomic creation (DESIGN.md invariant 9), at the
/// library level. The cross-process cases run the real executable
/// (Tests/PhantomCLITests/ImageLockTests.swift).
@Suite struct ImageFileTests {
    private func withDirectory(_ body: (URL) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("phantom-imagefile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(directory)
    }

    private func inUse(_ body: () throws -> Void) -> (pid: Int32?, holderWrites: Bool)? {
        do { try body() } catch let StoreError.imageInUse(_, pid, holderWrites, _) { return (pid, holderWrites) } catch {
            Issue.record("expected imageInUse, got \(error)")
        }
        return nil
    }

    private func names(in directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    // MARK: - Locking

    /// OFD semantics: a second open in the same process conflicts (a POSIX
    /// fcntl lock would not), and names this process as the holder.
    @Test func secondWriterInTheSameProcessIsRefused() throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("a.img").path
            let store = try ImageFile.create(at: path, replacing: nil)
            var model = PageModel()
            try store.commit(pages: [0, 1], version: 1, model: &model)
            let before = FileManager.default.contents(atPath: path)

            let writer = inUse { _ = try ImageFile.openOrCreate(path, unfinished: .replace) }
            #expect(writer?.pid == getpid() && writer?.holderWrites == true)
            let reader = inUse { _ = try ImageFile.openForReading(path) }
            #expect(reader?.pid == getpid() && reader?.holderWrites == true)
            let creator = inUse { _ = try ImageFile.create(at: path, replacing: try FileBlockDevice(path: path)) }
            #expect(creator?.pid == getpid())
            #expect(FileManager.default.contents(atPath: path) == before, "a refused open changes nothing")

            // The message names the image and the holder.
            let text = String(describing: StoreError.imageInUse(path: path, pid: getpid(), holderWrites: true, wantedToWrite: true))
            #expect(text.contains(path) && text.contains("process \(getpid())") && text.contains("writing"))

            // Reading the file through another descriptor and closing it — which
            // drops a POSIX lock — leaves the lock in place.
            _ = FileManager.default.contents(atPath: path)
            #expect(inUse { _ = try FileBlockDevice(path: path) } != nil)

            try store.commit(pages: [2], version: 2, model: &model)
            #expect(try store.matches(model), "the holder carries on")
        }
    }

    @Test func readersShareAndExcludeWriters() throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("r.img").path
            do { _ = try ImageFile.create(at: path, replacing: nil) }   // released at the end of the block
            let first = try ImageFile.openForReading(path)
            let second = try ImageFile.openForReading(path)
            #expect(first.current.generation == 0 && second.current.generation == 0)
            let writer = inUse { _ = try FileBlockDevice(path: path, access: .exclusive) }
            #expect(writer?.pid == getpid() && writer?.holderWrites == false, "the holder is named as a reader")
            #expect(throws: (any Error).self) {
                try [UInt8]().withUnsafeBytes { _ = try first.commit(pageNumbers: [], pages: $0, pageCount: 0) }
            }
        }
    }

    @Test func lockIsReleasedWithTheStore() throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("l.img").path
            do { _ = try ImageFile.create(at: path, replacing: nil) }
            for round in 0..<3 {
                let store = try ImageFile.openOrCreate(path, unfinished: .refuse)
                #expect(store.outcome == .opened, "round \(round)")
            }
        }
    }

    // MARK: - Unfinished files

    @Test func unfinishedFilesAreRecognised() throws {
        try withDirectory { directory in
            let empty = directory.appendingPathComponent("empty.img").path
            FileManager.default.createFile(atPath: empty, contents: Data())
            let emptyReason = try FileBlockDevice(path: empty).unfinishedReason()
            #expect(emptyReason?.contains("empty") == true)

            // A large sparse zeroed file is recognised quickly (its holes are skipped).
            let sparse = directory.appendingPathComponent("sparse.img").path
            FileManager.default.createFile(atPath: sparse, contents: Data(count: 4096))
            truncate(sparse, 1 << 34)
            let sparseReason = try FileBlockDevice(path: sparse).unfinishedReason()
            #expect(sparseReason?.contains("zero") == true)

            let data = directory.appendingPathComponent("data.img").path
            var bytes = [UInt8](repeating: 0, count: 5 * 4096)
            bytes[5 * 4096 - 1] = 1
            FileManager.default.createFile(atPath: data, contents: Data(bytes))
            let dataReason = try FileBlockDevice(path: data).unfinishedReason()
            #expect(dataReason == nil, "one non-zero byte may be data")
        }
    }

    @Test func unfinishedFilesAreReplacedOnlyWhenAsked() throws {
        try withDirectory { directory in
            for (name, contents) in [("empty.img", Data()), ("zeroed.img", Data(count: 4 * 4096))] {
                let path = directory.appendingPathComponent(name).path
                FileManager.default.createFile(atPath: path, contents: contents)
                do {
                    _ = try ImageFile.openOrCreate(path, unfinished: .refuse)
                    Issue.record("\(name): an unfinished file was opened")
                } catch let error as StoreError {
                    guard case .unfinishedImage = error else { Issue.record("\(name): \(error)"); continue }
                    #expect(error.description.contains(path) && error.description.contains("--fresh"))
                }
                #expect(FileManager.default.contents(atPath: path) == contents, "\(name): refused, unchanged")
                let (store, outcome) = try ImageFile.openOrCreate(path, unfinished: .replace)
                guard case .replacedUnfinished = outcome else { Issue.record("\(name): \(outcome)"); continue }
                #expect(store.current.generation == 0)
            }
            #expect(names(in: directory) == ["empty.img", "zeroed.img"], "no temporary file is left")
        }
    }

    /// A damaged superblock that is recognisably ours is not garbage: never replaced.
    @Test func damagedImageIsNeverReplaced() throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("damaged.img").path
            do { _ = try ImageFile.create(at: path, replacing: nil) }
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            try handle.seek(toOffset: 200)
            try handle.write(contentsOf: Data([0xFF, 0x00, 0xFF]))
            try handle.close()
            let before = FileManager.default.contents(atPath: path)
            #expect(throws: StoreError.self) { _ = try ImageFile.openOrCreate(path, unfinished: .replace) }
            #expect(FileManager.default.contents(atPath: path) == before)
        }
    }

    // MARK: - Creation

    @Test func creationNeverReplacesAnExistingFile() throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("x.img").path
            FileManager.default.createFile(atPath: path, contents: Data("keep me".utf8))
            #expect(throws: StoreError.alreadyExists(path: path)) { _ = try ImageFile.create(at: path, replacing: nil) }
            #expect(FileManager.default.contents(atPath: path) == Data("keep me".utf8))
            #expect(names(in: directory) == ["x.img"])
        }
    }

    /// A kill at every step of creation — after each write, flush and resize
    /// of the temporary file, after its fsync, after the rename, after the
    /// directory's fsync — simulated by copying the directory as a SIGKILL at
    /// that moment would leave it (the page cache survives a kill, so the
    /// copies are exact). In every copy the name holds either what was there
    /// before or a complete image; the next `openOrCreate(.replace)` (what
    /// `--fresh` does) succeeds and removes the leftover temporary file.
    @Test(arguments: ["nothing", "an empty file", "a zeroed file"])
    func killAtEveryStepOfCreation(before: String) throws {
        try withDirectory { directory in
            let work = directory.appendingPathComponent("work")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let path = work.appendingPathComponent("new.img").path
            let original: Data? = before == "nothing" ? nil : before == "an empty file" ? Data() : Data(count: 4 * 4096)
            if let original { FileManager.default.createFile(atPath: path, contents: original) }

            var crashes: [(step: String, copy: URL)] = []
            let old = original == nil ? nil : try FileBlockDevice(path: path)
            _ = try ImageFile.create(at: path, options: Store.Options(), replacing: old) { step in
                let copy = directory.appendingPathComponent("crash-\(crashes.count)")
                try? FileManager.default.copyItem(at: work, to: copy)
                crashes.append((step, copy))
            }
            #expect(crashes.count >= 8, "steps observed: \(crashes.map(\.step))")
            #expect(names(in: work) == ["new.img"])

            for (index, crash) in crashes.enumerated() {
                let context = "kill after step \(index) (\(crash.step)), before it: \(before)"
                let image = crash.copy.appendingPathComponent("new.img").path
                let leftovers = names(in: crash.copy).filter { $0.hasPrefix("new.img.creating-") }
                #expect(leftovers.count <= 1, "\(context): \(leftovers)")
                if let contents = FileManager.default.contents(atPath: image), contents != original {
                    do { _ = try Store.open(FileBlockDevice(path: image)) } catch {
                        Issue.record("\(context): the name holds something that is not a complete image: \(error)")
                    }
                }
                let (store, _) = try ImageFile.openOrCreate(image, unfinished: .replace)
                #expect(store.current.generation == 0, "\(context)")
                #expect(names(in: crash.copy) == ["new.img"], "\(context): the temporary file is cleaned up")
            }
        }
    }

    @Test func staleTemporaryFilesAreRemovedLiveOnesKept() throws {
        try withDirectory { directory in
            let path = directory.appendingPathComponent("t.img").path
            let stale = path + ".creating-4242-beef"
            let live = path + ".creating-4343-cafe"
            FileManager.default.createFile(atPath: stale, contents: Data(count: 100))
            FileManager.default.createFile(atPath: live, contents: Data(count: 100))
            let holder = open(live, O_RDWR | O_CLOEXEC)
            defer { close(holder) }
            try ImageLock.acquire(holder, exclusive: true, path: live)
            let other = directory.appendingPathComponent("other.img.creating-1-2").path
            FileManager.default.createFile(atPath: other, contents: Data())

            _ = try ImageFile.openOrCreate(path, unfinished: .refuse)
            #expect(names(in: directory) == ["other.img.creating-1-2", "t.img", "t.img.creating-4343-cafe"],
                    "the dead creation's file is gone, the live one's and another image's stay")
        }
    }
}
