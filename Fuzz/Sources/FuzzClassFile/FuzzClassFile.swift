import PhantomVM

/// Fuzzes the class-file tools: the input is parsed as a class file (`.pc`),
/// as a class bundle, and as assembly text (`.pas`). Refusing an input is a
/// fine outcome; a crash, a hang or unbounded memory is not. Whatever is
/// accepted must go round every way without loss, or the target traps:
/// - written and parsed again, it gives the same bytes and the same class
///   (a signature may only change generation, where its bytes fit both
///   layouts: the format cannot tell them apart);
/// - its listing assembles back to the very same class;
/// - the instructions of its code encode back to the code's bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClassFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let classFile = try? ClassFile(parsing: bytes, source: "fuzz.pc") {
        check(classFile)
    }
    if let bundle = try? ClassBundle(parsing: bytes, source: "fuzz.bundle") {
        for entry in bundle.entries {
            guard bundle.entry(named: entry.name) != nil else { fatalError("bundle entry \(entry.name) is not found by its own name") }
            if let classFile = try? ClassFile(parsing: entry.bytes, source: "fuzz.bundle[\(entry.name)]") { check(classFile) }
        }
        // Names read as Latin-1 may grow past the name field in UTF-8: then writing refuses.
        if let written = try? bundle.encoded() {
            guard (try? ClassBundle(parsing: written, source: "written")) == bundle else { fatalError("a written bundle reads back differently") }
        }
    }
    if let classFile = try? Assembler.assemble(String(decoding: bytes, as: UTF8.self), file: "fuzz.pas") {
        check(classFile)
    }
    return 0
}

private func check(_ classFile: ClassFile) {
    let written: [UInt8]
    do { written = try classFile.encoded() } catch { fatalError("an accepted class does not write: \(error)") }
    let back: ClassFile
    do { back = try ClassFile(parsing: written, source: "written") } catch { fatalError("a written class does not parse: \(error)") }
    var sameButSignatures = back
    sameButSignatures.signatures = classFile.signatures
    guard sameButSignatures == classFile, back.signatures.count == classFile.signatures.count else {
        fatalError("a written class parses back differently")
    }
    guard (try? back.encoded()) == written else { fatalError("writing a class twice gives different bytes") }

    let listing = Disassembler.listing(classFile)
    let assembled: ClassFile
    do { assembled = try Assembler.assemble(listing, file: "listing.pas") } catch { fatalError("a listing does not assemble: \(error)\n\(listing)") }
    guard assembled == classFile else { fatalError("a listing assembles to another class:\n\(listing)") }

    for method in classFile.methods {
        var reader = CodeReader(method.code)
        var writer = BytecodeWriter()
        while !reader.isAtEnd, let instruction = try? reader.instruction() {
            do { try writer.instruction(instruction) } catch { fatalError("a decoded instruction does not encode: \(error)") }
        }
        guard writer.code.elementsEqual(method.code.prefix(writer.code.count)) else {
            fatalError("decoded instructions encode to other bytes in method \(method.name)")
        }
    }
}
