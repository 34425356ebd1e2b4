import Foundation
import Testing
@testable import PhantomVM

@Suite struct ClassBundleTests {
    let shell = ClassFile(name: ".ru.dz.phantom.system.shell", methodSlotCount: 1,
                          methods: [.init(name: "run", ordinal: 0, code: [Opcode.ret.rawValue])])
    let boot = ClassFile(name: ".ru.dz.phantom.system.boot")

    private func bundle() throws -> ClassBundle {
        ClassBundle(entries: [.init(name: "ru.dz.phantom.system.shell", bytes: try shell.encoded()),
                              .init(name: "ru.dz.phantom.system.boot", bytes: try boot.encoded()),
                              .init(name: "ru.dz.phantom.system.shell", bytes: [])])
    }

    @Test func writesTheLayoutMkbulkWrites() throws {
        let bytes = try bundle().encoded()
        let first = try shell.encoded()
        #expect(Array(bytes.prefix(26)) == Array("ru.dz.phantom.system.shell".utf8))
        #expect(bytes[26..<512].allSatisfy { $0 == 0 }, "the name is NUL-padded to 512 bytes")
        let length = UInt32(first.count)
        #expect(Array(bytes[512..<516]) == [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)],
                "the length is little-endian")
        #expect(Array(bytes[516..<516 + first.count]) == first)
        #expect(try ClassBundle(parsing: bytes, source: "x.bundle") == bundle())
        #expect(try ClassBundle(parsing: [], source: "empty").entries.isEmpty)
    }

    @Test func findsClassesAsTheVMDoes() throws {
        let bundle = try ClassBundle(parsing: try bundle().encoded(), source: "classes.bundle")
        for name in [".ru.dz.phantom.system.shell", "ru.dz.phantom.system.shell", "/ru/dz/phantom/system/shell", "ru/dz.phantom/system.shell"] {
            #expect(bundle.entry(named: name)?.bytes == (try shell.encoded()), "\(name)")
        }
        #expect(bundle.entry(named: "..ru.dz.phantom.system.shell") == nil, "only one leading separator is ignored")
        #expect(bundle.entry(named: "ru.dz.phantom.system") == nil)
        #expect(try bundle.classFile(named: ".ru.dz.phantom.system.boot") == boot)
        #expect(try bundle.classFile(named: ".nothing") == nil)
        var broken = bundle
        broken.entries[0].bytes = [1, 2, 3]
        #expect(throws: ClassFileError(source: "classes.bundle[ru.dz.phantom.system.shell]", record: .init(index: 0, tag: nil, offset: 0), offset: 0,
                                       "the file ends inside a record header (3 of 10 bytes)")) {
            try broken.classFile(named: "ru.dz.phantom.system.shell")
        }
    }

    @Test func brokenBundlesNameTheEntryAndOffset() throws {
        let bytes = try bundle().encoded()
        let second = 516 + (try shell.encoded()).count
        #expect(throws: ClassBundleError(source: "b", entry: 1, offset: second, "the bundle ends inside an entry header (100 of 516 bytes)")) {
            try ClassBundle(parsing: Array(bytes.prefix(second + 100)), source: "b")
        }
        let secondLength = (try boot.encoded()).count
        #expect(throws: ClassBundleError(source: "b", entry: 1, offset: second + 512,
                                         "entry 'ru.dz.phantom.system.boot' declares \(secondLength) bytes, only 1 follow")) {
            try ClassBundle(parsing: Array(bytes.prefix(second + 517)), source: "b")
        }
        #expect(throws: ClassBundleError(source: "b", entry: 0, offset: 0, "the class name is not NUL-terminated within 512 bytes")) {
            try ClassBundle(parsing: [UInt8](repeating: 0x41, count: 600), source: "b")
        }
        let long = ClassBundle(entries: [.init(name: String(repeating: "a", count: 512), bytes: [])], source: "out.bundle")
        #expect(throws: ClassBundleError(source: "out.bundle", entry: 0, offset: 0,
                                         "the class name '\(String(repeating: "a", count: 512))' does not fit the 512-byte NUL-terminated name field")) {
            try long.encoded()
        }
    }

    @Test func classDirectoryFindsFilesByName() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pvm-classes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = ClassDirectory(path: directory.path)
        #expect(source.filePath(forClass: "/ru/dz/phantom/system/shell") == directory.appendingPathComponent("ru.dz.phantom.system.shell.pc").path)
        #expect(source.filePath(forClass: ".") == nil)
        _ = FileManager.default.createFile(atPath: source.filePath(forClass: shell.name)!, contents: Data(try shell.encoded()))
        #expect(try source.classFile(named: shell.name) == shell)
        #expect(try source.classFile(named: "ru.dz.phantom.system.shell") == shell)
        #expect(try source.classFile(named: boot.name) == nil)
        let broken = source.filePath(forClass: boot.name)!
        _ = FileManager.default.createFile(atPath: broken, contents: Data("phfr:C".utf8))
        #expect(throws: ClassFileError(source: broken, record: .init(index: 0, tag: 0x43, offset: 0), offset: 0,
                                       "the file ends inside a record header (6 of 10 bytes)")) {
            try source.classFile(named: boot.name)
        }
    }
}
