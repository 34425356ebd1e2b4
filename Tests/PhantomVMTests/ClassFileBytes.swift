@testable import PhantomVM

/// Builds class-file bytes by hand, independently of `ClassFile.encoded`,
/// so that the parser is tested against the layout itself.
enum ClassFileBytes {
    static func i32(_ value: Int32) -> [UInt8] {
        let bits = UInt32(bitPattern: value)
        return [UInt8(bits >> 24), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits & 0xFF)]
    }

    static func i64(_ value: Int64) -> [UInt8] {
        let bits = UInt64(bitPattern: value)
        return (0..<8).map { UInt8(bits >> UInt64(56 - 8 * $0) & 0xFF) }
    }

    static func str(_ text: String) -> [UInt8] { i32(Int32(text.utf8.count)) + Array(text.utf8) }

    static func type(_ name: String, container: Bool = false, contained: String = "") -> [UInt8] {
        i32(container ? 1 : 0) + str(name) + str(contained)
    }

    /// `phfr:`, the tag, the total length, the payload.
    static func record(_ tag: Character, _ payload: [UInt8], length: Int32? = nil) -> [UInt8] {
        Array("phfr:".utf8) + [tag.asciiValue!] + i32(length ?? Int32(10 + payload.count)) + payload
    }

    static func header(_ name: String = ".test.sample", objects: Int32 = 2, methods: Int32 = 10,
                       parent: String = ".internal.object", version: String? = "20170628000206538") -> [UInt8] {
        record("C", str(name) + i32(objects) + i32(methods) + str(parent) + (version.map(str) ?? []))
    }

    static func method(_ name: String, ordinal: Int32, code: [UInt8]) -> [UInt8] {
        record("M", str(name) + i32(ordinal) + code)
    }

    /// A signature of either generation: `isConstructor` nil leaves out `is_ctor`.
    static func signature(_ name: String, ordinal: Int32, isConstructor: Bool?, returns: [UInt8],
                          arguments: [(String, [UInt8])]) -> [UInt8] {
        var payload = str(name) + i32(ordinal) + i32(Int32(arguments.count))
        if let isConstructor { payload += i32(isConstructor ? 1 : 0) }
        payload += returns
        for (name, type) in arguments { payload += str(name) + type }
        return record("S", payload)
    }
}
