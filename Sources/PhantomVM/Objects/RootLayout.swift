import PhantomSpace

/// The root object: Phantom's root slots (`include/vm/root.h`), the entry to
/// everything persistent, made once on a fresh image and found after a
/// restart through `space.root(PVMRoots.heap)`.
///
/// Data words 0..<103 are references at Phantom's slot numbers, so a slot
/// reads as in `root.h`; words from 103 on are the VM's own bookkeeping.
public enum RootLayout {
    /// Phantom's `PVM_ROOT_OBJECTS_COUNT`.
    public static let phantomSlotCount = 103

    // Phantom's slot numbers that we use (root.h).
    public static let nullClass = 0
    public static let classClass = 1
    public static let interfaceClass = 2
    public static let codeClass = 3
    public static let intClass = 4
    public static let stringClass = 5
    public static let arrayClass = 6
    public static let pageClass = 7
    public static let threadClass = 8
    public static let callFrameClass = 9
    public static let integerStackClass = 10
    public static let objectStackClass = 11
    public static let exceptionStackClass = 12
    public static let longClass = 13
    public static let floatClass = 14
    public static let doubleClass = 15
    public static let bootClass = 16
    public static let ttyClass = 17
    public static let classLoader = 18
    public static let mutexClass = 20
    public static let condClass = 21
    public static let binaryClass = 22
    public static let worldClass = 24
    public static let closureClass = 25
    public static let weakrefClass = 28
    public static let directoryClass = 30
    public static let semaClass = 32
    public static let timeClass = 35
    public static let statClass = 36
    /// The interface (method table) all internal classes share.
    public static let systemInterface = 65
    public static let threadList = 66
    public static let restartList = 68
    public static let kernelEnvironment = 69
    public static let osEntry = 70
    public static let classDirectory = 73
    /// Ours, in one of Phantom's unassigned slots: the boot thread, which
    /// runs alone until it has finished (Phantom runs boot synchronously).
    public static let bootThread = 41

    // Our bookkeeping, after Phantom's slots (not references).
    static let magic = 103
    static let allObjects = 104
    static let objectCount = 105
    static let bootDone = 106
    static let bytesSinceCollection = 107
    static let collectionEpoch = 108
    static let nextThreadID = 109
    /// Bytes of all objects, owned frames and stacks included (not the root).
    static let liveBytes = 110
    static let wordCount = 111

    /// "PHPVM002": the heap format this build reads. Version 1 (session 8)
    /// had 32-byte headers with a singly linked list of all objects and no
    /// reference counts; its objects cannot be moved to the new header in
    /// place, so such an image is refused by name rather than upgraded.
    static let magicValue: UInt64 = 0x3230_304D_5650_4850
    /// "PHPVM001", recognised only to refuse it by name.
    static let firstFormatMagicValue: UInt64 = 0x3130_304D_5650_4850

    /// The heap's format as the versioning rule counts it (RecordVersion).
    static let version = RecordVersion(record: "the Phantom VM heap", current: 2)

    /// The number in a "PHPVMnnn" format word.
    static func formatVersion(_ magic: UInt64) -> UInt64? {
        let text = formatName(magic)
        guard text.hasPrefix("PHPVM"), let number = UInt64(text.dropFirst(5)) else { return nil }
        return number
    }

    /// A format word as text ("PHPVM002"), or in hex when it is not one of ours.
    static func formatName(_ magic: UInt64) -> String {
        let bytes = withUnsafeBytes(of: magic.littleEndian) { Array($0) }
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return String(decoding: bytes, as: UTF8.self) }
        return "0x" + String(magic, radix: 16)
    }
}

/// Where in the space's root table the Phantom VM's root object is recorded.
public enum PVMRoots {
    /// Slots 8–10 belong to the WebAssembly engine and the kernel.
    public static let heap = 11
}
