import Dispatch

/// The CRC32C of every 4 KiB page of a buffer, computed on a background
/// queue so that a commit can write the pages at the same time: writing is
/// a memory copy into the kernel and checksumming is a pass over the same
/// bytes, and on two cores the two overlap instead of adding up.
final class PageChecksums: @unchecked Sendable {
    private var results: [UInt32]
    private let group = DispatchGroup()

    init(pages: UnsafeRawBufferPointer) {
        let count = pages.count / Layout.pageSize
        results = Array(repeating: 0, count: count)
        guard count > 0 else { return }
        // Small commits are cheaper inline than handed to another thread.
        if count < 64 {
            compute(pages, range: 0..<count)
            return
        }
        nonisolated(unsafe) let source = pages
        DispatchQueue.global(qos: .userInitiated).async(group: group) { [self] in
            compute(source, range: 0..<count)
        }
    }

    private func compute(_ pages: UnsafeRawBufferPointer, range: Range<Int>) {
        results.withUnsafeMutableBufferPointer { output in
            for index in range {
                output[index] = CRC32C.checksum(UnsafeRawBufferPointer(
                    rebasing: pages[index * Layout.pageSize..<(index + 1) * Layout.pageSize]))
            }
        }
    }

    /// Waits for the background work and returns one checksum per page.
    func wait() -> [UInt32] {
        group.wait()
        return results
    }
}
