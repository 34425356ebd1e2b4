import PhantomSpace

/// One frame of a stored thread in WebAssembly terms, independent of any
/// translator (DESIGN.md invariant 10): which function, where in its bytecode,
/// and its values by their WebAssembly index.
///
/// - `offset` is the byte offset, from the start of the module, of the `loop`
///   the frame stands at, or of the `call`/`call_indirect` it stands in (the
///   innermost frame: about to execute it, e.g. a yield or a blocked host call
///   re-executed on resume; an outer frame: waiting for it to return).
/// - `locals`: parameters, then declared locals.
/// - `operands`: the operand stack, bottom first. For an outer frame only the
///   values below the call's arguments (and `call_indirect`'s table index):
///   the arguments became the callee's parameters, its first `locals`.
public struct WasmFrameState: Equatable, Sendable, CustomStringConvertible {
    /// `instance id << 32 | function index` (index space of that instance).
    public var function: FunctionReference
    public var offset: Int
    public var locals: [RawValue]
    public var operands: [RawValue]

    public var description: String {
        "function \(function & 0xffff_ffff) of instance \(function >> 32) at offset \(offset): locals \(locals), operands \(operands)"
    }
}

/// Reads the frames of a stored thread through frame maps, and writes them
/// back in another layout: the "deoptimisation" a restore does when the code it
/// translates differs from the code that wrote the image, and the way a test
/// (or a debugger) sees a thread in WebAssembly terms (`WasmThread.frames()`).
///
/// Nothing here runs while threads run: reading costs only when asked, writing
/// only in a restore that found a changed translation.
struct FrameCodec {
    let space: ObjectSpace
    let record: UInt64
    /// The frame map of a function (defined function of a live instance), and
    /// its parameter count; nil when the reference names none.
    let map: (FunctionReference) -> (map: FrameMap, parameters: Int)?
    let describe: (FunctionReference) -> String

    var stack: UInt64 { space.field(record, ThreadRecord.stack) }
    var capacity: UInt64 { space.field(record, ThreadRecord.stackCapacity) }

    func slot(_ index: UInt64) -> UInt64 { space.load(UInt64.self, at: stack + index * 8) }
    func slots(_ start: UInt64, _ count: Int) -> [UInt64] { space.loadArray(at: stack + start * 8, count: count) }

    /// The frames of a running or blocked thread, outermost (the entry frame)
    /// first. Every read is checked against the stack, so a record or map that
    /// does not describe a real stack throws instead of reading elsewhere.
    func read() throws(WasmInstantiationError) -> [WasmFrameState] {
        func fail(_ message: String) -> WasmInstantiationError { .restore(message) }
        let capacity = capacity
        let depth = space.field(record, ThreadRecord.callDepth)
        var function = space.field(record, ThreadRecord.pcFunction)
        var fp = space.field(record, ThreadRecord.fp)
        let sp = space.field(record, ThreadRecord.sp), pc = space.field(record, ThreadRecord.pcPosition)
        guard let (top, _) = map(function) else {
            throw fail("pc function 0x\(String(function, radix: 16)) names no defined function")
        }
        guard let point = top.point(at: pc) else {
            throw fail("pc \(pc) in \(describe(function)) is not a resume point of the translation that wrote it")
        }
        guard sp <= capacity, fp <= sp, sp == fp + UInt64(top.operandBase + point.height) else {
            throw fail("sp \(sp) is not fp \(fp) + \(top.operandBase) + height \(point.height) at pc \(pc) of \(describe(function))")
        }
        var frames = [WasmFrameState(function: function, offset: point.offset,
                                     locals: slots(fp, top.variableCount), operands: slots(fp + UInt64(top.operandBase), point.height))]
        var current = top
        while true {
            guard fp + UInt64(current.headerOffset + Frame.headerSlots) <= capacity else {
                throw fail("frame of \(describe(function)) at fp \(fp) does not fit in the stack")
            }
            let header = fp + UInt64(current.headerOffset)
            let caller = slot(header), returnPosition = slot(header + 1), callerFP = slot(header + 2)
            if caller == 0 { break }
            guard UInt64(frames.count) < depth else { throw fail("more frames than its call depth \(depth)") }
            guard let (callerMap, _) = map(caller), let call = callerMap.call(returningTo: returnPosition) else {
                throw fail("frame of \(describe(function)): return position \(returnPosition) in \(describe(caller)) is not right after a call")
            }
            guard let (_, parameters) = map(function) else { throw fail("\(describe(function)) names no function") }
            let below = call.height - parameters - (call.kind == .callIndirect ? 1 : 0)
            guard below >= 0, callerFP < fp, callerFP + UInt64(callerMap.operandBase + below) == fp else {
                throw fail("frame of \(describe(function)) at fp \(fp) is not where the call at offset \(call.offset) of \(describe(caller)) put it")
            }
            frames.append(WasmFrameState(function: caller, offset: call.offset, locals: slots(callerFP, callerMap.variableCount),
                                         operands: slots(callerFP + UInt64(callerMap.operandBase), below)))
            function = caller
            fp = callerFP
            current = callerMap
        }
        guard UInt64(frames.count) == depth else { throw fail("call depth \(depth), but \(frames.count) frames on its stack") }
        guard fp == 0 else { throw fail("the entry frame is at fp \(fp), not 0") }
        return frames.reversed()
    }

    /// Writes `frames` (outermost first) as the thread's stack in the layout
    /// of the current translation: locals, the function's constant slots
    /// (re-derived from its code), header, operands; then the registers. The
    /// innermost frame's pc is the instruction at its offset; an outer frame's
    /// return position is right after its call in the current code.
    func write(_ frames: [WasmFrameState], code: (FunctionReference) -> FunctionCode?) throws(WasmInstantiationError) {
        func fail(_ message: String) -> WasmInstantiationError { .restore(message) }
        guard !frames.isEmpty else { throw fail("a running thread without frames") }
        var image: [UInt64] = []
        var fp = 0
        var caller: (function: FunctionReference, returnPosition: Int, fp: Int)?
        var top: (fp: Int, sp: Int, pc: Int) = (0, 0, 0)
        for (index, frame) in frames.enumerated() {
            guard let function = code(frame.function) else {
                throw fail("\(describe(frame.function)) names no defined function")
            }
            guard let pointIndex = function.resumeIndexByOffset[frame.offset] else {
                throw fail("offset \(frame.offset) in \(describe(frame.function)) is not a loop or call of this translation")
            }
            let point = function.resumeMap[pointIndex]
            let innermost = index == frames.count - 1
            // An outer frame keeps what lies below its call's arguments (and table index).
            var operands = point.height
            if !innermost {
                guard point.kind != .loop, let callee = map(frames[index + 1].function) else {
                    throw fail("frame \(index) of \(describe(frame.function)) at offset \(frame.offset) is not in a call")
                }
                operands -= callee.parameters + (point.kind == .callIndirect ? 1 : 0)
            }
            guard frame.locals.count == function.variableCount, frame.operands.count == operands else {
                throw fail("frame \(index) of \(describe(frame.function)) at offset \(frame.offset): \(frame.locals.count) locals and \(frame.operands.count) operands, where the function has \(function.variableCount) and the instruction \(operands)")
            }
            let end = fp + function.headerOffset + function.frameSlots
            guard end <= Int(capacity) else {
                throw fail("the frames no longer fit in the thread's stack of \(capacity) slots")
            }
            if image.count < end { image += [UInt64](repeating: 0, count: end - image.count) }
            for (slot, value) in frame.locals.enumerated() { image[fp + slot] = value }
            for slot in 0..<function.constantCount { image[fp + function.variableCount + slot] = function.constants[slot] }
            let header = fp + function.headerOffset
            image[header] = caller?.function ?? 0
            image[header + 1] = UInt64(caller?.returnPosition ?? 0)
            image[header + 2] = UInt64(caller?.fp ?? 0)
            for (slot, value) in frame.operands.enumerated() { image[fp + function.operandBase + slot] = value }
            if innermost {
                top = (fp, fp + function.operandBase + point.height, point.position)
            } else {
                caller = (frame.function, point.returnPosition, fp)
                fp += function.operandBase + frame.operands.count
            }
        }
        let stack = stack
        image.withUnsafeBytes { space.write($0, at: stack) }
        space.setField(record, ThreadRecord.fp, UInt64(top.fp))
        space.setField(record, ThreadRecord.sp, UInt64(top.sp))
        space.setField(record, ThreadRecord.pcFunction, frames[frames.count - 1].function)
        space.setField(record, ThreadRecord.pcPosition, UInt64(top.pc))
        space.setField(record, ThreadRecord.callDepth, UInt64(frames.count))
    }
}

extension WasmThread {
    /// This thread's frames in WebAssembly terms, outermost first, read through
    /// the current translation's maps; nil unless it is running or blocked
    /// (stopped at a safepoint, or outside `run`). What a restore under another
    /// translator rebuilds the stack from.
    public func frames() throws -> [WasmFrameState]? {
        guard status == .running || status == .blocked else { return nil }
        let engine = engine
        return try FrameCodec(space: space, record: record, map: { engine.currentMap($0) },
                              describe: { "function \($0 & 0xffff_ffff) of instance \($0 >> 32)" }).read()
    }
}
