import PhantomSpace

/// Changing the page limit of a live instance's memory: the kernel's answer
/// to a changed RAM quota (Genode's `Child::apply_upgrade` /
/// `apply_downgrade`: init moves quota to or from a running child without
/// restarting it).
///
/// A memory's data is one block reserved for its limit (so `memory.grow`
/// never moves it while code runs). A new limit therefore *moves* the data
/// into a block of the new size: the pages in use are copied (all-zero pages
/// are skipped — the new block reads as zeros already, and copying them
/// would only dirty them), and the old block goes back to the allocator.
/// Callers must make sure no thread executes in the instance meanwhile: the
/// interpreter holds the data's address for the length of a run.
public enum MemoryLimitError: Error, CustomStringConvertible, Equatable {
    case noOwnMemory
    case belowCurrentSize(pages: UInt64)
    case spaceFull(String)

    public var description: String {
        switch self {
        case .noOwnMemory: "the instance has no memory of its own"
        case let .belowCurrentSize(pages): "the memory already has \(pages) pages"
        case let .spaceFull(reason): reason
        }
    }
}

extension Instance {
    /// The pages this memory may grow to (its reservation).
    public var memoryLimitPages: UInt64 {
        memoryRecord == 0 ? 0 : space.field(memoryRecord, MemoryRecord.limitPages)
    }

    /// Sets the memory's limit to `pages` (at most its declared maximum).
    /// Returns the limit now in force.
    @discardableResult
    public func setMemoryLimit(pages requested: UInt64) throws(MemoryLimitError) -> UInt64 {
        let validated = module.validated
        guard memoryRecord != 0, validated.context.memories.count == validated.memories.count else { throw .noOwnMemory }
        let memory = memoryRecord
        let limit = min(requested, space.field(memory, MemoryRecord.declaredMaximum), 65536)
        let pages = space.field(memory, MemoryRecord.pages)
        guard limit >= pages else { throw .belowCurrentSize(pages: pages) }
        let oldLimit = space.field(memory, MemoryRecord.limitPages)
        guard limit != oldLimit else { return limit }
        let oldData = space.field(memory, MemoryRecord.data)
        let newData: UInt64
        do { newData = try space.allocate(max(Int(limit * MemoryRecord.pageSize), 16)) } catch {
            throw .spaceFull("\(error)")
        }
        let osPage = 4096
        let used = Int(pages * MemoryRecord.pageSize)
        var offset = 0
        while offset < used {
            let chunk = space.read(at: oldData + UInt64(offset), count: min(1 << 20, used - offset))
            var page = 0
            while page < chunk.count {
                let end = min(page + osPage, chunk.count)
                if chunk[page..<end].contains(where: { $0 != 0 }) {
                    chunk[page..<end].withUnsafeBytes { space.write($0, at: newData + UInt64(offset + page)) }
                }
                page = end
            }
            offset += chunk.count
        }
        space.setField(memory, MemoryRecord.data, newData)
        space.setField(memory, MemoryRecord.limitPages, limit)
        space.free(oldData, byteCount: max(Int(oldLimit * MemoryRecord.pageSize), 16))
        return limit
    }
}
