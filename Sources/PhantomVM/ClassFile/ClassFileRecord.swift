/// The framing of a `.pc` file's records, shared by the parser and the writer.
///
/// A class file has no header, count or trailer: it is records back to back,
/// each `phfr:`, a one-byte type tag, an int32 big-endian **total** length
/// (header included, compiler `FileInfo.write`), then the payload. The VM's
/// loader (`load_class.c`) refuses a record without the marker or shorter
/// than 14 bytes (a header and at least one int32), and ignores types it does
/// not know; the compiler's `FileInfo` says a lowercase type may be ignored
/// while an uppercase one must be understood.
public enum ClassFileRecord {
    /// `phfr:`
    public static let marker: [UInt8] = Array("phfr:".utf8)
    /// Marker, tag and length.
    public static let headerSize = 10
    /// The shortest record the loaders accept.
    public static let minimumLength = 14

    /// The record types Phantom's compiler writes.
    public enum Tag: UInt8, Sendable, CaseIterable {
        /// The class header: name, slot counts, parent, version.
        case classHeader = 0x43  // C
        /// A method's code.
        case method = 0x4D  // M
        /// A method's signature.
        case signature = 0x53  // S
        /// A method's code-offset-to-source-line map.
        case lineMap = 0x6C  // l
        /// Field descriptions.
        case field = 0x66  // f
        /// A constant-pool entry.
        case constant = 0x63  // c
    }

    /// Whether a loader may skip a record of this type it does not know.
    public static func isIgnorable(_ tag: UInt8) -> Bool { (0x61...0x7A).contains(tag) }

    /// How a tag reads in messages: the character, or its hex value when it is not printable.
    static func describe(_ tag: UInt8) -> String {
        (0x21...0x7E).contains(tag) ? "'\(Character(Unicode.Scalar(tag)))'" : "0x" + hex(tag)
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
