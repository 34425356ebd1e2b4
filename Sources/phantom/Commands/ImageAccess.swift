import ArgumentParser
import Foundation
import PhantomStore

/// How every command reaches an image (DESIGN.md invariant 9), in one place:
///
/// - writers (`boot`, `run`, `resume`, `image rollback`, `image create`) hold
///   the image's exclusive lock from before they read it until they exit; a
///   second writer is refused at once, naming the holder, having changed
///   nothing;
/// - readers (`image info`, `image verify`, `image generations`) hold a shared
///   lock while they read: they see one committed generation, never one being
///   replaced, and are refused while a writer runs;
/// - a new image appears under its name only complete (`ImageFile`); an empty
///   or all-zero file (the remains of an interrupted creation by an older
///   phantom, or a full disk) is replaced only by `--fresh` or
///   `image create --force`, with a message saying so.
enum ImageAccess {
    /// Opens the image at `path` for writing, creating it if there is no file
    /// (unless `create` is false). `fresh` lets an unfinished file be replaced.
    static func openForWriting(_ path: String, create: Bool = true, fresh: Bool = false,
                               options: Store.Options = Store.Options()) throws -> (store: Store, outcome: ImageFile.Outcome) {
        guard create || FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("\(path): no such image (create one with `phantom image create \(path)`)")
        }
        let opened = try ImageFile.openOrCreate(path, options: options, unfinished: fresh ? .replace : .refuse)
        if case let .replacedUnfinished(reason) = opened.outcome {
            printError("phantom: \(path): \(reason) (not an image: the remains of an interrupted creation); replaced it with a new image")
        }
        for warning in opened.store.warnings { printError("phantom: warning: \(warning)") }
        return opened
    }

    /// Replaces the image that `store` holds open (and locked) with a new,
    /// empty one, atomically; the lock is never let go meanwhile. A store
    /// that is already a new, empty image is returned as it is.
    static func recreate(_ store: Store, options: Store.Options = Store.Options()) throws -> Store {
        if store.current.generation == 0 && store.current.pageCount == 0 { return store }
        guard let device = store.device as? FileBlockDevice else {
            throw ValidationError("\(store.path): not an image file")
        }
        return try ImageFile.create(at: store.path, options: options, replacing: device)
    }

    /// Opens an existing image for reading, under a shared lock.
    static func openForReading(_ path: String) throws -> Store {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("\(path): no such image (create one with `phantom image create \(path)`)")
        }
        let store = try ImageFile.openForReading(path)
        for warning in store.warnings { printError("warning: \(warning)") }
        return store
    }
}
