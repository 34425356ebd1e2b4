/// A call frame (Phantom's `data_area_4_call_frame`): the method's `this`
/// and code, the caller, the frame's own three stacks, and the registers the
/// interpreter writes back at every safepoint (DESIGN.md invariant 1), so a
/// snapshot holds each thread mid-method.
///
/// Frames and their stacks belong to their thread: they are made and freed by
/// calls and returns, never shared, and so are not on the heap's list of all
/// objects. The collector reaches them through the thread.
enum FrameLayout {
    static let this = 0
    static let code = 1
    static let caller = 2
    static let objectStack = 3
    static let integerStack = 4
    static let exceptionStack = 5
    static let refWords = 6
    /// Offset in the code of the next instruction (of the `sys` being re-executed, for a blocked one).
    static let ip = 6
    /// Depths of the three stacks.
    static let objectDepth = 7
    static let integerDepth = 8
    static let exceptionDepth = 9
    /// The method's ordinal, for messages and listings.
    static let ordinal = 10
    /// Frames below this one, for the call-depth limit.
    static let depth = 11
    static let wordCount = 12
}

/// A thread object (Phantom's `data_area_4_thread`). Threads are objects in
/// the thread list (root slot 66); whatever they were doing is in their frames.
enum ThreadLayout {
    /// The exception that ended the thread, if one did.
    static let exception = 0
    /// The mutex, cond or semaphore it waits for.
    static let waitsFor = 1
    /// An object the thread was started with (the `startThread` argument).
    static let argument = 2
    static let refWords = 3
    /// The current frame: not a reference word, because frames are owned
    /// by their thread and not reference counted (ReferenceCounting.swift);
    /// the collector and the heap check walk it explicitly.
    static let frame = 3
    static let state = 4
    /// For a sleeping thread: wall-clock nanoseconds when it wakes.
    static let wakeTime = 5
    static let id = 6
    /// Progress of a multi-step native call that waits (cond wait: 1 queued,
    /// 2 signalled and taking the mutex back), so its re-execution knows where it is.
    static let phase = 7
    static let wordCount = 8
}

/// What a thread is doing, as stored in its `state` word.
public enum ThreadState: UInt64, Sendable {
    case runnable = 0
    case sleeping = 1
    /// Waiting for a mutex, cond or semaphore (`waitsFor`).
    case waiting = 2
    case finished = 3
    /// Ended by an exception nobody caught.
    case failed = 4
}

/// An exception stack entry is two words: the class to catch and the target.
/// The classes come first so that they are the object's reference words.
enum ExceptionStackLayout {
    static func capacity(dataSize: Int) -> Int { dataSize / 16 }
}

/// Walking a thread's frames, for everything that must see what its stacks
/// hold: the collector when a cycle begins, reference counting's
/// reclamations, the heap check, a heap's destruction.
extension Heap {
    /// A thread's frames, the current one first. At most one more than the
    /// call-depth limit, so that a corrupt image's circular chain cannot
    /// hold any of them for ever.
    func frames(of thread: ObjectRef) -> some Sequence<ObjectRef> {
        sequence(first: ref(thread, ThreadLayout.frame)) { self.ref($0, FrameLayout.caller) }
            .prefix { !$0.isNull }
            .prefix(Interpreter.callDepthLimit + 1)
    }

    /// What one frame holds for its thread: `this`, the code, the object
    /// stack's live slots and the classes its catchers catch (null words included).
    func forEachReference(inFrame frame: ObjectRef, _ body: (UInt64) -> Void) {
        body(word(frame, FrameLayout.this))
        body(word(frame, FrameLayout.code))
        let objects = ref(frame, FrameLayout.objectStack)
        if !objects.isNull {
            for slot in 0..<min(Int(word(frame, FrameLayout.objectDepth)), refWords(of: objects)) { body(word(objects, slot)) }
        }
        let catchers = ref(frame, FrameLayout.exceptionStack)
        if !catchers.isNull {
            for slot in 0..<min(Int(word(frame, FrameLayout.exceptionDepth)), refWords(of: catchers)) { body(word(catchers, slot)) }
        }
    }

    /// A frame and its three stacks.
    func ownedObjects(ofFrame frame: ObjectRef) -> [ObjectRef] {
        [frame] + [FrameLayout.objectStack, FrameLayout.integerStack, FrameLayout.exceptionStack].map { ref(frame, $0) }.filter { !$0.isNull }
    }
}
