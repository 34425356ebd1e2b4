extension ClassFile {
    /// The class file's bytes, in the order Phantom's compiler writes them
    /// (`ClassMap.codegen`, `MethodTable.codegen`): the class header, then
    /// each method's code followed by its signature and line map, then the
    /// fields (one a record), then the constants. Signatures and line maps
    /// are placed after the method with their ordinal while that keeps each
    /// array in order, the rest after the last method, so parsing the bytes
    /// gives this value back; a file the compiler wrote comes out byte for byte.
    ///
    /// Each signature is written in its own generation unless `generation`
    /// forces one (`.old` drops `is_ctor`; `.current` writes a missing one as 0).
    /// Throws only for a record that would not fit an int32 length.
    public func encoded(signatureGeneration generation: SignatureGeneration? = nil) throws(ClassFileError) -> [UInt8] {
        var output = ClassFileOutput(source: name)
        try output.record(.classHeader) { record in
            record.text(name)
            record.i32(objectSlotCount)
            record.i32(methodSlotCount)
            record.text(parentName)
            if let version { record.text(version) }
        }
        var nextSignature = 0
        var nextLineMap = 0
        for method in methods {
            try output.record(.method) { record in
                record.text(method.name)
                record.i32(method.ordinal)
                record.bytes(method.code)
            }
            while nextSignature < signatures.count && signatures[nextSignature].ordinal == method.ordinal {
                try output.signature(signatures[nextSignature], generation: generation)
                nextSignature += 1
            }
            while nextLineMap < lineMaps.count && lineMaps[nextLineMap].ordinal == method.ordinal {
                try output.lineMap(lineMaps[nextLineMap])
                nextLineMap += 1
            }
        }
        for signature in signatures[nextSignature...] { try output.signature(signature, generation: generation) }
        for lineMap in lineMaps[nextLineMap...] { try output.lineMap(lineMap) }
        for field in fields {
            try output.record(.field) { record in
                record.text(field.name)
                record.i32(field.ordinal)
                record.type(field.type)
            }
        }
        for constant in constants {
            try output.record(.constant) { record in
                record.i32(constant.index)
                record.type(constant.type)
                record.bytes(constant.bytes)
            }
        }
        return output.bytes
    }
}

/// Appends framed records; a record's length is known once its payload is written.
private struct ClassFileOutput {
    let source: String
    var bytes: [UInt8] = []

    /// A payload under construction.
    struct Record {
        var writer = BytecodeWriter()
        /// Set when a string is too long for its int32 length.
        var tooLong = false
        mutating func i32(_ value: Int32) { writer.i32(value) }
        mutating func i64(_ value: Int64) { writer.i64(value) }
        mutating func bytes(_ value: [UInt8]) { for byte in value { writer.u8(byte) } }
        mutating func text(_ value: String) {
            let utf8 = Array(value.utf8)
            guard utf8.count <= Int(Int32.max) else { tooLong = true; return }
            writer.string(utf8)
        }
        mutating func type(_ type: PhantomType) {
            i32(type.isContainer ? 1 : 0)
            text(type.mainClassName)
            text(type.containedClassName)
        }
    }

    mutating func record(_ tag: ClassFileRecord.Tag, _ build: (inout Record) -> Void) throws(ClassFileError) {
        var record = Record()
        build(&record)
        let length = ClassFileRecord.headerSize + record.writer.code.count
        guard !record.tooLong, length <= Int(Int32.max) else {
            throw ClassFileError(source: source, record: nil, offset: bytes.count,
                                 "a \(ClassFileRecord.describe(tag.rawValue)) record would be longer than an int32 length allows")
        }
        bytes += ClassFileRecord.marker
        bytes.append(tag.rawValue)
        let bits = UInt32(length)
        bytes += [UInt8(bits >> 24), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits & 0xFF)]
        bytes += record.writer.code
    }

    mutating func signature(_ signature: ClassFile.Signature, generation: ClassFile.SignatureGeneration?) throws(ClassFileError) {
        try record(.signature) { record in
            record.text(signature.name)
            record.i32(signature.ordinal)
            record.i32(Int32(clamping: signature.arguments.count))
            switch generation ?? signature.generation {
            case .current: record.i32(signature.isConstructor == true ? 1 : 0)
            case .old: break
            }
            record.type(signature.returnType)
            for argument in signature.arguments {
                record.text(argument.name)
                record.type(argument.type)
            }
        }
    }

    mutating func lineMap(_ lineMap: ClassFile.LineMap) throws(ClassFileError) {
        try record(.lineMap) { record in
            record.i32(lineMap.ordinal)
            record.i32(Int32(clamping: lineMap.entries.count))
            for entry in lineMap.entries {
                record.i64(entry.offset)
                record.i32(entry.line)
            }
        }
    }
}
