/// What `new` makes for an internal class, and the layouts of the internal
/// objects whose data is a small record of our own.
enum InternalObjects {
    static func make(_ builtin: InternalClass, class classRef: ObjectRef, heap: Heap) throws(VMError) -> ObjectRef {
        func record(words: Int, refWords: Int) throws(VMError) -> ObjectRef {
            try heap.allocate(kind: .internalRecord, class: classRef, dataSize: words * 8, refWords: refWords)
        }
        switch builtin {
        case .void: return try heap.allocate(kind: .instance, class: classRef, dataSize: 0)
        case .int: return try heap.makeInt(0)
        case .long: return try heap.makeLong(0)
        case .float: return try heap.makeFloat(0)
        case .double: return try heap.makeDouble(0)
        case .string: return try heap.makeString([UInt8]())
        case .array: return try heap.makeArray()
        case .page: return try heap.makeSlots(0)
        case .binary: return try heap.allocate(kind: .binary, class: classRef, dataSize: 0)
        case .directory:
            let directory = try record(words: DirectoryLayout.wordCount, refWords: DirectoryLayout.refWords)
            heap.setRef(directory, DirectoryLayout.keys, try heap.makeArray())
            heap.setRef(directory, DirectoryLayout.values, try heap.makeArray())
            return directory
        case .mutex:
            let mutex = try record(words: MutexLayout.wordCount, refWords: MutexLayout.refWords)
            heap.setRef(mutex, MutexLayout.waiters, try heap.makeArray())
            return mutex
        case .cond:
            let cond = try record(words: ConditionLayout.wordCount, refWords: ConditionLayout.refWords)
            heap.setRef(cond, ConditionLayout.waiters, try heap.makeArray())
            return cond
        case .sema:
            let sema = try record(words: SemaphoreLayout.wordCount, refWords: SemaphoreLayout.refWords)
            heap.setRef(sema, SemaphoreLayout.waiters, try heap.makeArray())
            return sema
        case .closure: return try record(words: 2, refWords: 1)
        // The weak reference's target is not a reference word: the collector
        // does not follow it, and clears it when the target is freed.
        case .weakref: return try record(words: 1, refWords: 0)
        case .boot, .tty, .world, .time, .stat: return try record(words: 1, refWords: 0)
        case .class, .interface, .code, .thread, .callFrame, .integerStack, .objectStack, .exceptionStack:
            throw VMError.invalidClass("objects of \(builtin.name) are made by the VM, not by new")
        }
    }
}

/// `.internal.directory`: parallel arrays of keys (strings) and values.
enum DirectoryLayout {
    static let keys = 0
    static let values = 1
    static let refWords = 2
    static let wordCount = 2
}

/// `.internal.mutex`: the owning thread and the threads waiting, in order.
enum MutexLayout {
    static let owner = 0
    static let waiters = 1
    static let refWords = 2
    static let wordCount = 2
}

enum ConditionLayout {
    static let waiters = 0
    static let refWords = 1
    static let wordCount = 1
}

enum SemaphoreLayout {
    static let waiters = 0
    static let refWords = 1
    static let value = 1
    static let wordCount = 2
}
