import CPhantomSupport

/// CRC32C (Castagnoli) — the checksum of every superblock, map node and data
/// block in an image. Chosen over CRC32 because x86 (SSE4.2) and ARMv8 compute
/// it in hardware, so checking every page on read costs little.
public enum CRC32C {
    public static func checksum(_ buffer: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = buffer.baseAddress else { return 0 }
        return phantom_crc32c(0, base, buffer.count)
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    public static var isHardwareAccelerated: Bool { phantom_crc32c_is_hardware() != 0 }
}
