@testable import PhantomStore

/// Deterministic page contents for tests: page `page` as written by `version`.
func pageBytes(page: UInt64, version: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: page &* 0x9E37_79B9 &+ version &* 0x1_0000_0001)
    var bytes = [UInt8](repeating: 0, count: Layout.pageSize)
    bytes.withUnsafeMutableBytes { raw in
        for index in 0..<(Layout.pageSize / 8) {
            raw.storeBytes(of: generator.next(), toByteOffset: index * 8, as: UInt64.self)
        }
    }
    return bytes
}

/// A model of the space: what every page should hold.
struct PageModel: Equatable {
    var pages: [UInt64: UInt64] = [:] // page → version
    var pageCount: UInt64 = 0

    func expected(_ page: UInt64) -> [UInt8] {
        pages[page].map { pageBytes(page: page, version: $0) } ?? [UInt8](repeating: 0, count: Layout.pageSize)
    }
}

extension Store {
    /// Commits `version` of `pages`.
    @discardableResult
    func commit(pages: [UInt64], version: UInt64, model: inout PageModel) throws -> GenerationRecord {
        let buffer = pages.flatMap { pageBytes(page: $0, version: version) }
        let count = max(model.pageCount, (pages.max() ?? 0) + 1)
        let record = try buffer.withUnsafeBytes { try commit(pageNumbers: pages, pages: $0, pageCount: count) }
        for page in pages { model.pages[page] = version }
        model.pageCount = count
        return record
    }

    func page(_ page: UInt64) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Layout.pageSize)
        try bytes.withUnsafeMutableBytes { try readPage(page, into: $0) }
        return bytes
    }

    /// True when every page matches `model`: the same pages are mapped (the
    /// rest read as zeros) and each mapped page holds the expected bytes.
    func matches(_ model: PageModel) throws -> Bool {
        guard pageCount == model.pageCount else { return false }
        let mapped = Set(table.mappedPages.map(\.page))
        guard mapped == Set(model.pages.keys) else { return false }
        for page in mapped where try self.page(page) != model.expected(page) { return false }
        return true
    }
}
