import PhantomStore

/// Fuzzes opening an image: the input is split into 4 KiB blocks of a memory
/// device, opened, verified, read and committed to. Any outcome but a crash
/// (or a hang, or unbounded memory) is fine.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let device = MemoryBlockDevice(name: "fuzz.img")
    var offset = 0
    while offset < bytes.count {
        var block = Array(bytes[offset..<min(offset + Layout.blockSize, bytes.count)])
        block += [UInt8](repeating: 0, count: Layout.blockSize - block.count)
        device.blocks.append(block)
        offset += Layout.blockSize
    }
    guard let store = try? Store.open(device) else { return 0 }
    _ = store.verify()
    var page = [UInt8](repeating: 0, count: Layout.pageSize)
    for number in 0..<min(store.pageCount, 64) {
        _ = try? page.withUnsafeMutableBytes { try store.readPage(number, into: $0) }
    }
    let pages = [UInt8](repeating: 7, count: Layout.pageSize)
    _ = try? pages.withUnsafeBytes { try store.commit(pageNumbers: [0], pages: $0, pageCount: max(1, store.pageCount)) }
    return 0
}
