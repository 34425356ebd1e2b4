/// Catchers and exception delivery (Phantom's `push_catcher`/`throw`): each
/// frame has a stack of (class, target) handlers; a thrown object goes to the
/// most recent handler, in this frame or the nearest caller that has one,
/// whose class is the object's class or an ancestor of it. The handler stays
/// on its stack; the object is pushed on its frame's object stack.
extension Interpreter {
    func pushCatcher(class classRef: ObjectRef, target: Int) throws(Interruption) {
        guard target >= 0, target < r.codeLength else { throw try fail("catcher target \(target) outside the method's \(r.codeLength) bytes") }
        let depth = Int(heap.word(r.frame, FrameLayout.exceptionDepth))
        var stack = heap.ref(r.frame, FrameLayout.exceptionStack)
        let capacity = stack.isNull ? 0 : ExceptionStackLayout.capacity(dataSize: heap.dataSize(of: stack))
        guard depth < Interpreter.catcherLimit else { throw try fail("exception stack overflow (\(Interpreter.catcherLimit) catchers)") }
        if depth == capacity {
            let grown = max(4, capacity * 2)
            let replacement = try owned(kind: .exceptionStack, classSlot: RootLayout.exceptionStackClass, dataSize: grown * 16, refWords: grown)
            for entry in 0..<depth {
                heap.setOwnedWord(replacement, entry, heap.word(stack, entry))
                heap.setOwnedWord(replacement, grown + entry, heap.word(stack, capacity + entry))
            }
            if !stack.isNull { heap.free(stack) }
            heap.setOwnedWord(r.frame, FrameLayout.exceptionStack, replacement.offset)
            stack = replacement
        }
        let currentCapacity = ExceptionStackLayout.capacity(dataSize: heap.dataSize(of: stack))
        heap.setOwnedWord(stack, depth, classRef.offset)
        heap.setOwnedWord(stack, currentCapacity + depth, UInt64(target))
        heap.setOwnedWord(r.frame, FrameLayout.exceptionDepth, UInt64(depth + 1))
    }

    func popCatcher() throws(Interruption) {
        let depth = Int(heap.word(r.frame, FrameLayout.exceptionDepth))
        guard depth > 0 else { throw try fail("pop_catcher with no catcher") }
        heap.setOwnedWord(heap.ref(r.frame, FrameLayout.exceptionStack), depth - 1, 0)
        heap.setOwnedWord(r.frame, FrameLayout.exceptionDepth, UInt64(depth - 1))
    }

    /// Unwinds to the handler for `thrown`. Returns nil when one was found
    /// (execution goes on there), or the message of the uncaught exception
    /// that ended the thread. A catcher for the null class catches anything.
    func deliver(_ thrown: ObjectRef) throws(VMError) -> String? {
        // The classes that catch it, found once rather than for every catcher.
        let catching = catchingClasses(of: thrown)
        while !r.frame.isNull {
            let stack = heap.ref(r.frame, FrameLayout.exceptionStack)
            let depth = Int(heap.word(r.frame, FrameLayout.exceptionDepth))
            if depth > 0 {
                let capacity = ExceptionStackLayout.capacity(dataSize: heap.dataSize(of: stack))
                for entry in stride(from: depth - 1, through: 0, by: -1) {
                    let classRef = heap.ref(stack, entry)
                    let catches = classRef.isNull || catching.contains(classRef)
                    guard catches else { continue }
                    r.ip = Int(heap.word(stack, capacity + entry))
                    do { try push(thrown) } catch {
                        if case let .fault(error) = error { throw error }
                    }
                    return nil
                }
            }
            let caller = heap.ref(r.frame, FrameLayout.caller)
            heap.setRef(r.thread, ThreadLayout.frame, caller)
            discardFrame(r.frame)
            if !caller.isNull { load(caller) }
        }
        heap.setRef(r.thread, ThreadLayout.exception, thrown)
        heap.setWord(r.thread, ThreadLayout.state, ThreadState.failed.rawValue)
        return vm.exceptionText(thrown)
    }

    /// The void class (which catches anything), and the thrown object's
    /// class and its ancestors (as `isInstance` walks them).
    private func catchingClasses(of thrown: ObjectRef) -> [ObjectRef] {
        var classes = [heap.rootClass(RootLayout.nullClass)]
        guard !thrown.isNull else { return classes }
        var current = heap.classOf(thrown)
        while heap.kind(of: current) == .class && classes.count <= 10_000 {
            classes.append(current)
            current = heap.ref(current, ClassLayout.parent)
        }
        return classes
    }
}
