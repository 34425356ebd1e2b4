/// Calls, returns and `sys` (Phantom's `exec.c`: `pvm_exec_call`,
/// `init_cfda`, the restartable syscall). A call moves its arguments onto the
/// new frame's object stack in order (the first argument in slot 0) and puts
/// the argument count on the new frame's integer stack; `ret` hands the top
/// object (or null) to the caller, so every call yields exactly one object.
extension Interpreter {
    /// `call ordinal n` and its shortcuts: the caller's stack holds, from the
    /// top, argN … arg1, this.
    func call(ordinal: Int, argumentCount: Int, mayReuseFrame: Bool) throws(Interruption) {
        let arguments = try popArguments(argumentCount)
        let this = try pop()
        guard !this.isNull else { throw try fail("method \(ordinal) called on null") }
        let code = try method(ordinal, in: heap.classOf(this))
        try enter(this: this, code: code, arguments: arguments, ordinal: ordinal, mayReuseFrame: mayReuseFrame)
    }

    /// `static_invoke ordinal n`: from the top, the class, this, then the
    /// arguments; the method comes from that class, not from this's (super
    /// calls, constructors).
    func staticInvoke(ordinal: Int, argumentCount: Int) throws(Interruption) {
        let classRef = try pop()
        let this = try pop()
        let arguments = try popArguments(argumentCount)
        guard heap.kind(of: classRef) == .class else { throw try fail("static_invoke: \(describe(classRef)) is not a class") }
        guard !this.isNull, isInstance(this, of: classRef) else {
            throw try fail("static_invoke: \(describe(this)) is not an instance of \(className(classRef))")
        }
        try enter(this: this, code: try method(ordinal, in: classRef), arguments: arguments, ordinal: ordinal, mayReuseFrame: false)
    }

    /// `dynamic_invoke`: from the top, the method name and this; the argument
    /// count is on the integer stack, the arguments below this.
    func dynamicInvoke() throws(Interruption) {
        let nameObject = try pop()
        let this = try pop()
        let count = Int(try popInt())
        let arguments = try popArguments(count)
        guard let name = heap.string(nameObject) else { throw try fail("dynamic_invoke: the method name is \(describe(nameObject)), not a string") }
        guard !this.isNull else { throw try fail("dynamic_invoke of \(VirtualMachine.excerpt(name)) on null") }
        guard let ordinal = ordinal(named: name, in: heap.classOf(this)) else {
            throw try fail("dynamic_invoke: no method \(VirtualMachine.excerpt(name)) in \(className(heap.classOf(this)))")
        }
        try enter(this: this, code: try method(ordinal, in: heap.classOf(this)), arguments: arguments, ordinal: ordinal, mayReuseFrame: true)
    }

    private func popArguments(_ count: Int) throws(Interruption) -> [ObjectRef] {
        guard count >= 0, count <= r.objectDepth else {
            throw try fail("call with \(count) arguments, \(r.objectDepth) objects on the stack")
        }
        // Moving them, into a new frame's stack, is bulk work like a copy.
        charge(bytes: count * 8)
        var arguments = [ObjectRef](repeating: .null, count: count)
        for index in stride(from: count - 1, through: 0, by: -1) { arguments[index] = try pop() }
        return arguments
    }

    /// The code for `ordinal`, looked up through the class and its parents.
    func method(_ ordinal: Int, in classRef: ObjectRef) throws(Interruption) -> ObjectRef {
        var current = classRef
        while heap.kind(of: current) == .class {
            let methods = heap.ref(current, ClassLayout.methods)
            if ordinal >= 0, !methods.isNull, ordinal < heap.slotCount(methods) {
                let code = heap.ref(methods, ordinal)
                if !code.isNull { return code }
            }
            current = heap.ref(current, ClassLayout.parent)
        }
        throw try fail("no method \(ordinal) in class \(className(classRef))")
    }

    func ordinal(named name: String, in classRef: ObjectRef) -> Int? {
        var current = classRef
        while heap.kind(of: current) == .class {
            let names = heap.ref(current, ClassLayout.methodNames)
            if !names.isNull {
                for index in 0..<heap.slotCount(names) where heap.string(heap.ref(names, index)) == name { return index }
            }
            current = heap.ref(current, ClassLayout.parent)
        }
        return nil
    }

    /// Pushes a new frame for `code` and makes it current.
    ///
    /// With `mayReuseFrame` (Phantom's optimisation for every call form but
    /// `call_00…1F` and `static_invoke`): when the call is followed by `ret`,
    /// or by `os_drop; ret`, and the frame has no catchers, the caller's frame
    /// is freed first and the callee returns straight to its caller — a tail
    /// call, so such recursion does not grow the stack.
    private func enter(this: ObjectRef, code: ObjectRef, arguments: [ObjectRef], ordinal: Int, mayReuseFrame: Bool) throws(Interruption) {
        guard heap.kind(of: code) == .code else { throw try fail("method \(ordinal) of \(describe(this)) is not code") }
        var caller = r.frame
        var depth = Int(heap.word(r.frame, FrameLayout.depth)) + 1
        if mayReuseFrame && heap.word(r.frame, FrameLayout.exceptionDepth) == 0 && returnsRightAfter() {
            caller = heap.ref(r.frame, FrameLayout.caller)
            depth -= 1
            discardFrame(r.frame)
        } else {
            writeBack()
        }
        guard depth < Interpreter.callDepthLimit else { throw try fail("call stack overflow (\(Interpreter.callDepthLimit) frames)") }
        let frame = try heapOp { () throws(VMError) in
            try FrameBuilder.make(heap: heap, this: this, code: code, arguments: arguments, caller: caller, depth: depth, ordinal: ordinal)
        }
        heap.setRef(r.thread, ThreadLayout.frame, frame)
        load(frame)
    }

    /// Whether the next instructions are `ret` or `os_drop; ret`.
    private func returnsRightAfter() -> Bool {
        func byte(_ at: Int) -> UInt8? { at < r.codeLength ? heap.space.load(UInt8.self, at: r.codeStart + UInt64(at)) : nil }
        if byte(r.ip) == Opcode.ret.rawValue { return true }
        return byte(r.ip) == Opcode.os_drop.rawValue && byte(r.ip + 1) == Opcode.ret.rawValue
    }

    /// `ret`: the top object (or null) goes to the caller; with no caller the thread ends.
    func returnFromFrame() throws(Interruption) {
        let value = r.objectDepth > 0 ? try pop() : .null
        let caller = heap.ref(r.frame, FrameLayout.caller)
        // The thread lets go of the frame before it is freed (the collector's
        // write barrier looks at the reference being replaced).
        heap.setRef(r.thread, ThreadLayout.frame, caller)
        discardFrame(r.frame)
        if caller.isNull {
            heap.setWord(r.thread, ThreadLayout.state, ThreadState.finished.rawValue)
            r.frame = .null
            return
        }
        load(caller)
        try push(value)
    }

    /// Frees a frame and its stacks, which nothing else references.
    func discardFrame(_ frame: ObjectRef) {
        for stack in [FrameLayout.objectStack, FrameLayout.integerStack, FrameLayout.exceptionStack] {
            let object = heap.ref(frame, stack)
            if !object.isNull { heap.free(object) }
        }
        heap.free(frame)
        if frame == r.frame { r.frame = .null }
    }

    /// `sys n`, restartable: the argument count (int top, pushed by the call)
    /// and the arguments stay on the stacks while the native method runs; only
    /// when it completes are they replaced by its result. A native method that
    /// must wait leaves the instruction pointer on the `sys`, so the call runs
    /// again when the thread resumes — also after a restart from a snapshot
    /// (DESIGN.md invariant 5).
    func systemCall(_ index: Int, instructionStart: Int, instructionLength: Int) throws(Interruption) {
        let count = Int(try peekInt())
        guard count >= 0, count <= r.objectDepth else {
            throw try fail("sys \(index) with \(count) arguments, \(r.objectDepth) objects on the stack")
        }
        charge(bytes: count * 8)
        var arguments: [ObjectRef] = []
        arguments.reserveCapacity(count)
        for slot in (r.objectDepth - count)..<r.objectDepth { arguments.append(heap.ref(r.objectStack, slot)) }
        guard let native = vm.natives.method(index, forClass: heap.classOf(r.this)) else {
            throw try fail("no syscall \(index) in class \(className(heap.classOf(r.this)))")
        }
        let result: ObjectRef
        do {
            result = try native(NativeCall(vm: vm, thread: r.thread, this: r.this, arguments: arguments))
        } catch .blocked {
            r.ip = instructionStart
            throw .blocked
        }
        _ = try popInt()
        for _ in 0..<count { _ = try pop() }
        try push(result)
    }
}
