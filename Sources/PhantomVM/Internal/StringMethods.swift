/// `.internal.string` (Phantom's `i_string.c`): strings are immutable byte
/// sequences; indexes and lengths count bytes.
enum StringMethods {
    static let table: [Int: NativeMethod] = [
        UniversalOrdinal.clone: { call throws(Interruption) in
            let bytes = call.bytes(of: call.this)
            return try call.make { () throws(VMError) in try call.heap.makeString(bytes) }
        },
        UniversalOrdinal.equals: { call throws(Interruption) in
            let other = try call.argument(0)
            guard call.heap.kind(of: other) == .string, call.heap.dataSize(of: other) == call.heap.dataSize(of: call.this) else {
                return try call.makeInt(0)
            }
            return try call.makeInt(call.bytes(of: other) == call.bytes(of: call.this) ? 1 : 0)
        },
        UniversalOrdinal.toString: { call throws(Interruption) in call.this },
        // substring and charAt read only the bytes they return: reading the
        // whole string made a loop of charAt on a long string quadratic.
        8: { call throws(Interruption) in  // substring(index, length)
            let size = call.heap.dataSize(of: call.this)
            let index = Int(try call.int(0)), length = Int(try call.int(1))
            guard index >= 0, index < size else { throw call.fail("string.substring index is out of bounds") }
            guard length >= 0 else { throw call.fail("string.substring length is negative") }
            let count = min(size - index, length)
            call.charge(bytes: count)
            let slice = call.heap.space.read(at: call.heap.dataOffset(call.this) + UInt64(index), count: count)
            return try call.make { () throws(VMError) in try call.heap.makeString(slice) }
        },
        9: { call throws(Interruption) in  // charAt(index): the byte
            let index = Int(try call.int(0))
            guard index >= 0, index < call.heap.dataSize(of: call.this) else { throw call.fail("string.charAt index is out of bounds") }
            return try call.makeInt(Int32(call.heap.space.load(UInt8.self, at: call.heap.dataOffset(call.this) + UInt64(index))))
        },
        10: { call throws(Interruption) in  // concat(string)
            let joined = call.bytes(of: call.this) + (try call.stringBytes(0))
            return try call.make { () throws(VMError) in try call.heap.makeString(joined) }
        },
        11: { call throws(Interruption) in try call.makeInt(Int32(call.heap.dataSize(of: call.this))) },
        12: { call throws(Interruption) in  // strstr(string): byte position or -1
            let haystack = call.bytes(of: call.this), needle = try call.stringBytes(0)
            return try call.makeInt(Int32(position(of: needle, in: haystack) ?? -1))
        },
        16: { call throws(Interruption) in  // toInt
            guard let value = Int32(String(decoding: call.bytes(of: call.this), as: UTF8.self).trimmingSpaces) else {
                throw call.fail("string.toInt: not a number")
            }
            return try call.makeInt(value)
        },
        17: { call throws(Interruption) in  // toLong
            guard let value = Int64(String(decoding: call.bytes(of: call.this), as: UTF8.self).trimmingSpaces) else {
                throw call.fail("string.toLong: not a number")
            }
            return try call.make { () throws(VMError) in try call.heap.makeLong(value) }
        },
        18: { call throws(Interruption) in  // toFloat (Phantom's throws "not impl")
            guard let value = Float(String(decoding: call.bytes(of: call.this), as: UTF8.self).trimmingSpaces) else {
                throw call.fail("string.toFloat: not a number")
            }
            return try call.make { () throws(VMError) in try call.heap.makeFloat(value) }
        },
        19: { call throws(Interruption) in  // toDouble
            guard let value = Double(String(decoding: call.bytes(of: call.this), as: UTF8.self).trimmingSpaces) else {
                throw call.fail("string.toDouble: not a number")
            }
            return try call.make { () throws(VMError) in try call.heap.makeDouble(value) }
        },
    ]

    /// Where `needle` first occurs in `haystack` (Knuth–Morris–Pratt: time
    /// linear in both). Comparing at every start, copying the candidate
    /// each time, took the product of the two lengths: one strstr of half
    /// of a 256 KiB run of one byte took ten seconds, of a 1 MiB one minutes.
    static func position(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !needle.isEmpty else { return 0 }
        guard needle.count <= haystack.count else { return nil }
        // border[i]: the length of the longest proper prefix of needle[...i] that is also its suffix.
        var border = [Int](repeating: 0, count: needle.count)
        var matched = 0
        for index in 1..<needle.count {
            while matched > 0 && needle[index] != needle[matched] { matched = border[matched - 1] }
            if needle[index] == needle[matched] { matched += 1 }
            border[index] = matched
        }
        matched = 0
        for (index, byte) in haystack.enumerated() {
            while matched > 0 && byte != needle[matched] { matched = border[matched - 1] }
            if byte == needle[matched] { matched += 1 }
            if matched == needle.count { return index - matched + 1 }
        }
        return nil
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " || text.first == "\n" || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\n" || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}

/// `.internal.container.array`: get(index), set(value, index) growing the
/// array as needed, size(). Indexes are int objects.
enum ArrayMethods {
    static let table: [Int: NativeMethod] = [
        UniversalOrdinal.toString: { call throws(Interruption) in try call.makeString("array") },
        8: { call throws(Interruption) in throw call.fail("get iterator is not implemented yet") },
        9: { call throws(Interruption) in throw call.fail("get subarray is not implemented yet") },
        10: { call throws(Interruption) in
            let index = UInt32(bitPattern: try call.int(0))
            guard let element = call.heap.arrayElement(call.this, Int(index)) else { throw call.fail("array get - index is out of bounds") }
            return element
        },
        11: { call throws(Interruption) in
            let value = try call.argument(0)
            let index = Int(UInt32(bitPattern: try call.int(1)))
            guard index < 1 << 24 else { throw call.fail("array set - index \(index) is too large") }
            let capacity = call.heap.slotCount(call.heap.ref(call.this, 0))
            if index >= capacity { call.charge(bytes: max(index + 1, capacity * 2) * 8) }
            try call.make { () throws(VMError) in try call.heap.setArrayElement(call.this, index, value); return value }
            return value
        },
        12: { call throws(Interruption) in try call.makeInt(Int32(call.heap.arrayCount(call.this))) },
    ]
}

/// `.internal.directory`: a string-keyed map. put(key, value) → 0,
/// get(key) → value or null, remove(key) → 0 if it was there, else 1, size().
enum DirectoryMethods {
    static func find(_ call: NativeCall, _ key: [UInt8]) -> Int? {
        let keys = call.heap.ref(call.this, DirectoryLayout.keys)
        for index in 0..<call.heap.arrayCount(keys) {
            guard let element = call.heap.arrayElement(keys, index), call.heap.kind(of: element) == .string else { continue }
            if call.bytes(of: element) == key { return index }
        }
        return nil
    }

    static let table: [Int: NativeMethod] = [
        UniversalOrdinal.equals: { call throws(Interruption) in throw call.fail("dir.equals: not implemented") },
        8: { call throws(Interruption) in
            let key = try call.stringBytes(0), value = try call.argument(1)
            let keys = call.heap.ref(call.this, DirectoryLayout.keys), values = call.heap.ref(call.this, DirectoryLayout.values)
            if let index = find(call, key) {
                try call.make { () throws(VMError) in try call.heap.setArrayElement(values, index, value); return .null }
            } else {
                let keyObject = try call.argument(0)
                try call.make { () throws(VMError) in
                    try call.heap.appendToArray(keys, keyObject)
                    try call.heap.appendToArray(values, value)
                    return .null
                }
            }
            return try call.makeInt(0)
        },
        9: { call throws(Interruption) in
            guard let index = find(call, try call.stringBytes(0)) else { return .null }
            return call.heap.arrayElement(call.heap.ref(call.this, DirectoryLayout.values), index) ?? .null
        },
        10: { call throws(Interruption) in
            guard let index = find(call, try call.stringBytes(0)) else { return try call.makeInt(1) }
            for field in [DirectoryLayout.keys, DirectoryLayout.values] {
                let array = call.heap.ref(call.this, field)
                let last = call.heap.arrayCount(array) - 1
                let storage = call.heap.ref(array, 0)
                call.heap.setRef(storage, index, call.heap.ref(storage, last))
                call.heap.setRef(storage, last, .null)
                call.heap.setWord(array, 1, UInt64(last))
            }
            return try call.makeInt(0)
        },
        11: { call throws(Interruption) in try call.makeInt(Int32(call.heap.arrayCount(call.heap.ref(call.this, DirectoryLayout.keys)))) },
        12: { call throws(Interruption) in throw call.fail("dir.iterate: not implemented") },
    ]
}
