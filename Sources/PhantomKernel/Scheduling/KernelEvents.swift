import PhantomEngine

/// Kernel event numbers (transient: a re-executed call names its event again).
enum Events {
    static func server(_ component: UInt64) -> KernelEvent { KernelEvent(1 << 56 | component) }
    static func session(_ session: UInt64) -> KernelEvent { KernelEvent(2 << 56 | session) }
    static func reply(_ request: UInt64) -> KernelEvent { KernelEvent(3 << 56 | request) }
    static func rom(component: UInt64, name: String) -> KernelEvent {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return KernelEvent(4 << 56 | (component << 24) | (hash & 0xFF_FFFF))
    }
    /// A child's assigned RAM or caps changed (its resource request is answered).
    static func resources(_ component: UInt64) -> KernelEvent { KernelEvent(6 << 56 | component) }
    static func report(_ label: String) -> KernelEvent {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in label.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return KernelEvent(5 << 56 | (hash & 0xFF_FFFF_FFFF_FFFF))
    }
}
