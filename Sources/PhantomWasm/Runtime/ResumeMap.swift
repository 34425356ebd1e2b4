import PhantomSpace

/// A place in a function where a stored thread may stand, in both terms: the
/// translated code's (word position) and WebAssembly's (byte offset of the
/// `loop`, `call` or `call_indirect` in the module, operand height).
///
/// Why both: a stored frame names a word position, which only the translator
/// that produced the code understands; the offset and height are what every
/// translator agrees on. A translator emits these deterministically for every
/// reachable `loop`, `call` and `call_indirect` (dead code has none in any
/// translation, because reachability is the validator's).
struct ResumePoint: Equatable, Sendable {
    enum Kind: UInt64, Sendable {
        case loop = 0
        case call = 1
        case callIndirect = 2
    }

    /// Word index of the instruction in the translated code.
    var position: Int
    /// Byte offset of the WebAssembly instruction, from the start of the module.
    var offset: Int
    /// WebAssembly operand height before the instruction: a loop's parameters
    /// included; a call's arguments (and `call_indirect`'s table index) included.
    var height: Int
    var kind: Kind = .loop
    /// For a call, the word index a caller frame resumes at when the callee
    /// returns (right after the call); 0 for a loop.
    var returnPosition: Int = 0
}

/// How one function's frames are laid out by one translator, and where its
/// resume points are: everything needed to read a stored frame of it in
/// WebAssembly terms, or to write one. Built from the current translation
/// (`init(code:)`) or decoded from the map an image stores beside each module
/// (`ResumeMapRecord`), which describes the translator that wrote the image.
struct FrameMap: Sendable {
    /// Parameters plus declared locals, at `fp + 0 ..< variableCount`.
    var variableCount: Int
    /// Slot of the 3-slot header (caller reference, return position, caller fp).
    var headerOffset: Int
    /// Slot of operand height 0.
    var operandBase: Int
    var points: [ResumePoint]

    init(variableCount: Int, headerOffset: Int, operandBase: Int, points: [ResumePoint]) {
        self.variableCount = variableCount
        self.headerOffset = headerOffset
        self.operandBase = operandBase
        self.points = points
    }

    init(code: FunctionCode) {
        self.init(variableCount: code.variableCount, headerOffset: code.headerOffset, operandBase: code.operandBase,
                  points: code.resumeMap)
    }

    /// The resume point at word `position` (binary search: points ascend by position).
    func point(at position: UInt64) -> ResumePoint? {
        var low = 0, high = points.count
        while low < high {
            let middle = (low + high) / 2
            if UInt64(points[middle].position) < position { low = middle + 1 } else { high = middle }
        }
        guard low < points.count, UInt64(points[low].position) == position else { return nil }
        return points[low]
    }

    /// The call a caller frame stands in, from its stored return position: the
    /// last point before that position (a call's words hold no other point),
    /// if it is a call returning there.
    func call(returningTo position: UInt64) -> ResumePoint? {
        var low = 0, high = points.count
        while low < high {
            let middle = (low + high) / 2
            if UInt64(points[middle].position) < position { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return nil }
        let point = points[low - 1]
        return point.kind != .loop && UInt64(point.returnPosition) == position ? point : nil
    }
}

/// The resume maps of one module as stored in the object space, one allocation
/// pointed to by `ModuleRecord.resumeMap`. Written when the module record is
/// written (and rewritten when a restore re-lays frames for a new translator);
/// read only when a restore finds that the code it translated differs from
/// the code the image was written with (`ModuleRecord.checksum`).
///
/// Format version 1, 8-byte words:
///
/// ```
/// 0                     format version (1)
/// 1                     the writing translator's layout (TranslationLayout raw value; informative)
/// 2                     F: defined functions
/// 3                     E: entries
/// 4 + 2i                function i: headerOffset | operandBase << 16 | variableCount << 32
/// 5 + 2i                function i: first entry | entry count << 32
/// 4 + 2F + 2e           entry e: offset | height << 32 | kind << 56
/// 5 + 2F + 2e           entry e: position | returnPosition << 32
/// ```
///
/// Entries of a function ascend by position. 16 bytes per loop and call of the
/// module; nothing per instruction.
enum ResumeMapRecord {
    static let version: UInt64 = 1
    static let headerWords = 4

    static func words(for module: WasmModule) -> [UInt64] { words(functions: module.functions, layout: module.layout) }

    static func words(functions: [FunctionCode], layout: TranslationLayout) -> [UInt64] {
        var functionWords: [UInt64] = [], entryWords: [UInt64] = []
        for code in functions {
            let first = entryWords.count / 2
            functionWords.append(UInt64(code.headerOffset) | UInt64(code.operandBase) << 16 | UInt64(code.variableCount) << 32)
            functionWords.append(UInt64(first) | UInt64(code.resumeMap.count) << 32)
            for point in code.resumeMap {
                entryWords.append(UInt64(point.offset) | UInt64(point.height) << 32 | point.kind.rawValue << 56)
                entryWords.append(UInt64(point.position) | UInt64(point.returnPosition) << 32)
            }
        }
        return [version, layout.rawValue, UInt64(functions.count), UInt64(entryWords.count / 2)]
            + functionWords + entryWords
    }

    /// Byte size of the stored map at `offset` (for `free` and region checks),
    /// nil when its header is not readable.
    static func byteCount(at offset: UInt64, in space: ObjectSpace) -> Int? {
        guard offset != 0, space.isAllocated(offset, count: UInt64(headerWords * 8)) else { return nil }
        let functions = space.load(UInt64.self, at: offset + 16), entries = space.load(UInt64.self, at: offset + 24)
        guard functions < 1 << 32, entries < 1 << 32 else { return nil }
        let bytes = (UInt64(headerWords) + 2 * functions + 2 * entries) * 8
        guard space.isAllocated(offset, count: bytes) else { return nil }
        return Int(bytes)
    }

    static func store(_ module: WasmModule, in space: ObjectSpace) throws -> UInt64 {
        try space.storeArray(words(for: module))
    }

    /// Decodes and checks the map stored at `offset` for `module` (its bytes
    /// decoded and validated anew): one `FrameMap` per defined function. Every
    /// value is checked against what the module itself says (function count,
    /// variables, offsets inside the module, positions ascending), so a forged
    /// map is refused rather than followed; `name` names it in errors.
    static func decode(at offset: UInt64, for module: WasmModule, in space: ObjectSpace, name: String)
        throws(WasmInstantiationError) -> [FrameMap]
    {
        func fail(_ message: String) -> WasmInstantiationError { .restore("\(name): \(message)") }
        guard let bytes = byteCount(at: offset, in: space) else {
            throw fail("resume map at \(offset) is missing or outside the allocated space")
        }
        let words = space.loadArray(at: offset, count: bytes / 8)
        guard words[0] == version else {
            throw fail("resume map format version \(words[0]); this build reads version \(version)")
        }
        let functionCount = Int(words[2]), entryCount = Int(words[3])
        guard functionCount == module.functions.count else {
            throw fail("resume map describes \(functionCount) functions, the module defines \(module.functions.count)")
        }
        let entryBase = headerWords + 2 * functionCount
        var maps: [FrameMap] = []
        for (index, code) in module.functions.enumerated() {
            let layout = words[headerWords + 2 * index], range = words[headerWords + 2 * index + 1]
            let headerOffset = Int(layout & 0xffff), operandBase = Int((layout >> 16) & 0xffff)
            let variables = Int(layout >> 32)
            guard variables == code.variableCount, headerOffset >= variables,
                  headerOffset + Frame.headerSlots <= operandBase, operandBase < Field.slotLimit else {
                throw fail("function \(index): frame layout (variables \(variables), header \(headerOffset), operands \(operandBase)) does not fit its \(code.variableCount) variables")
            }
            let first = Int(range & 0xffff_ffff), count = Int(range >> 32)
            guard first <= entryCount, count <= entryCount - first else {
                throw fail("function \(index): entries \(first) + \(count) beyond the map's \(entryCount)")
            }
            var points: [ResumePoint] = []
            for entry in first..<first + count {
                let where0 = words[entryBase + 2 * entry], where1 = words[entryBase + 2 * entry + 1]
                guard let kind = ResumePoint.Kind(rawValue: where0 >> 56) else {
                    throw fail("function \(index): entry \(entry) has kind \(where0 >> 56)")
                }
                let point = ResumePoint(position: Int(where1 & 0xffff_ffff), offset: Int(where0 & 0xffff_ffff),
                                        height: Int((where0 >> 32) & 0xff_ffff), kind: kind,
                                        returnPosition: Int(where1 >> 32))
                guard point.offset < module.bytes.count, point.height < Field.slotLimit,
                      points.last.map({ $0.position < point.position }) ?? true,
                      (kind == .loop) == (point.returnPosition == 0),
                      kind == .loop || point.returnPosition > point.position else {
                    throw fail("function \(index): entry \(entry) (offset \(point.offset), position \(point.position)) is not a resume point")
                }
                points.append(point)
            }
            maps.append(FrameMap(variableCount: variables, headerOffset: headerOffset, operandBase: operandBase, points: points))
        }
        return maps
    }
}
