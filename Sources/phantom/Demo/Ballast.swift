import PhantomSpace

/// Optional ballast for the demo workload: many pages, rewritten round robin
/// a few per step and each stamped with the step that last wrote it, so that
/// every snapshot captures megabytes (and its copy-on-write copy takes long
/// enough for a kill to land in the middle of it) while the image still says
/// exactly what each page must hold at any iteration.
///
/// Step i (1-based) writes stamp i into the pages (i-1)·K … i·K-1, modulo the
/// page count. So after a restore at iteration I, page j must hold the step
/// that last covered it before I — a page captured after the cut would hold a
/// later stamp, one lost or captured early an earlier one.
struct Ballast {
    static let rootSlot = 1
    static let pagesPerStep: UInt64 = 16

    let space: ObjectSpace
    let pages: UInt64
    let base: UInt64

    /// The ballast in the space, or a new one of `megabytes` (nil when there
    /// is none and none is asked for). An existing one keeps its size.
    init?(space: ObjectSpace, megabytes: Int) throws {
        self.space = space
        var record = space.root(Self.rootSlot)
        if record == 0 {
            guard megabytes > 0 else { return nil }
            record = try space.allocate(16)
            let pages = UInt64(megabytes) * 256
            space.store(pages, at: record)
            space.store(try space.allocate(Int(pages) * ObjectSpace.pageSize), at: record + 8)
            space.setRoot(Self.rootSlot, record)
        }
        pages = space.load(UInt64.self, at: record)
        base = space.load(UInt64.self, at: record + 8)
        guard pages > 0, space.isAllocated(base, count: pages * UInt64(ObjectSpace.pageSize)) else {
            throw BallastError(message: "the ballast record names no allocated range (\(pages) pages at \(base))")
        }
    }

    /// After step `iteration` of the workload.
    func step(_ iteration: UInt64) {
        for index in 0..<Self.pagesPerStep {
            let page = ((iteration - 1) * Self.pagesPerStep + index) % pages
            space.store(iteration, at: base + page * UInt64(ObjectSpace.pageSize))
        }
    }

    /// Every page's stamp as it must be at `iteration`; a description of the first that is not.
    func check(at iteration: UInt64) -> String? {
        let written = iteration * Self.pagesPerStep
        for page in 0..<pages {
            var expected: UInt64 = 0
            if written > page {
                let last = written - 1 - (written - 1 - page) % pages
                expected = last / Self.pagesPerStep + 1
            }
            let actual = space.load(UInt64.self, at: base + page * UInt64(ObjectSpace.pageSize))
            if actual != expected {
                return "ballast page \(page) holds step \(actual), expected \(expected) at iteration \(iteration)"
            }
        }
        return nil
    }
}

struct BallastError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
