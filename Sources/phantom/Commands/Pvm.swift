import ArgumentParser
import Foundation
import PhantomVM

/// `phantom pvm ...`: tools for Phantom VM class files (`.pc`), their
/// bundles and their assembly text (`.pas`, docs/PVM-ASSEMBLER.md).
struct Pvm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pvm",
        abstract: "Phantom VM class files: list them, assemble them.",
        discussion: """
            `phantom pvm dis FILE` lists a class file (.pc) or every class of a class bundle in the form \
            of the .lstc listings Phantom's compiler writes, with the header, fields, constants, \
            signatures and line maps as directives; `phantom pvm asm FILE.pas` turns such a listing \
            (or one written by hand) back into a class file. Bad input exits with status 1 and a \
            message naming the file, the record or line, and the offset or column.
            """,
        subcommands: subcommands)

    /// The `pvm` subcommands; a new one is added here.
    static var subcommands: [any ParsableCommand.Type] { [PvmRun.self, Disassemble.self, Assemble.self, Bundle.self] }

    struct Disassemble: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dis",
            abstract: "List a class file, or the classes of a bundle.",
            discussion: """
                A file that begins with a record marker (phfr:) is a class file; anything else is read \
                as a class bundle (512-byte name, little-endian length, class file; as mkbulk writes). \
                Each class of a bundle is preceded by a `// bundle entry N: NAME` line.
                """)
        @Argument(help: "A class file (.pc) or a class bundle.") var file: String
        @Option(name: .customLong("class"), help: ArgumentHelp(
            "List only this class (. and / alike, a leading one ignored).", valueName: "NAME"))
        var className: String?

        func run() throws {
            let bytes = try readPvmInput(file, what: "class file or bundle")
            guard !bytes.isEmpty else { throw CommandFailure("\(file) is empty: neither a class file nor a bundle") }
            if bytes.starts(with: ClassFileRecord.marker) {
                let classFile = try parseClass(bytes, source: file)
                if let className, ClassName.lookupKey(className) != ClassName.lookupKey(classFile.name) {
                    throw CommandFailure("\(file) holds class \(classFile.name), not \(className)")
                }
                print(Disassembler.listing(classFile), terminator: "")
            } else {
                try listBundle(bytes)
            }
            if standardOutputFailed() { throw ExitCode(ExitStatus.outputClosed) }
        }

        private func listBundle(_ bytes: [UInt8]) throws {
            let bundle: ClassBundle
            do {
                bundle = try ClassBundle(parsing: bytes, source: file)
            } catch {
                throw CommandFailure("\(file) is neither a class file (it does not begin with 'phfr:') nor a class bundle: \(error)")
            }
            var entries = Array(bundle.entries.enumerated())
            if let className {
                let key = ClassName.lookupKey(className)
                guard let found = entries.first(where: { ClassName.lookupKey($0.element.name) == key }) else {
                    let names = bundle.entries.prefix(20).map(\.name).joined(separator: ", ")
                    throw CommandFailure("\(file) has no class \(className) (it has \(bundle.entries.count): \(names)\(bundle.entries.count > 20 ? ", ..." : ""))")
                }
                entries = [found]
            }
            var failures: [String] = []
            for (index, entry) in entries {
                do {
                    let classFile = try ClassFile(parsing: entry.bytes, source: "\(file)[\(entry.name)]")
                    if className == nil { print("// bundle entry \(index): \(entry.name) (\(entry.bytes.count) bytes)\n") }
                    print(Disassembler.listing(classFile), terminator: "")
                } catch {
                    failures.append("entry \(index): \(error)")
                }
            }
            guard failures.isEmpty else { throw CommandFailure(failures.joined(separator: "\n")) }
        }
    }

    struct Assemble: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "asm",
            abstract: "Assemble a .pas text into a class file.",
            discussion: "The syntax is in docs/PVM-ASSEMBLER.md; `phantom pvm dis` writes it. Errors are reported as FILE:LINE:COLUMN: message.")
        @Argument(help: "The assembly text.") var file: String
        @Option(name: .shortAndLong, help: ArgumentHelp("The class file to write (default: FILE with .pc instead of .pas).", valueName: "FILE.pc"))
        var output: String?
        @Flag(help: "Write every method signature in the old layout (without is_ctor), for older tools.")
        var oldSignatures = false

        func run() throws {
            let bytes = try readPvmInput(file, what: "assembly text")
            guard let text = String(validating: bytes, as: UTF8.self) else { throw CommandFailure("\(file) is not UTF-8 text") }
            let classFile: ClassFile
            do {
                classFile = try Assembler.assemble(text, file: file)
            } catch {
                throw CommandFailure("\(error)")
            }
            let encoded = try classFile.encoded(signatureGeneration: oldSignatures ? .old : nil)
            let destination = output ?? (file.hasSuffix(".pas") ? String(file.dropLast(4)) : file) + ".pc"
            do {
                try Data(encoded).write(to: URL(fileURLWithPath: destination), options: .atomic)
            } catch {
                throw CommandFailure("\(destination): cannot write the class file (\(error.localizedDescription))")
            }
        }
    }
}

extension Pvm {
    /// `phantom pvm bundle`: Phantom's class bundle (what its `mkbulk`
    /// writes and its boot module holds), so a set of classes is one file —
    /// `phantom pvm run BUNDLE`, or the binary of a component in a system.
    struct Bundle: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bundle",
            abstract: "Pack class files (.pc) or assembly texts (.pas) into one class bundle.",
            discussion: """
                Each input is a .pc class file, a .pas assembly text (assembled on the way) or a directory                 of them. An entry is named by its class, without the leading dot, as Phantom's mkbulk names                 it. A class given twice is refused. The bundle runs with `phantom pvm run BUNDLE`, or as the                 binary of a component: a start node whose ROM is a bundle boots a Phantom VM (its boot class                 is .ru.dz.phantom.system.boot, or the PHANTOM_BOOT_CLASS variable of an <env> node).
                """)
        @Argument(help: "Class files, assembly texts, or directories of them.") var inputs: [String]
        @Option(name: .shortAndLong, help: ArgumentHelp("The bundle to write.", valueName: "FILE")) var output: String

        func run() throws {
            var entries: [ClassBundle.Entry] = []
            var seen: [String: String] = [:]
            for path in try inputs.flatMap(Self.files) {
                let bytes = try readPvmInput(path, what: "class file or assembly text")
                let classFile: ClassFile
                if path.hasSuffix(".pas") {
                    guard let text = String(validating: bytes, as: UTF8.self) else { throw CommandFailure("\(path) is not UTF-8 text") }
                    do { classFile = try Assembler.assemble(text, file: path) } catch { throw CommandFailure("\(error)") }
                } else {
                    classFile = try parseClass(bytes, source: path)
                }
                let name = classFile.name.hasPrefix(".") ? String(classFile.name.dropFirst()) : classFile.name
                if let first = seen[name] { throw CommandFailure("\(path): class \(classFile.name) was already given by \(first)") }
                seen[name] = path
                entries.append(.init(name: name, bytes: path.hasSuffix(".pas") ? try classFile.encoded() : bytes))
            }
            guard !entries.isEmpty else { throw CommandFailure("no class files among the inputs (.pc or .pas)") }
            let encoded: [UInt8]
            do { encoded = try ClassBundle(entries: entries, source: output).encoded() } catch { throw CommandFailure("\(error)") }
            do {
                try Data(encoded).write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                throw CommandFailure("\(output): cannot write the bundle (\(error.localizedDescription))")
            }
            printError("phantom: \(output): \(entries.count) classes, \(encoded.count) bytes")
        }

        /// A directory's .pc and .pas files in name order; a file as itself.
        static func files(_ path: String) throws -> [String] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CommandFailure("\(path): no such file or directory")
            }
            guard isDirectory.boolValue else { return [path] }
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
                throw CommandFailure("\(path): cannot list the directory (\(error.localizedDescription))")
            }
            return names.filter { $0.hasSuffix(".pc") || $0.hasSuffix(".pas") }.sorted().map { path + "/" + $0 }
        }
    }
}

/// A whole input file, refused with a clear message when it is missing, a
/// directory or unreadable.
private func readPvmInput(_ path: String, what: String) throws -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw CommandFailure("\(path): no such file (the \(what))")
    }
    guard !isDirectory.boolValue else { throw CommandFailure("\(path) is a directory, not a \(what)") }
    guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("\(path): cannot read the \(what)") }
    return Array(data)
}

private func parseClass(_ bytes: [UInt8], source: String) throws -> ClassFile {
    do { return try ClassFile(parsing: bytes, source: source) } catch { throw CommandFailure("\(error)") }
}
