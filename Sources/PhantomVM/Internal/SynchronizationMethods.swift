/// `.internal.mutex`, `.cond` and `.sema` (Phantom's `syscall_sync.c`, whose
/// blocking paths were never finished there: "Not this way", "wait not
/// impl"). Ours block for real. Waiting threads are queued in the object and
/// marked `waiting`; the waker hands over ownership (or the signal) and makes
/// the thread runnable, and its re-executed `sys` then completes. All of it
/// is in the space, so a restart finds every thread still queued.
enum SynchronizationMethods {
    // MARK: Mutex

    static let mutex: [Int: NativeMethod] = [
        UniversalOrdinal.toString: { call throws(Interruption) in try call.makeString("mutex") },
        8: { call throws(Interruption) in try lock(call, call.this); return .null },
        9: { call throws(Interruption) in try unlock(call, call.this); return .null },
        10: { call throws(Interruption) in  // trylock → 1 if taken
            let owner = call.heap.ref(call.this, MutexLayout.owner)
            guard owner.isNull || owner == call.thread else { return try call.makeInt(0) }
            call.heap.setRef(call.this, MutexLayout.owner, call.thread)
            return try call.makeInt(1)
        },
    ]

    static func lock(_ call: NativeCall, _ mutex: ObjectRef) throws(Interruption) {
        let heap = call.heap
        let owner = heap.ref(mutex, MutexLayout.owner)
        if owner.isNull || owner == call.thread {
            // Free, or handed to us by `unlock` while we waited.
            heap.setRef(mutex, MutexLayout.owner, call.thread)
            heap.setRef(call.thread, ThreadLayout.waitsFor, .null)
            return
        }
        try wait(call, in: heap.ref(mutex, MutexLayout.waiters), on: mutex)
    }

    static func unlock(_ call: NativeCall, _ mutex: ObjectRef) throws(Interruption) {
        let heap = call.heap
        guard heap.ref(mutex, MutexLayout.owner) == call.thread else { throw call.fail("mutex unlock - not owner") }
        let next = dequeue(heap, heap.ref(mutex, MutexLayout.waiters))
        heap.setRef(mutex, MutexLayout.owner, next)
        if !next.isNull { call.vm.wake(next) }
    }

    // MARK: Condition

    static let condition: [Int: NativeMethod] = [
        UniversalOrdinal.toString: { call throws(Interruption) in try call.makeString(".internal.cond") },
        8: { call throws(Interruption) in try conditionWait(call); return .null },
        9: { call throws(Interruption) in throw call.fail("timed wait not impl") },
        10: { call throws(Interruption) in  // broadcast
            let waiters = call.heap.ref(call.this, ConditionLayout.waiters)
            while true {
                let next = dequeue(call.heap, waiters)
                if next.isNull { break }
                signalled(call, next)
            }
            return .null
        },
        11: { call throws(Interruption) in  // signal
            let next = dequeue(call.heap, call.heap.ref(call.this, ConditionLayout.waiters))
            if !next.isNull { signalled(call, next) }
            return .null
        },
    ]

    /// wait(mutex): releases the mutex, waits for a signal, takes the mutex back.
    static func conditionWait(_ call: NativeCall) throws(Interruption) {
        let heap = call.heap
        let mutex = try call.argument(0)
        guard heap.kind(of: mutex) == .internalRecord, call.vm.classes.internalClass(of: heap.classOf(mutex)) == .mutex else {
            throw call.fail("cond wait: the argument is not a mutex")
        }
        switch heap.word(call.thread, ThreadLayout.phase) {
        case 0:
            guard heap.ref(mutex, MutexLayout.owner) == call.thread else { throw call.fail("cond wait: mutex not owned") }
            try unlock(call, mutex)
            heap.setWord(call.thread, ThreadLayout.phase, 1)
            try wait(call, in: heap.ref(call.this, ConditionLayout.waiters), on: call.this)
        case 1:
            // Still queued (run without having been signalled): wait on.
            heap.setWord(call.thread, ThreadLayout.state, ThreadState.waiting.rawValue)
            throw call.block()
        default:
            try lock(call, mutex)
            heap.setWord(call.thread, ThreadLayout.phase, 0)
        }
    }

    private static func signalled(_ call: NativeCall, _ thread: ObjectRef) {
        call.heap.setWord(thread, ThreadLayout.phase, 2)
        call.vm.wake(thread)
    }

    // MARK: Semaphore

    static let semaphore: [Int: NativeMethod] = [
        UniversalOrdinal.toString: { call throws(Interruption) in try call.makeString(".internal.sema") },
        8: { call throws(Interruption) in  // acquire
            let heap = call.heap
            if heap.word(call.thread, ThreadLayout.phase) == 2 {
                heap.setWord(call.thread, ThreadLayout.phase, 0)
                return .null
            }
            let value = Int64(bitPattern: heap.word(call.this, SemaphoreLayout.value))
            if value > 0 {
                heap.setWord(call.this, SemaphoreLayout.value, UInt64(bitPattern: value - 1))
                return .null
            }
            heap.setWord(call.thread, ThreadLayout.phase, 1)
            try wait(call, in: heap.ref(call.this, SemaphoreLayout.waiters), on: call.this)
            return .null
        },
        9: { call throws(Interruption) in throw call.fail("timed acquire not impl") },
        10: { call throws(Interruption) in  // zero
            if Int64(bitPattern: call.heap.word(call.this, SemaphoreLayout.value)) > 0 { call.heap.setWord(call.this, SemaphoreLayout.value, 0) }
            return .null
        },
        11: { call throws(Interruption) in  // release
            let heap = call.heap
            let next = dequeue(heap, heap.ref(call.this, SemaphoreLayout.waiters))
            if next.isNull {
                heap.setWord(call.this, SemaphoreLayout.value, heap.word(call.this, SemaphoreLayout.value) &+ 1)
            } else {
                heap.setWord(next, ThreadLayout.phase, 2)
                call.vm.wake(next)
            }
            return .null
        },
    ]

    // MARK: Queues

    /// Queues the calling thread (once) and blocks it.
    private static func wait(_ call: NativeCall, in queue: ObjectRef, on object: ObjectRef) throws(Interruption) {
        let heap = call.heap
        var queued = false
        for index in 0..<heap.arrayCount(queue) where heap.arrayElement(queue, index) == call.thread { queued = true }
        if !queued { try call.make { () throws(VMError) in try heap.appendToArray(queue, call.thread); return .null } }
        heap.setRef(call.thread, ThreadLayout.waitsFor, object)
        heap.setWord(call.thread, ThreadLayout.state, ThreadState.waiting.rawValue)
        throw call.block()
    }

    /// Removes and returns the first queued thread (null if none).
    static func dequeue(_ heap: Heap, _ queue: ObjectRef) -> ObjectRef {
        let count = heap.arrayCount(queue)
        guard count > 0, let first = heap.arrayElement(queue, 0) else { return .null }
        let storage = heap.ref(queue, 0)
        for index in 1..<max(count, 1) { heap.setRef(storage, index - 1, heap.ref(storage, index)) }
        heap.setRef(storage, count - 1, .null)
        heap.setWord(queue, 1, UInt64(count - 1))
        return first
    }
}
