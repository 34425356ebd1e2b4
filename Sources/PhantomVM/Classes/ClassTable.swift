/// Finds, defines and instantiates classes. The class objects live in the
/// space: the internal ones in their root slots, loaded ones in the class
/// directory (root slot 73, Phantom's class cache), so after a restart every
/// class a program used is there without its class file. The Swift
/// dictionary here is only an index, rebuilt when the heap is opened.
final class ClassTable {
    unowned let vm: VirtualMachine
    var heap: Heap { vm.heap }
    private var byName: [String: ObjectRef] = [:]
    /// Classes being defined, to refuse a class that is its own ancestor.
    private var defining: Set<String> = []

    init(vm: VirtualMachine) { self.vm = vm }

    /// Rebuilds the index from the root's slots and the class directory.
    func index() {
        byName = [:]
        for builtin in InternalClass.allCases {
            let classRef = heap.rootClass(builtin.rootSlot)
            byName[builtin.name] = classRef
            for alias in builtin.aliases { byName[alias] = classRef }
        }
        let directory = heap.ref(heap.root, RootLayout.classDirectory)
        for index in 0..<heap.arrayCount(directory) {
            if let classRef = heap.arrayElement(directory, index), let name = heap.string(heap.ref(classRef, ClassLayout.name)) {
                byName[name] = classRef
            }
        }
    }

    /// Phantom names classes with a leading dot; the compiler lowercases
    /// names and drops the dot in some places (`summon class internal.string`).
    static func normalized(_ name: String) -> String { name.hasPrefix(".") ? name : "." + name }

    /// The class named `name`, loading it from the class source if it is not
    /// loaded yet.
    func lookup(_ name: String) throws(VMError) -> ObjectRef {
        let name = Self.normalized(name)
        if let found = byName[name] { return found }
        guard let source = vm.classSource else { throw VMError.classNotFound(name) }
        let definition: ClassDefinition?
        do { definition = try source.definition(of: name) } catch {
            throw VMError.invalidClass("\(name): \(error)")
        }
        guard let definition else { throw VMError.classNotFound(name) }
        return try define(definition)
    }

    func isLoaded(_ name: String) -> Bool { byName[Self.normalized(name)] != nil }

    /// Stores a class and records it in the class directory. Everything is
    /// checked before anything is stored, so a bad class loads nothing.
    @discardableResult
    func define(_ definition: ClassDefinition) throws(VMError) -> ObjectRef {
        try definition.validate()
        let name = Self.normalized(definition.name)
        guard byName[name] == nil else { throw VMError.invalidClass("\(name) is already defined") }
        guard !defining.contains(name) else { throw VMError.invalidClass("\(name) is its own ancestor") }
        defining.insert(name)
        defer { defining.remove(name) }

        var parent = heap.rootClass(RootLayout.nullClass)
        let parentName = definition.parent.isEmpty ? ".internal.object" : Self.normalized(definition.parent)
        let resolved = try lookup(parentName)
        // Phantom's loader gives a class whose parent is internal the null
        // class instead: internal classes have no inheritable layout.
        if heap.word(resolved, ClassLayout.internalKind) == 0 { parent = resolved }
        let parentSlots = Int(heap.word(parent, ClassLayout.objectSlotCount))
        guard definition.objectSlotCount >= parentSlots else {
            throw VMError.invalidClass("\(name) has \(definition.objectSlotCount) object slots, fewer than its parent's \(parentSlots)")
        }

        let methods = try heap.makeSlots(definition.methodSlotCount)
        let methodNames = try heap.makeSlots(definition.methodSlotCount)
        for method in definition.methods {
            let code = try heap.allocate(kind: .code, class: heap.rootClass(RootLayout.codeClass), dataSize: method.code.count)
            if !method.code.isEmpty { heap.space.write(method.code, at: heap.dataOffset(code)) }
            heap.setRef(methods, method.ordinal, code)
            heap.setRef(methodNames, method.ordinal, try heap.makeString(method.name))
        }
        let constants = try heap.makeSlots((definition.constants.keys.max() ?? -1) + 1)
        for (index, bytes) in definition.constants { heap.setRef(constants, index, try heap.makeString(bytes)) }
        let fieldNames = try heap.makeSlots(definition.objectSlotCount)
        for (slot, field) in definition.fields { heap.setRef(fieldNames, slot, try heap.makeString(field)) }

        let classRef = try makeClassObject(name: name, parent: parent, methods: methods, methodNames: methodNames,
                                           objectSlots: definition.objectSlotCount, methodSlots: definition.methodSlotCount)
        heap.setRef(classRef, ClassLayout.constants, constants)
        heap.setRef(classRef, ClassLayout.fieldNames, fieldNames)
        try heap.appendToArray(heap.ref(heap.root, RootLayout.classDirectory), classRef)
        byName[name] = classRef
        return classRef
    }

    func makeClassObject(name: String, parent: ObjectRef, methods: ObjectRef, methodNames: ObjectRef,
                         objectSlots: Int, methodSlots: Int, builtin: InternalClass? = nil) throws(VMError) -> ObjectRef {
        let classRef = try heap.allocate(kind: .class, class: heap.rootClass(RootLayout.classClass),
                                         dataSize: ClassLayout.wordCount * 8, refWords: ClassLayout.refWords)
        heap.setRef(classRef, ClassLayout.name, try heap.makeString(name))
        heap.setRef(classRef, ClassLayout.parent, parent)
        heap.setRef(classRef, ClassLayout.methods, methods)
        heap.setRef(classRef, ClassLayout.methodNames, methodNames)
        heap.setWord(classRef, ClassLayout.objectSlotCount, UInt64(objectSlots))
        heap.setWord(classRef, ClassLayout.methodSlotCount, UInt64(methodSlots))
        heap.setWord(classRef, ClassLayout.internalKind, UInt64(builtin?.rawValue ?? 0))
        return classRef
    }

    /// Phantom's `N_SYS_METHODS`: every internal class shares one interface
    /// of this many methods, method k being `sys k; ret`.
    static let systemMethodCount = 64

    /// Makes the internal classes on a fresh heap (Phantom's
    /// `pvm_create_root_objects`). The class class is its own class, so the
    /// classes are made first and their class set after.
    func createInternalClasses() throws(VMError) {
        let interface = try heap.makeSlots(Self.systemMethodCount)
        for ordinal in 0..<Self.systemMethodCount {
            let code = try heap.allocate(kind: .code, class: .null, dataSize: 3)
            heap.space.write([Opcode.sys_8bit.rawValue, UInt8(ordinal), Opcode.ret.rawValue], at: heap.dataOffset(code))
            heap.setRef(interface, ordinal, code)
        }
        heap.setRef(heap.root, RootLayout.systemInterface, interface)
        for builtin in InternalClass.allCases {
            let classRef = try makeClassObject(name: builtin.name, parent: .null, methods: interface, methodNames: .null,
                                               objectSlots: 0, methodSlots: Self.systemMethodCount, builtin: builtin)
            heap.setRef(heap.root, builtin.rootSlot, classRef)
        }
        // Now that the classes exist: every internal class derives from void,
        // and the objects made before them get their classes.
        let void = heap.rootClass(RootLayout.nullClass)
        for builtin in InternalClass.allCases where builtin != .void {
            heap.setRef(heap.rootClass(builtin.rootSlot), ClassLayout.parent, void)
        }
        for builtin in InternalClass.allCases {
            let classRef = heap.rootClass(builtin.rootSlot)
            heap.setClass(classRef, heap.rootClass(RootLayout.classClass))
            heap.setClass(heap.ref(classRef, ClassLayout.name), heap.rootClass(RootLayout.stringClass))
        }
        heap.setClass(interface, heap.rootClass(RootLayout.interfaceClass))
        for ordinal in 0..<Self.systemMethodCount { heap.setClass(heap.ref(interface, ordinal), heap.rootClass(RootLayout.codeClass)) }
    }

    /// The internal class a class is, or derives from (nil for none).
    func internalClass(of classRef: ObjectRef) -> InternalClass? {
        var current = classRef
        var steps = 0
        while heap.kind(of: current) == .class && steps < 10_000 {
            if let builtin = InternalClass(rawValue: UInt16(truncatingIfNeeded: heap.word(current, ClassLayout.internalKind))), heap.word(current, ClassLayout.internalKind) != 0 {
                return builtin
            }
            current = heap.ref(current, ClassLayout.parent)
            steps += 1
        }
        return nil
    }

    func name(of classRef: ObjectRef) -> String {
        guard heap.kind(of: classRef) == .class else { return "(not a class)" }
        return heap.string(heap.ref(classRef, ClassLayout.name)) ?? "(unnamed)"
    }

    /// `new`: an instance of a loaded class (its fields null), or an internal
    /// class's own kind of object.
    func instantiate(_ classRef: ObjectRef) throws(VMError) -> ObjectRef {
        let kindWord = heap.word(classRef, ClassLayout.internalKind)
        guard kindWord != 0, let builtin = InternalClass(rawValue: UInt16(truncatingIfNeeded: kindWord)) else {
            let slots = Int(heap.word(classRef, ClassLayout.objectSlotCount))
            return try heap.allocate(kind: .instance, class: classRef, dataSize: slots * 8, refWords: slots)
        }
        return try InternalObjects.make(builtin, class: classRef, heap: heap)
    }
}
