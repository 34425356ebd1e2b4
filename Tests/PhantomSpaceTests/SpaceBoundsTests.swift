import Foundation
import Testing
@testable import PhantomSpace
@testable import PhantomStore

/// The space's unsafe edges: marking pages dirty outside the space, and limits
/// that no address space holds. Each is an error, never a write outside the
/// dirty map or a crash at the first store (DESIGN.md invariant 8).
@Suite struct SpaceBoundsTests {
    static func outOfBounds(_ error: any Error) -> Bool {
        if case SpaceError.outOfBounds = error { return true }
        return false
    }

    @Test func markDirtyOutsideTheSpaceIsRefused() throws {
        let space = try freshSpace(limit: 64 << 20)
        let limit = space.limitBytes
        #expect(limit == 64 << 20)
        for (offset, count) in [(limit, 1), (limit - 4, 8), (limit + (1 << 30), 1), (UInt64.max - 2, 8),
                                (UInt64.max, 1), (0, -1), (4096, Int.max)] {
            #expect(throws: SpaceError.self, "markDirty(\(offset), \(count))") {
                try space.markDirty(offset, count: count)
            }
            do { try space.markDirty(offset, count: count) } catch {
                #expect(Self.outOfBounds(error))
                #expect("\(error)".contains("beyond the limit \(limit)"))
            }
        }
        // Inside, up to the last byte, it marks (and a snapshot writes) the pages.
        try space.snapshot()
        try space.markDirty(limit - 8, count: 8)
        try space.markDirty(5 * 4096 + 4000, count: 200)  // two pages
        try space.markDirty(0, count: 0)
        let result = try space.snapshot()
        #expect(result.pages == 3)
    }

    @Test func impossibleSpaceLimitsAreErrors() throws {
        func error(limit: UInt64) -> SpaceError? {
            do {
                _ = try ObjectSpace(store: Store.create(on: MemoryBlockDevice()), options: .init(limitBytes: limit))
                return nil
            } catch let error as SpaceError {
                return error
            } catch {
                Issue.record("unexpected \(error)")
                return nil
            }
        }
        // Zero, and limits that would overflow rounding up to a page.
        for limit in [0, UInt64.max, UInt64.max - 100, UInt64(Int.max), ObjectSpace.maximumLimitBytes + 1] {
            guard case .invalidLimit(let bytes)? = error(limit: limit) else {
                Issue.record("limit \(limit) was not refused as invalid")
                continue
            }
            #expect(bytes == limit)
            #expect("\(SpaceError.invalidLimit(bytes: bytes))".contains("impossible"))
        }
        // The whole user address space of any 64-bit Linux: `mmap` refuses it.
        switch error(limit: ObjectSpace.maximumLimitBytes) {
        case .reserveFailed(let bytes, let code)?:
            #expect(bytes == ObjectSpace.maximumLimitBytes)
            #expect(code != 0)
            #expect("\(SpaceError.reserveFailed(bytes: bytes, errno: code))".contains("lower --space-limit"))
        case .dirtyMapFailed?:
            break
        case let other:
            Issue.record("a space of 2^57 bytes gave \(String(describing: other))")
        }
        // One page is the smallest space: its header fits; the first allocation does not.
        let tiny = try ObjectSpace(store: Store.create(on: MemoryBlockDevice()), options: .init(limitBytes: 1))
        #expect(tiny.limitBytes == 4096)
        #expect(throws: SpaceError.self) { try tiny.allocate(16) }
    }

    /// The dirty map's own reservation: `mmap` failing is `MAP_FAILED`, not nil.
    @Test func aDirtyMapThatCannotBeReservedIsAnError() throws {
        // Never copied from: no page is ever marked.
        let base = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { base.deallocate() }
        #expect(throws: SpaceError.self) { try DirtyTracker(pageLimit: 0, base: base) }
        #expect(throws: SpaceError.self) { try DirtyTracker(pageLimit: UInt64.max, base: base) }
        do {
            _ = try DirtyTracker(pageLimit: ObjectSpace.maximumLimitBytes, base: base)  // a 2^57-byte map
            Issue.record("a dirty map of 2^57 bytes was reserved")
        } catch {
            guard case .dirtyMapFailed(let pages, let code) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(pages == ObjectSpace.maximumLimitBytes)
            #expect(code != 0)
        }
        #expect(throws: SpaceError.self) { try AddressSpace(byteCount: ObjectSpace.maximumLimitBytes) }
        #expect(throws: SpaceError.self) { try AddressSpace(byteCount: 0) }
    }

    @Test func rangeChecksDoNotOverflow() throws {
        let space = try freshSpace(limit: 64 << 20)
        #expect(space.contains(0, count: space.limitBytes))
        #expect(!space.contains(1, count: space.limitBytes))
        #expect(!space.contains(UInt64.max, count: 2))
        #expect(!space.contains(2, count: UInt64.max))
        let object = try space.allocate(100)
        #expect(space.isAllocated(object, count: 100))
        #expect(!space.isAllocated(0, count: 8), "the header page is not an allocation")
        #expect(!space.isAllocated(object, count: 1 << 20), "beyond the allocator's bump")
        #expect(!space.isAllocated(UInt64.max - 4, count: 8))
    }
}

/// The allocator's state in the header page of a restored image: checked on
/// open, and each free-list link checked before it is followed.
@Suite struct ForgedAllocatorTests {
    /// An image whose header has `offset` set to `value` (checksummed like any page).
    static func image(forging offset: UInt64, _ value: UInt64) throws -> MemoryBlockDevice {
        let device = MemoryBlockDevice()
        let space = try freshSpace(device, limit: 64 << 20)
        let small = try space.allocate(100)
        space.free(small, byteCount: 100)  // free list of 128-byte blocks: one entry
        space.store(value, at: offset)
        try space.snapshot()
        return device
    }

    static func openError(_ device: MemoryBlockDevice) -> String? {
        do { _ = try reopen(device, limit: 64 << 20); return nil } catch { return "\(error)" }
    }

    @Test func aForgedBumpPointerIsRefused() throws {
        for bump: UInt64 in [0, 100, (64 << 20) + 1, UInt64.max] {
            let message = Self.openError(try Self.image(forging: SpaceHeader.bumpOffset, bump))
            #expect(message?.contains("bump pointer \(bump)") == true, "\(message ?? "accepted")")
        }
    }

    @Test func aForgedFreeListHeadIsRefused() throws {
        let head = SpaceHeader.freeListsOffset + 3 * 8  // size class 3: 128 bytes
        for value: UInt64 in [8, 4096 + 3, 1 << 40, UInt64.max - 127] {
            let message = Self.openError(try Self.image(forging: head, value))
            #expect(message?.contains("free list 3 starts at \(value)") == true, "\(message ?? "accepted")")
        }
        #expect(Self.openError(try Self.image(forging: SpaceHeader.liveBytesOffset, UInt64.max)) == nil,
                "live bytes are a statistic")
    }

    @Test func aForgedFreeListLinkIsAnErrorNotACrash() throws {
        let device = MemoryBlockDevice()
        let space = try freshSpace(device, limit: 64 << 20)
        let block = try space.allocate(100)
        space.free(block, byteCount: 100)
        space.store(UInt64(1) << 40, at: block)  // the link inside the free block
        space.store(UInt64.max, at: SpaceHeader.liveBytesOffset)
        try space.snapshot()
        let reopened = try reopen(device, limit: 64 << 20)
        #expect {
            _ = try reopened.allocate(100)
        } throws: { error in
            "\(error)".contains("links to \(UInt64(1) << 40)")
        }
        #expect(try reopened.allocate(5000) > 0, "other size classes still work")
    }
}
