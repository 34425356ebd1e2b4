import PhantomStore

/// One defined function, translated. The code lives outside the object space
/// (it is regenerated deterministically from the module bytes, which are stored);
/// the words are in a manually allocated buffer so the interpreter can hold a raw
/// pointer to them.
public final class FunctionCode: @unchecked Sendable {
    public let typeIndex: Int
    public let type: FunctionType
    public let parameterCount: Int
    /// Parameters plus declared locals (the function's variables).
    public let variableCount: Int
    /// Where the frame header starts: the variables, then the constant slots.
    public let headerOffset: Int
    public let resultCount: Int
    /// Slots a frame needs beyond its variables and constants: header plus maximum operand height.
    public let frameSlots: Int
    public let words: UnsafeMutablePointer<UInt64>
    public let count: Int
    /// The values of the constant slots (`Frame`), copied into every new frame.
    public let constants: UnsafeMutablePointer<UInt64>
    public let constantCount: Int
    /// Positions (word indices, ascending) of the instructions where a stored
    /// thread may stand: every `loopHeader` (a safepoint), `call` and
    /// `callIndirect` (a safepoint, and a host call re-executed after a
    /// restore). A caller's frame stands right after a call. Known from
    /// translation, because the word stream alone does not say where an
    /// instruction starts (an immediate may look like any opcode); a restore
    /// checks every stored pc against it (`RestoreValidation.swift`).
    let resumePoints: [Int]
    /// The same points in WebAssembly terms (ascending by position): the map a
    /// stored frame is read and rebuilt through (`ResumeMap.swift`).
    let resumeMap: [ResumePoint]
    /// Index in `resumeMap` by the WebAssembly offset of the instruction.
    let resumeIndexByOffset: [Int: Int]
    /// Slot of operand height 0: the header's end.
    public var operandBase: Int { headerOffset + Frame.headerSlots }

    /// `constantSlots`: the slots reserved for constants (at least `constants.count`);
    /// `paddingSlots`: unused slots before the header (`TranslationLayout.alternate`).
    init(typeIndex: Int, type: FunctionType, variableCount: Int, constantSlots: Int = 0, paddingSlots: Int = 0,
         constants: [UInt64] = [], maximumHeight: Int, words: [UInt64], resumeMap: [ResumePoint] = []) {
        precondition(constants.count <= constantSlots)
        self.resumeMap = resumeMap
        resumePoints = resumeMap.map(\.position)
        resumeIndexByOffset = Dictionary(resumeMap.enumerated().map { ($0.element.offset, $0.offset) },
                                         uniquingKeysWith: { first, _ in first })
        self.typeIndex = typeIndex
        self.type = type
        parameterCount = type.parameters.count
        self.variableCount = variableCount
        headerOffset = variableCount + constantSlots + paddingSlots
        resultCount = type.results.count
        frameSlots = Frame.headerSlots + maximumHeight + 1
        count = words.count
        // The code, then the exit words the interpreter leaves through
        // (`threadedExitWords`, Execution/Dispatch.swift); not part of `count`.
        self.words = .allocate(capacity: words.count + threadedExitWords)
        self.words.initialize(from: words, count: words.count)
        (self.words + words.count).initialize(repeating: UInt64(Op.exitRawValue), count: threadedExitWords)
        constantCount = constants.count
        self.constants = .allocate(capacity: max(constants.count, 1))
        self.constants.initialize(from: constants, count: constants.count)
    }

    deinit {
        words.deallocate()
        constants.deallocate()
    }
}

/// Layout of a call frame on the persistent value stack (slots of 8 bytes):
///
/// ```
/// fp + 0 ..< V          variables: parameters first (the caller pushed them), then declared locals
/// fp + V ..< H          constant slots: constants the code reads inside loops, copied in by the call
///                       (a few more may be reserved than used; those are never read)
/// fp + H + 0            caller's function reference (0: this is the entry frame)
/// fp + H + 1            caller's return position (word index in its code)
/// fp + H + 2            caller's fp (slot index from the stack base)
/// fp + H + 3 ...        operand stack
/// ```
/// Results are copied to `fp + 0 ..< results` on return, where the caller's
/// operand stack continues.
///
/// Why constant slots: a register-mode operand is a slot, so an `i32.const` that
/// no instruction can take as an immediate (a `select` arm, a `call` argument
/// computed in a loop…) would otherwise cost a dispatch each time round the loop.
/// With its value in a slot of the frame, the consumer reads it like a local.
/// This is WasmKit's and Wasm3's technique; here it is limited to constants read
/// inside loops, because every call pays one store per slot.
enum Frame {
    static let headerSlots = 3
}

/// Translates one validated function body into the word stream of `Op`, driving a
/// `FunctionValidator` over the same instructions so that operand heights and
/// control frames come from the validator (no second type-stack implementation).
/// The translator looks at the validator's state *before* each instruction.
struct Translator: AnyInstructionVisitor {
    typealias VisitorError = WasmValidationError

    struct Block {
        var kind: ControlFrame.Kind
        /// Operand height at entry (block parameters included).
        var height: Int
        /// Values a branch to this label carries.
        var arity: Int
        var loopStart = 0
        var pendingTargets: [Int] = []
        var elsePatch: Int?
        /// Opened inside unreachable code: nothing of it is emitted.
        var dead: Bool
    }

    var binaryOffset: Int = 0
    var validator: FunctionValidator
    var words: [UInt64] = [] {
        // A fusion that takes back instructions (`removeLast`) may take back a
        // resume point too; whatever is emitted at its position later is new.
        didSet { while let last = resumePoints.last, last.position >= words.count { resumePoints.removeLast() } }
    }
    /// The instructions a stored thread may resume at (see
    /// `FunctionCode.resumePoints`), ascending, with their WebAssembly offsets.
    var resumePoints: [ResumePoint] = []
    var blocks: [Block] = []
    /// Parameters plus declared locals.
    let variableCount: Int
    let operandBase: Int
    /// Slots reserved after the variables for constants read inside loops
    /// (`LoopConstants` counts an upper bound before translating; 0 turns constant slots off).
    let constantCapacity: Int
    /// Fusions, folded immediates, deferred `local.get` and constant slots on
    /// (off only for the test-only `TranslationLayout.alternate`).
    let optimizes: Bool
    /// A constant pushed inside a loop is first an alias of a *provisional* id
    /// (at or above `Field.slotLimit`, so never a real slot): bits -> id, id -> bits.
    /// It gets a real slot only when code reads it (`resolve`); one folded into
    /// an immediate never does.
    var provisionalIDs: [UInt64: UInt64] = [:]
    var constantBits: [UInt64: UInt64] = [:]
    /// Real constant slots: bits -> slot, and the values in slot order.
    var constantSlots: [UInt64: UInt64] = [:]
    var constants: [UInt64] = []
    let resultCount: Int
    /// Operand-stack heights whose value still lives in a local (a deferred
    /// `local.get`): height -> local slot. Everything else is in its canonical slot
    /// `operandBase + height`. Materialized (copied) before every control
    /// instruction, call and stack-mode instruction, and before the local changes.
    var aliases: [Int: UInt64] = [:]
    /// Position of the last emitted instruction that wrote the canonical slot of
    /// the operand on top, as long as nothing was emitted or labelled since: a
    /// following `local.set`/`local.tee` retargets its destination.
    var lastProducer: Int?
    /// `lastProducer` as it was when the last producer was emitted (the producer
    /// right before it, with nothing emitted in between), if any.
    var previousProducer: Int?
    /// Position of the last emitted `copy`, while nothing else was emitted or labelled since.
    var lastCopy: Int?
    /// The same for the last `copy2` (a third copy joins it as a `copy3`).
    var lastCopy2: Int?
    /// Position of the last `i32Store8AddImm` (checked against the words before use).
    var lastByteStore: Int?
    /// Position of the producer a `local.set`/`local.tee` just retargeted to a
    /// local, while nothing was emitted since (a `br_if` on that local may fuse it).
    var lastRetargeted: Int?
    /// Where the last label may have been placed (a block boundary): no fusion
    /// reaches back across it.
    var lastLabel = 0

    static let numericOps: [String: Op] = {
        var table: [String: Op] = [:]
        for op in Op.allCases { table["\(op)"] = op }
        return table
    }()
    static let extendedOps: [String: ExtendedOp] = {
        var table: [String: ExtendedOp] = [:]
        for op in ExtendedOp.allCases { table["\(op)"] = op }
        return table
    }()

    init(validator: FunctionValidator, constantCapacity: Int, layout: TranslationLayout = .standard) {
        self.validator = validator
        variableCount = validator.locals.count
        self.constantCapacity = constantCapacity
        optimizes = layout.optimizes
        operandBase = variableCount + constantCapacity + layout.paddingSlots + Frame.headerSlots
        resultCount = validator.type.results.count
        blocks.append(Block(kind: .function, height: 0, arity: resultCount, dead: false))
    }

    static func translate(function: ValidatedModule.Function, context: ModuleContext,
                          layout: TranslationLayout = .standard) throws(WasmValidationError) -> FunctionCode {
        let slots = function.type.parameters.count + function.locals.count
        let fixedSlots = slots + layout.paddingSlots + Frame.headerSlots + function.maximumStackHeight + 2
        guard fixedSlots < Field.slotLimit else {
            throw WasmValidationError(.unsupported, "function \(function.index) needs more than \(Field.slotLimit) stack slots",
                                      offset: 0, functionIndex: function.index)
        }
        var loopConstants = LoopConstants()
        try parse(function, with: &loopConstants)
        let capacity = layout.optimizes && fixedSlots + loopConstants.distinct.count < Field.slotLimit
            ? loopConstants.distinct.count : 0
        let validator = try FunctionValidator(
            context: context, functionIndex: function.index, type: function.type,
            declaredLocals: function.locals, bodyOffset: 0)
        var translator = Translator(validator: validator, constantCapacity: capacity, layout: layout)
        try parse(function, with: &translator) { visit, translator throws(WasmValidationError) in
            try visit(visitor: &translator.validator)
        }
        // A resume point later overwritten in place by a fusion is no longer one.
        let words = translator.words
        let resumeMap = translator.resumePoints.compactMap { point -> ResumePoint? in
            var point = point
            switch Op.decode(words[point.position]) {
            case .loopHeader: (point.kind, point.returnPosition) = (.loop, 0)
            case .call: (point.kind, point.returnPosition) = (.call, point.position + 1)
            case .callIndirect: (point.kind, point.returnPosition) = (.callIndirect, point.position + 2)
            default: return nil
            }
            return point
        }
        return FunctionCode(typeIndex: Int(function.typeIndex), type: function.type, variableCount: slots,
                            constantSlots: capacity, paddingSlots: layout.paddingSlots, constants: translator.constants,
                            maximumHeight: function.maximumStackHeight, words: words, resumeMap: resumeMap)
    }

    /// Runs `visitor` over the body of `function`, then `after` (the translator's validator).
    static func parse<Visitor: AnyInstructionVisitor>(
        _ function: ValidatedModule.Function, with visitor: inout Visitor,
        after: (ExpressionParser.Visit, inout Visitor) throws(WasmValidationError) -> Void = { _, _ in }
    ) throws(WasmValidationError) where Visitor.VisitorError == WasmValidationError {
        var parser = ExpressionParser(code: function.code)
        while true {
            let visit: ExpressionParser.Visit?
            do { visit = try parser.parse() } catch {
                throw WasmValidationError(.malformed, "\(error)", offset: parser.offset, functionIndex: function.index)
            }
            guard let visit else { break }
            try visit(visitor: &visitor)
            try after(visit, &visitor)
        }
    }

    // MARK: - Emission helpers

    var reachable: Bool {
        guard let frame = validator.controls.innermost else { return false }
        return !frame.unreachable && !blocks[blocks.count - 1].dead
    }

    var height: Int { validator.values.height }

    mutating func emit(_ op: Op, _ immediate: UInt64 = 0) { emitRaw(op.word(immediate)) }
    mutating func emitRaw(_ word: UInt64) {
        words.append(word)
        lastProducer = nil
        lastCopy = nil
        lastCopy2 = nil
        lastRetargeted = nil
    }

    /// A `jump` (its target word appended by the caller); a `copy` right before it joins it.
    mutating func emitJump() {
        if optimizes, let copy = lastCopy, copy == words.count - 1 {
            words[copy] = Op.copyJump.word(d: UInt64(Field.d(words[copy])), a: UInt64(Field.a(words[copy])))
            lastCopy = nil
            return
        }
        emit(.jump)
    }

    /// A `copy`; two in a row (nothing emitted or labelled between) become one
    /// `copy2`, three one `copy3` (a round of SHA-256 shifts its eight variables).
    mutating func emitCopy(d: UInt64, a: UInt64) {
        guard optimizes else { return emitRaw(Op.copy.word(d: d, a: a)) }
        if let position = lastCopy, position == words.count - 1 {
            let first = words[position]
            words[position] = Op.copy2.word(d: UInt64(Field.d(first)), a: UInt64(Field.a(first)), b: d)
            emitRaw(a)
            lastCopy2 = position
            return
        }
        if let position = lastCopy2, position == words.count - 2 {
            let first = words[position]
            words[position] = Op.copy3.word(d: UInt64(Field.d(first)), a: UInt64(Field.a(first)), b: UInt64(Field.b(first)))
            words[position + 1] |= d << 16 | a << 32
            lastCopy2 = nil
            return
        }
        emitRaw(Op.copy.word(d: d, a: a))
        lastCopy = words.count - 1
    }

    // MARK: Register mode

    func canonical(_ height: Int) -> UInt64 { UInt64(operandBase + height) }
    func slot(_ height: Int) -> UInt64 { aliases[height] ?? canonical(height) }

    /// Takes the operand at `height` (popping it): its slot.
    mutating func take(_ height: Int) -> UInt64 {
        if let alias = aliases.removeValue(forKey: height) { return resolve(alias) }
        return canonical(height)
    }

    /// The slot an alias reads: a local's own, or for a constant its constant
    /// slot, given out the first time the code reads that constant.
    mutating func resolve(_ alias: UInt64) -> UInt64 {
        guard let bits = constantBits[alias] else { return alias }
        if let slot = constantSlots[bits] { return slot }
        precondition(constants.count < constantCapacity, "LoopConstants counted fewer constants than the translator met")
        let slot = UInt64(variableCount + constants.count)
        constants.append(bits)
        constantSlots[bits] = slot
        return slot
    }

    /// The constant whose slot the operand at `height` aliases, if it is one.
    func constant(at height: Int) -> UInt64? {
        aliases[height].flatMap { constantBits[$0] }
    }

    /// Whether `slot` is one of the function's variables (not a constant or operand slot).
    func isVariable(_ slot: UInt64) -> Bool { slot < UInt64(variableCount) }

    /// Pushes a constant: inside a loop, an alias of its constant slot when it has
    /// one (nothing is emitted); otherwise the instruction that writes it.
    mutating func pushConstant(_ bits: UInt64, at height: Int, word: UInt64, extra: UInt64? = nil) {
        guard constantCapacity > 0, blocks.contains(where: { $0.kind == .loop }) else {
            return emitProducer(word, at: height, extra: extra)
        }
        if let id = provisionalIDs[bits] {
            aliases[height] = id
            return
        }
        let id = UInt64(Field.slotLimit + provisionalIDs.count)
        provisionalIDs[bits] = id
        constantBits[id] = bits
        aliases[height] = id
    }

    /// Emits an instruction that writes the canonical slot of `height` (its `d` field).
    mutating func emitProducer(_ word: UInt64, at height: Int, extra: UInt64? = nil) {
        aliases[height] = nil
        lastCopy = nil
        lastCopy2 = nil
        lastRetargeted = nil
        previousProducer = lastProducer
        let position = words.count
        words.append(word)
        if let extra { words.append(extra) }
        lastProducer = optimizes ? position : nil
    }

    mutating func materialize(_ height: Int) {
        guard let alias = aliases.removeValue(forKey: height) else { return }
        emitCopy(d: canonical(height), a: resolve(alias))
    }

    /// Copies every deferred `local.get` into its canonical slot.
    mutating func materializeAll() {
        guard !aliases.isEmpty else { return }
        for height in aliases.keys.sorted() { materialize(height) }
    }

    /// Copies the deferred reads of `local` (below `height`) before it changes.
    mutating func materialize(local: UInt64, below height: Int) {
        for key in aliases.keys.sorted() where key < height && aliases[key] == local { materialize(key) }
    }

    /// A stack-mode instruction: operands in canonical slots, `sp` set first.
    mutating func emitStackMode(_ op: Op, _ immediate: UInt64 = 0) {
        materializeAll()
        emit(.setSP, canonical(height))
        emit(op, immediate)
    }

    mutating func emitUnary(_ op: Op) {
        let h = height
        let a = take(h - 1)
        emitProducer(op.word(d: canonical(h - 1), a: a), at: h - 1)
    }

    static let immediateOps: [Op: Op] = [
        .i32Add: .i32AddImm, .i32Sub: .i32AddImm, .i32Mul: .i32MulImm, .i32And: .i32AndImm, .i32Or: .i32OrImm,
        .i32Xor: .i32XorImm, .i32Shl: .i32ShlImm, .i32ShrS: .i32ShrSImm, .i32ShrU: .i32ShrUImm,
        .i32Eq: .i32EqImm, .i32Ne: .i32NeImm, .i32LtS: .i32LtSImm, .i32LtU: .i32LtUImm, .i32GtS: .i32GtSImm,
        .i32GtU: .i32GtUImm, .i32LeS: .i32LeSImm, .i32LeU: .i32LeUImm, .i32GeS: .i32GeSImm, .i32GeU: .i32GeUImm,
        .i64Add: .i64AddImm, .i64Sub: .i64AddImm, .i64And: .i64AndImm, .i64Shl: .i64ShlImm, .i64ShrU: .i64ShrUImm,
        .i32Rotl: .i32RotlImm, .i32Rotr: .i32RotlImm,
        .f64Add: .f64AddImm, .f64Sub: .f64AddImm, .f64Mul: .f64MulImm,
    ]
    static let i64ImmediateOps: Set<Op> = [.i64AddImm, .i64AndImm, .i64ShlImm, .i64ShrUImm, .f64AddImm, .f64MulImm]

    /// The constant just emitted for the operand on top (`height`), removed from
    /// the code so a binary operation can take it as an immediate.
    mutating func foldConstant(at height: Int, i64: Bool) -> UInt64? {
        if let bits = constant(at: height) {
            aliases[height] = nil
            return bits
        }
        guard let producer = lastProducer, aliases[height] == nil else { return nil }
        let first = words[producer]
        guard Field.d(first) == Int(canonical(height)) else { return nil }
        if !i64, Op.decode(first) == .i32Const, producer == words.count - 1 {
            words.removeLast()
            lastProducer = nil
            return first >> 32
        }
        if i64, Op.decode(first) == .i64Const, producer == words.count - 2 {
            let value = words[producer + 1]
            words.removeLast(2)
            lastProducer = nil
            return value
        }
        return nil
    }

    mutating func emitBinary(_ op: Op) {
        let h = height
        if optimizes, let immediateOp = Self.immediateOps[op] {
            let i64 = Self.i64ImmediateOps.contains(immediateOp)
            // Where an `i32ShlImm` just before would be, once the constant is folded.
            let shift = aliases[h - 1] != nil ? lastProducer : previousProducer
            if var constant = foldConstant(at: h - 1, i64: i64) {
                if op == .i32ShrS, emitSignExtension(shiftAt: shift, by: constant, at: h) { return }
                if op == .i32Sub { constant = UInt64(0 &- UInt32(truncatingIfNeeded: constant)) }
                if op == .i64Sub { constant = 0 &- constant }
                if op == .f64Sub { constant ^= 1 << 63 }  // x - c is x + (-c), exactly
                if op == .i32Rotr { constant = UInt64((32 &- (UInt32(truncatingIfNeeded: constant) & 31)) & 31) }
                let a = take(h - 2)
                emitProducer(immediateOp.word(d: canonical(h - 2), a: a), at: h - 2, extra: constant)
                return
            }
        }
        if emitFusedOperand(op) { return }
        let b = take(h - 1)
        let a = take(h - 2)
        emitProducer(op.word(d: canonical(h - 2), a: a, b: b), at: h - 2)
    }

    /// `(x << 16) >> 16` (signed) is `i32.extend16_s`, `(x << 24) >> 24` is
    /// `i32.extend8_s`: how clang-14, whose default target lacks the sign-extension
    /// operators, compiles C's `(int16_t)` and `(int8_t)` casts.
    mutating func emitSignExtension(shiftAt position: Int?, by constant: UInt64, at h: Int) -> Bool {
        guard constant == 16 || constant == 24, let position, position == words.count - 2, lastLabel <= position,
              Op.decode(words[position]) == .i32ShlImm, words[position + 1] == constant, aliases[h - 2] == nil,
              Field.d(words[position]) == Int(canonical(h - 2)) else { return false }
        let source = UInt64(Field.a(words[position]))
        words.removeLast(2)
        lastProducer = nil
        _ = take(h - 2)
        emitProducer((constant == 16 ? Op.i32Extend16S : .i32Extend8S).word(d: canonical(h - 2), a: source), at: h - 2)
        return true
    }

    /// Commutative operations that take in the producer just emitted when it computed
    /// one of their operands: [fused | d | other operand | producer's a, producer's b or constant].
    static let operandFusions: [Op: [Op: Op]] = [
        .i32Add: [.i32Add: .i32Add3, .i32Mul: .i32MulAdd, .i32Eqz: .i32AddEqz],
        .i64Add: [.i64Add: .i64Add3],
        .i32Xor: [.i32RotlImm: .i32XorRotlImm, .i32ShrUImm: .i32XorShrUImm, .i32ShlImm: .i32XorShlImm, .i32And: .i32XorAnd],
        .i32And: [.i32Xor: .i32AndXor],
        .f64Add: [.f64Mul: .f64MulAdd],
        .f64Mul: [.f64Sqrt: .f64MulSqrt],
        .f64Div: [.f64Sqrt: .f64DivSqrt, .f64MulSqrt: .f64DivMulSqrt],
        .i32Mul: [.i32Load16SAddImm: .i32MulLoad16SAddImm],
        .f64Sub: [.i64LoadAddImm: .f64SubLoadAddImm],
    ]
    /// Of those, the ones whose fused operand may only be the right one.
    static let rightOperandOnly: Set<Op> = [.f64Sub, .f64Div]
    /// Producers of two words, [op | d | a, constant], and of three, [op | d | a, constant, offset].
    static let constantProducers: Set<Op> = [.i32RotlImm, .i32ShrUImm, .i32ShlImm]
    static let loadProducers: Set<Op> = [.i32Load16SAddImm, .i64LoadAddImm]
    /// Producers with one operand: the fused instruction names both in its first word.
    static let unaryProducers: Set<Op> = [.i32Eqz, .f64Sqrt]

    mutating func emitFusedOperand(_ op: Op) -> Bool {
        guard optimizes, let table = Self.operandFusions[op], let producer = lastProducer else { return false }
        let first = words[producer]
        guard let fused = table[Op.decode(first)] else { return false }
        let length = Self.loadProducers.contains(Op.decode(first)) ? 3
            : Self.constantProducers.contains(Op.decode(first)) ? 2 : 1
        guard producer == words.count - length else { return false }
        let h = height
        let other: UInt64
        if Field.d(first) == Int(canonical(h - 1)), aliases[h - 1] == nil {
            // … ; producer ; op: the right operand.
            _ = take(h - 1)
            other = take(h - 2)
        } else if Field.d(first) == Int(canonical(h - 2)), aliases[h - 2] == nil, aliases[h - 1] != nil,
                  !Self.rightOperandOnly.contains(op) {
            // … ; producer ; local.get ; op: the left operand (nothing emitted since).
            other = take(h - 1)
            _ = take(h - 2)
        } else {
            return false
        }
        let extra = length >= 2 ? words[producer + 1] : UInt64(Field.b(first))
        let offset = length == 3 ? words[producer + 2] : nil
        words.removeLast(length)
        lastProducer = nil
        // rotl(x, j) ^ rotl(y, k) with the first rotation right before: one instruction
        // (SHA-256's Σ and σ).
        if fused == .i32XorRotlImm, words.count >= 2, lastLabel <= words.count - 2, Int(other) >= operandBase,
           Op.decode(words[words.count - 2]) == .i32RotlImm, Field.d(words[words.count - 2]) == Int(other) {
            let rotation = words[words.count - 2], k = words[words.count - 1] & 0xffff_ffff
            words.removeLast(2)
            emitProducer(Op.i32RotlXorRotlImm.word(d: canonical(h - 2), a: UInt64(Field.a(rotation)), b: UInt64(Field.a(first))),
                         at: h - 2, extra: k | (extra & 0xffff_ffff) << 32)
            return true
        }
        // x * y with both just loaded as 16-bit values from slot + constant: one instruction.
        if fused == .i32MulLoad16SAddImm, let offset, words.count >= 3, lastLabel <= words.count - 3,
           Int(other) >= operandBase, Op.decode(words[words.count - 3]) == .i32Load16SAddImm,
           Field.d(words[words.count - 3]) == Int(other), words[words.count - 1] < 1 << 32, offset < 1 << 32 {
            let load = words[words.count - 3], constant = words[words.count - 2] & 0xffff_ffff
            let loadOffset = words[words.count - 1]
            words.removeLast(3)
            emitProducer(Op.i32MulLoad16SPair.word(d: canonical(h - 2), a: UInt64(Field.a(load)), b: UInt64(Field.a(first))),
                         at: h - 2, extra: constant | (extra & 0xffff_ffff) << 32)
            words.append(loadOffset | offset << 32)
            return true
        }
        emitProducer(fused.word(d: canonical(h - 2), a: other, b: UInt64(Field.a(first))), at: h - 2,
                     extra: Self.unaryProducers.contains(Op.decode(first)) ? nil : extra)
        if let offset { words.append(offset) }
        return true
    }

    static let fusedBranches: [Op: (whenTrue: Op, whenFalse: Op)] = [
        .i32Eq: (.brI32Eq, .brI32Ne), .i32Ne: (.brI32Ne, .brI32Eq),
        .i32LtS: (.brI32LtS, .brI32GeS), .i32LtU: (.brI32LtU, .brI32GeU),
        .i32GtS: (.brI32GtS, .brI32LeS), .i32GtU: (.brI32GtU, .brI32LeU),
        .i32LeS: (.brI32LeS, .brI32GtS), .i32LeU: (.brI32LeU, .brI32GtU),
        .i32GeS: (.brI32GeS, .brI32LtS), .i32GeU: (.brI32GeU, .brI32LtU),
        .i32Eqz: (.brI32Eqz, .brI32Nez),
    ]

    static let fusedImmediateBranches: [Op: (whenTrue: Op, whenFalse: Op)] = [
        .i32EqImm: (.brI32EqImm, .brI32NeImm), .i32NeImm: (.brI32NeImm, .brI32EqImm),
        .i32LtSImm: (.brI32LtSImm, .brI32GeSImm), .i32LtUImm: (.brI32LtUImm, .brI32GeUImm),
        .i32GtSImm: (.brI32GtSImm, .brI32LeSImm), .i32GtUImm: (.brI32GtUImm, .brI32LeUImm),
        .i32LeSImm: (.brI32LeSImm, .brI32GtSImm), .i32LeUImm: (.brI32LeUImm, .brI32GtUImm),
        .i32GeSImm: (.brI32GeSImm, .brI32LtSImm), .i32GeUImm: (.brI32GeUImm, .brI32LtUImm),
    ]

    /// Loads and stores that have a variant taking an `i32.add` address.
    static let fusedLoads: [Op: (add: Op, addImm: Op)] = [
        .i32Load: (.i32LoadAdd, .i32LoadAddImm), .f32Load: (.i32LoadAdd, .i32LoadAddImm),
        .i64Load: (.i64LoadAdd, .i64LoadAddImm), .f64Load: (.i64LoadAdd, .i64LoadAddImm),
        .i32Load8U: (.i32Load8UAdd, .i32Load8UAddImm), .i64Load8U: (.i32Load8UAdd, .i32Load8UAddImm),
        .i32Load16S: (.i32Load16SAdd, .i32Load16SAddImm),
        .i32Load16U: (.i32Load16UAdd, .i32Load16UAddImm), .i64Load16U: (.i32Load16UAdd, .i32Load16UAddImm),
    ]
    static let fusedStores: [Op: Op] = [
        .i32Store: .i32StoreAdd, .f32Store: .i32StoreAdd, .i64Store32: .i32StoreAdd,
        .i64Store: .i64StoreAdd, .f64Store: .i64StoreAdd,
        .i32Store8: .i32Store8Add, .i64Store8: .i32Store8Add,
    ]

    /// A load whose address (the operand on top, `height`) was computed by the
    /// `i32.add` just emitted: the addition is folded into the load.
    mutating func emitFusedLoad(_ op: Op, at height: Int, offset: UInt64) -> Bool {
        guard optimizes, let fused = Self.fusedLoads[op], aliases[height] == nil, let producer = lastProducer else { return false }
        let add = words[producer]
        guard Field.d(add) == Int(canonical(height)) else { return false }
        let a = UInt64(Field.a(add))
        if Op.decode(add) == .i32Add, producer == words.count - 1 {
            words.removeLast()
            emitProducer(fused.add.word(d: canonical(height), a: a, b: UInt64(Field.b(add))), at: height, extra: offset)
            return true
        }
        if Op.decode(add) == .i32AddImm, producer == words.count - 2 {
            let constant = words[producer + 1]
            words.removeLast(2)
            emitProducer(fused.addImm.word(d: canonical(height), a: a), at: height, extra: constant)
            words.append(offset)
            return true
        }
        return false
    }

    static let teeLoads: [Op: Op] = [.i32Load: .i32LoadAddTee, .f32Load: .i32LoadAddTee,
                                     .i64Load: .i64LoadAddTee, .f64Load: .i64LoadAddTee]

    /// A load whose address is a local that the `i32.add` just emitted wrote
    /// (`local.tee`): the add is folded into the load, which writes the local too.
    mutating func emitTeeLoad(_ op: Op, at height: Int, offset: UInt64) -> Bool {
        guard optimizes, let fused = Self.teeLoads[op], let local = aliases[height], isVariable(local),
              let add = words.last, lastLabel <= words.count - 1, Op.decode(add) == .i32Add,
              Field.d(add) == Int(local), offset < 1 << 48 else { return false }
        words.removeLast()
        _ = take(height)
        emitProducer(fused.word(d: canonical(height), a: UInt64(Field.a(add)), b: UInt64(Field.b(add))), at: height,
                     extra: local | offset << 16)
        return true
    }

    /// A store whose address (`height`) was computed by the `i32.add` just emitted
    /// (its value is a deferred `local.get`, so nothing was emitted in between), or
    /// just before the one-word `i32.const` that produced the value (the addition
    /// is then folded into the store; the constant stays).
    mutating func emitFusedStore(_ op: Op, at height: Int, offset: UInt64) -> Bool {
        guard optimizes, let fused = Self.fusedStores[op], aliases[height] == nil, words.count >= 2 else { return false }
        let last = words.count - 1
        let addPosition: Int
        if aliases[height + 1] != nil {
            guard lastProducer == last else { return false }
            addPosition = last
        } else {
            // [i32.add -> canonical(height)] [i32.const -> canonical(height + 1)]
            guard lastProducer == last, previousProducer == last - 1, Op.decode(words[last]) == .i32Const,
                  Field.d(words[last]) == Int(canonical(height + 1)) else { return false }
            addPosition = last - 1
        }
        let add = words[addPosition]
        guard Op.decode(add) == .i32Add, Field.d(add) == Int(canonical(height)),
              Field.a(add) != Int(canonical(height + 1)), Field.b(add) != Int(canonical(height + 1)) else { return false }
        if fused == .i32Store8Add, let bits = constant(at: height + 1) {
            // A constant from a constant slot: into the store as well.
            aliases[height + 1] = nil
            _ = take(height)
            words.removeLast()
            emitRaw(Op.i32Store8AddImm.word(d: UInt64(Field.b(add)), a: UInt64(Field.a(add)), b: bits & 0xff))
            emitRaw(offset)
            lastByteStore = words.count - 2
            return true
        }
        if aliases[height + 1] == nil, fused == .i32Store8Add {
            // The constant value goes into the store too.
            _ = take(height + 1)
            _ = take(height)
            let constant = (words[last] >> 32) & 0xff
            words.removeLast(2)
            emitRaw(Op.i32Store8AddImm.word(d: UInt64(Field.b(add)), a: UInt64(Field.a(add)), b: constant))
            emitRaw(offset)
            lastByteStore = words.count - 2
            return true
        }
        let value = take(height + 1)
        _ = take(height)
        words.remove(at: addPosition)
        emitRaw(fused.word(d: UInt64(Field.b(add)), a: UInt64(Field.a(add)), b: value))
        emitRaw(offset)
        return true
    }

    /// Stores whose value (`height + 1`) was computed by the one-word arithmetic op
    /// just emitted: the op is folded into the store (its result slot is never written).
    static let arithmeticStores: [Op: [Op: Op]] = [
        .f64Store: [.f64Add: .f64AddStore, .f64Sub: .f64SubStore],
        .i32Store: [.i32Add: .i32AddStore],
    ]

    static let productStores: [Op: Op] = [.f64AddStore: .f64MulAddStore, .f64SubStore: .f64MulSubStore]

    mutating func emitArithmeticStore(_ op: Op, at height: Int, offset: UInt64) -> Bool {
        guard optimizes else { return false }
        // a + b * c already fused (`f64MulAdd`, two words): the store takes it whole.
        if op == .f64Store, aliases[height + 1] == nil, let producer = lastProducer, producer == words.count - 2,
           Op.decode(words[producer]) == .f64MulAdd, Field.d(words[producer]) == Int(canonical(height + 1)),
           offset < 1 << 32 {
            let sum = words[producer], c = words[producer + 1]
            words.removeLast(2)
            lastProducer = nil
            _ = take(height + 1)
            let address = take(height)
            if emitUpdate(.f64MulAddStore, address: address, loaded: UInt64(Field.a(sum)),
                          a: UInt64(Field.b(sum)), b: c, offset: offset) { return true }
            emitRaw(Op.f64MulAddStore.word(d: address, a: UInt64(Field.a(sum)), b: UInt64(Field.b(sum))))
            emitRaw(c | offset << 16)
            return true
        }
        guard let table = Self.arithmeticStores[op], aliases[height + 1] == nil, let producer = lastProducer,
              producer == words.count - 1 else { return false }
        let arithmetic = words[producer]
        guard let fused = table[Op.decode(arithmetic)], Field.d(arithmetic) == Int(canonical(height + 1)) else { return false }
        // a ± (b * c): the product, written to the slot above the value, is folded too.
        if let withProduct = Self.productStores[fused], previousProducer == producer - 1, offset < 1 << 32 {
            let product = words[producer - 1]
            if Op.decode(product) == .f64Mul, Field.d(product) == Int(canonical(height + 2)),
               Field.b(arithmetic) == Int(canonical(height + 2)), Field.a(arithmetic) != Int(canonical(height + 2)) {
                words.removeLast(2)
                lastProducer = nil
                _ = take(height + 1)
                let address = take(height)
                if emitUpdate(withProduct, address: address, loaded: UInt64(Field.a(arithmetic)),
                              a: UInt64(Field.a(product)), b: UInt64(Field.b(product)), offset: offset) { return true }
                emitRaw(withProduct.word(d: address, a: UInt64(Field.a(arithmetic)), b: UInt64(Field.a(product))))
                emitRaw(UInt64(Field.b(product)) | offset << 16)
                return true
            }
        }
        words.removeLast()
        lastProducer = nil
        _ = take(height + 1)
        let address = take(height)
        // `x[i] = a * b + x[i]` (mul, then the load, then the add): an update too.
        if fused == .f64AddStore, words.count >= 3, offset < 1 << 32 {
            let product = words[words.count - 3]
            if Op.decode(product) == .f64Mul, Field.d(product) == Int(Field.a(arithmetic)), lastLabel <= words.count - 3,
               Field.a(arithmetic) != Field.b(arithmetic), Field.d(product) >= operandBase {
                let loadPosition = words.count - 2
                if isLoad(of: address, offset: offset, into: UInt64(Field.b(arithmetic)), at: loadPosition) {
                    words.removeLast(3)
                    emitRaw(Op.f64MulAddUpdate.word(d: address, a: UInt64(Field.a(product)), b: UInt64(Field.b(product))))
                    emitRaw(offset)
                    return true
                }
            }
        }
        emitRaw(fused.word(d: address, a: UInt64(Field.a(arithmetic)), b: UInt64(Field.b(arithmetic))))
        emitRaw(offset)
        return true
    }

    /// Whether the two words at `position` (the last two) are an `f64.load` of
    /// `address` + `offset` into the temporary slot `slot`, with no label since.
    func isLoad(of address: UInt64, offset: UInt64, into slot: UInt64, at position: Int) -> Bool {
        guard position >= 0, position == words.count - 2, lastLabel <= position else { return false }
        let load = words[position]
        return Op.decode(load) == .f64Load && Field.d(load) == Int(slot) && Field.a(load) == Int(address)
            && words[position + 1] == offset && slot >= UInt64(operandBase)
    }

    /// `x[i] ± a * b` stored back to where `loaded` was just loaded from: one update.
    mutating func emitUpdate(_ store: Op, address: UInt64, loaded: UInt64, a: UInt64, b: UInt64, offset: UInt64) -> Bool {
        guard let update = [Op.f64MulAddStore: Op.f64MulAddUpdate, .f64MulSubStore: .f64MulSubUpdate][store],
              isLoad(of: address, offset: offset, into: loaded, at: words.count - 2) else { return false }
        words.removeLast(2)
        emitRaw(update.word(d: address, a: a, b: b))
        emitRaw(offset)
        return true
    }

    /// A jump (target word appended by the caller) taken when `condition` (the
    /// operand just popped from `height`) is non-zero, or zero. An i32 comparison
    /// emitted right before that produced it is fused into the jump.
    mutating func emitConditionalJump(condition: UInt64, height: Int, whenTrue: Bool) {
        guard optimizes else {
            emitRaw((whenTrue ? Op.brIfJump : Op.brUnless).word(d: 0, a: condition))
            return
        }
        if let producer = lastProducer, producer == words.count - 1, condition == canonical(height),
           Field.d(words[producer]) == Int(condition), let fused = Self.fusedBranches[Op.decode(words[producer])] {
            let compare = words[producer]
            let branch = whenTrue ? fused.whenTrue : fused.whenFalse
            words[producer] = branch.word(d: 0, a: UInt64(Field.a(compare)), b: UInt64(Field.b(compare)))
            lastProducer = nil
            if fuseMask(intoBranchAt: producer) { return }
            fuseCounterStep(intoBranchAt: producer)
            return
        }
        if let producer = lastProducer, producer == words.count - 2, condition == canonical(height),
           Field.d(words[producer]) == Int(condition), let fused = Self.fusedImmediateBranches[Op.decode(words[producer])] {
            let compare = words[producer]
            let constant = words[producer + 1] & 0xffff_ffff
            let branch = whenTrue ? fused.whenTrue : fused.whenFalse
            words.removeLast()
            words[producer] = UInt64(branch.rawValue) | UInt64(Field.a(compare)) << 16 | constant << 32
            lastProducer = nil
            fuseCounterStep(intoBranchAt: producer)
            return
        }
        // The condition was just loaded (`p = p->next; if (p)`): the load joins the jump.
        // (Labels reset both positions, so none lies between the load and the jump.)
        if let load = lastProducer ?? lastRetargeted, load == words.count - 2,
           Op.decode(words[load]) == .i32Load, Field.d(words[load]) == Int(condition) {
            words[load] = (whenTrue ? Op.i32LoadBrIf : .i32LoadBrUnless)
                .word(d: condition, a: UInt64(Field.a(words[load])))
            lastProducer = nil
            lastRetargeted = nil
            return
        }
        emitRaw((whenTrue ? Op.brIfJump : Op.brUnless).word(d: 0, a: condition))
        fuseCounterStep(intoBranchAt: words.count - 1)
    }

    static let maskedBranches: [Op: Op] = [.brI32Eq: .brI32EqAndImm, .brI32Ne: .brI32NeAndImm]

    /// A fused i32 equality jump (its target word still to come) one of whose
    /// operands is the temporary an `i32AndImm` computed right before it: the mask
    /// joins the jump (the temporary is never written). `previousProducer` is nil
    /// across a label, so no label lies between the two.
    mutating func fuseMask(intoBranchAt position: Int) -> Bool {
        let branch = words[position]
        guard let fused = Self.maskedBranches[Op.decode(branch)], let and = previousProducer,
              and == position - 2, Op.decode(words[and]) == .i32AndImm else { return false }
        let masked = Field.d(words[and])
        guard masked >= operandBase, Field.a(branch) != Field.b(branch) else { return false }
        let other: Int
        if Field.b(branch) == masked { other = Field.a(branch) } else if Field.a(branch) == masked { other = Field.b(branch) } else { return false }
        let mask = words[and + 1] & 0xffff_ffff
        let source = UInt64(Field.a(words[and]))
        words.removeLast(3)
        words.append(fused.word(d: 0, a: UInt64(other), b: source))
        words.append(mask)
        previousProducer = nil
        return true
    }

    static let counterBranchesImm: [Op: Op] = [
        .brI32NeImm: .brI32AddImmNeImm, .brI32LtSImm: .brI32AddImmLtSImm, .brI32LtUImm: .brI32AddImmLtUImm,
        .brI32GtSImm: .brI32AddImmGtSImm, .brI32EqImm: .brI32AddImmEqImm, .brI32GeSImm: .brI32AddImmGeSImm,
        .brI32GeUImm: .brI32AddImmGeUImm, .brI32LeSImm: .brI32AddImmLeSImm,
    ]
    static let counterTests: [Op: Op] = [
        .brIfJump: .brI32AddImmNeImm, .brUnless: .brI32AddImmEqImm,
        .brI32Nez: .brI32AddImmNeImm, .brI32Eqz: .brI32AddImmEqImm,
    ]
    static let counterBranches: [Op: Op] = [
        .brI32LtU: .brI32AddLtU, .brI32LtS: .brI32AddLtS, .brI32Ne: .brI32AddNe,
        .brI32GeU: .brI32AddGeU, .brI32GeS: .brI32AddGeS, .brI32Eq: .brI32AddEq,
    ]

    /// A fused compare + jump (its target word still to come) whose operand was
    /// just computed by an `i32.add` (typically `i += step; if i < n`): the add
    /// joins the jump. The add's result is still written (it is usually a local).
    mutating func fuseCounterStep(intoBranchAt position: Int) {
        guard optimizes, lastLabel <= position else { return }
        let branch = words[position]
        if let fused = Self.counterTests[Op.decode(branch)], position >= 2 {
            // `br_if` on the counter itself (`i -= 1; if i != 0`): a compare with 0.
            let step = words[position - 1], add = words[position - 2]
            guard Op.decode(add) == .i32AddImm, Field.d(add) == Field.a(branch), lastLabel <= position - 2 else { return }
            words.removeLast(3)
            words.append(fused.word(d: UInt64(Field.d(add)), a: UInt64(Field.a(add))))
            words.append(step & 0xffff_ffff)
        } else if let fused = Self.counterBranchesImm[Op.decode(branch)], position >= 2 {
            let step = words[position - 1], add = words[position - 2]
            guard Op.decode(add) == .i32AddImm, Field.d(add) == Field.d(branch), lastLabel <= position - 2 else { return }
            words.removeLast(3)
            words.append(fused.word(d: UInt64(Field.d(add)), a: UInt64(Field.a(add))))
            words.append(step & 0xffff_ffff | (branch >> 32) << 32)
        } else if let fused = Self.counterBranches[Op.decode(branch)], position >= 1 {
            let add = words[position - 1]
            guard Op.decode(add) == .i32Add, Field.d(add) == Field.a(branch), lastLabel <= position - 1 else { return }
            words.removeLast(2)
            words.append(fused.word(d: UInt64(Field.d(add)), a: UInt64(Field.a(add)), b: UInt64(Field.b(add))))
            words.append(UInt64(Field.b(branch)))
            fuseByteStore(intoCounterAt: words.count - 2)
        }
    }

    /// `for (j = …; j < n; j += step) bytes[j] = c` (a sieve's marking loop,
    /// strided fills): the byte store right before a `brI32AddLtU` stepping its
    /// index joins it, one dispatch per element.
    mutating func fuseByteStore(intoCounterAt position: Int) {
        let counter = words[position]
        guard let store = lastByteStore, store == position - 2, lastLabel <= store,
              Op.decode(counter) == .brI32AddLtU, Op.decode(words[store]) == .i32Store8AddImm,
              Field.d(counter) == Field.a(counter) || Field.d(counter) == Field.b(counter),
              words[store + 1] < 1 << 32 else { return }
        // The store's address is the sum of its d and a slots, in either order.
        let index = Field.d(counter), first = Field.d(words[store]), second = Field.a(words[store])
        guard (first == index) != (second == index) else { return }
        let base = UInt64(first == index ? second : first)
        let bound = words[position + 1], value = UInt64(Field.b(words[store])), offset = words[store + 1]
        let step = UInt64(Field.d(counter) == Field.a(counter) ? Field.b(counter) : Field.a(counter))
        words.removeLast(4)
        words.append(Op.i32Store8AddImmBrAddLtU.word(d: UInt64(Field.d(counter)), a: base, b: step))
        words.append(value | bound << 8 | offset << 24)
        lastByteStore = nil
    }

    mutating func emitLocalSet(_ index: UInt32, tee: Bool) {
        let h = height
        let local = UInt64(index)
        let wasAlias = aliases[h - 1] != nil
        let value = resolve(slot(h - 1))
        if !tee { aliases[h - 1] = nil }
        if value == local { return }
        materialize(local: local, below: h - 1)
        if optimizes, !wasAlias, let producer = lastProducer, Field.d(words[producer]) == Int(canonical(h - 1)) {
            words[producer] = words[producer] & ~(Field.mask << 16) | local << 16
            lastProducer = nil
            lastRetargeted = producer
            if tee { aliases[h - 1] = local }
            return
        }
        emitCopy(d: local, a: value)
    }

    func blockSignature(_ type: BlockType) -> (parameters: Int, results: Int) {
        switch type {
        case .empty: return (0, 0)
        case .type: return (0, 1)
        case .funcType(let index):
            let signature = validator.context.types[Int(index)]
            return (signature.parameters.count, signature.results.count)
        }
    }

    /// A branch out to relative depth `label` with `current` operands on the stack.
    /// Returns the packed word (keep, destination slot) and appends the target word.
    mutating func branchOperands(label: UInt32, current: Int) -> (packed: UInt64, needsMove: Bool, isReturn: Bool) {
        let index = blocks.count - 1 - Int(label)
        let block = blocks[index]
        if block.kind == .function { return (UInt64(operandBase + current) << 48, true, true) }
        let destination = block.height
        let keep = block.arity
        let packed = Op.unreachable.word(d: UInt64(keep), a: UInt64(operandBase + destination), b: UInt64(operandBase + current))
        return (packed, current - keep != destination, false)
    }

    mutating func appendTarget(label: UInt32) {
        let index = blocks.count - 1 - Int(label)
        if blocks[index].kind == .loop {
            // Past the loop's header: a taken back-edge does the header's safepoint itself.
            emitRaw(UInt64(bitPattern: Int64(blocks[index].loopStart + 1 - words.count)))
        } else {
            blocks[index].pendingTargets.append(words.count)
            emitRaw(0)
        }
    }

    /// Branch targets are stored relative to their own word (`target - position`,
    /// two's complement), so the interpreter reaches them without the code's base.
    mutating func patch(_ position: Int, to target: Int) { words[position] = UInt64(bitPattern: Int64(target - position)) }

    // MARK: - The visitor

    mutating func visit(_ instruction: Instruction) throws(WasmValidationError) {
        let live = reachable
        switch instruction {
        case .block, .loop, .if, .else, .end:
            if !live { aliases.removeAll() }
            switch instruction {
            case .loop, .else, .end:  // a branch may land here
                lastProducer = nil
                lastRetargeted = nil
            default: break
            }
            lastCopy = nil  // a label may follow: a copy after it must stay its own instruction
            lastCopy2 = nil
            lastLabel = words.count
        default: break
        }
        switch instruction {
        case .block(let type), .loop(let type), .if(let type):
            var condition: UInt64 = 0
            if live {
                if case .if = instruction { condition = take(height - 1) }
                materializeAll()
            }
            let signature = blockSignature(type)
            var entryHeight = height - signature.parameters
            if case .if = instruction { entryHeight -= 1 }
            var block = Block(kind: .block, height: entryHeight, arity: signature.results, dead: !live)
            switch instruction {
            case .loop:
                block.kind = .loop
                block.arity = signature.parameters
                block.loopStart = words.count
                if live {
                    resumePoints.append(ResumePoint(position: words.count, offset: binaryOffset, height: height))
                    emit(.loopHeader, canonical(height))
                }
            case .if:
                block.kind = .if
                if live {
                    emitConditionalJump(condition: condition, height: height - 1, whenTrue: false)
                    block.elsePatch = words.count
                    emitRaw(0)
                }
            default: break
            }
            blocks.append(block)
            return
        case .else:
            if live { materializeAll() }
            var block = blocks.removeLast()
            if !block.dead {
                if live {
                    emitJump()
                    block.pendingTargets.append(words.count)
                    emitRaw(0)
                }
                if let elsePatch = block.elsePatch { patch(elsePatch, to: words.count) }
                block.elsePatch = nil
            }
            block.kind = .else
            blocks.append(block)
            return
        case .end:
            if live { materializeAll() }
            let block = blocks.removeLast()
            if block.kind == .function {
                if live { emit(.return, canonical(height)) }
                return
            }
            if !block.dead {
                if let elsePatch = block.elsePatch { patch(elsePatch, to: words.count) }
                for position in block.pendingTargets { patch(position, to: words.count) }
            }
            return
        default:
            break
        }
        guard live else { return }
        try emitInstruction(instruction)
    }

    mutating func emitInstruction(_ instruction: Instruction) throws(WasmValidationError) {
        let h = height
        switch instruction {
        case .unreachable: emit(.unreachable)
        case .nop: break
        case .br(let label):
            materializeAll()
            let branch = branchOperands(label: label, current: h)
            if branch.isReturn { emit(.return, canonical(h)); return }
            if branch.needsMove { emitRaw(Op.br.word() | branch.packed) } else { emitJump() }
            appendTarget(label: label)
        case .brIf(let label):
            let branch = branchOperands(label: label, current: h - 1)
            if branch.isReturn || branch.needsMove {
                materializeAll()
                if branch.isReturn { emit(.returnIf, canonical(h - 1)); return }
                emitRaw(Op.brIf.word() | branch.packed)
            } else {
                let condition = take(h - 1)
                materializeAll()
                emitConditionalJump(condition: condition, height: h - 1, whenTrue: true)
            }
            appendTarget(label: label)
        case .brTable(let table):
            let labels = table.labelIndices + [table.defaultIndex]
            emitStackMode(.brTable, UInt64(table.labelIndices.count))
            for label in labels {
                let branch = branchOperands(label: label, current: h - 1)
                if branch.isReturn {
                    emitRaw(branch.packed)
                    emitRaw(UInt64.max)
                } else {
                    emitRaw(branch.packed | 1)  // bit 0 marks a real branch
                    appendTarget(label: label)
                }
            }
        case .return:
            materializeAll()
            emit(.return, canonical(h))
        case .call(let function):
            materializeAll()
            resumePoints.append(ResumePoint(position: words.count, offset: binaryOffset, height: h))
            emit(.call, UInt64(function) | canonical(h) << 32)
        case .callIndirect(let type, let table):
            materializeAll()
            resumePoints.append(ResumePoint(position: words.count, offset: binaryOffset, height: h))
            emit(.callIndirect, UInt64(table) | UInt64(type) << 24)
            emitRaw(canonical(h))
        case .drop: aliases[h - 1] = nil  // not a read: a dropped constant needs no slot
        case .select, .typedSelect:
            let c = take(h - 1), b = take(h - 2), a = take(h - 3)
            emitProducer(Op.select.word(d: canonical(h - 3), a: a, b: b), at: h - 3, extra: c)
        case .localGet(let index):
            if optimizes { aliases[h] = UInt64(index) } else { emitProducer(Op.copy.word(d: canonical(h), a: UInt64(index)), at: h) }
        case .localSet(let index): emitLocalSet(index, tee: false)
        case .localTee(let index): emitLocalSet(index, tee: true)
        case .globalGet(let index):
            emitProducer(Op.globalGet.word(d: canonical(h)) | UInt64(index) << 32, at: h)
        case .globalSet(let index):
            let a = take(h - 1)
            emitRaw(Op.globalSet.word(d: a) | UInt64(index) << 32)
        case .load(let kind, let memarg):
            guard let op = Self.numericOps["\(kind)"] else { throw .unsupported(.simd) }
            if emitFusedLoad(op, at: h - 1, offset: memarg.offset) { return }
            if emitTeeLoad(op, at: h - 1, offset: memarg.offset) { return }
            let a = take(h - 1)
            emitProducer(op.word(d: canonical(h - 1), a: a), at: h - 1, extra: memarg.offset)
        case .store(let kind, let memarg):
            guard let op = Self.numericOps["\(kind)"] else { throw .unsupported(.simd) }
            if emitFusedStore(op, at: h - 2, offset: memarg.offset) { return }
            if emitArithmeticStore(op, at: h - 2, offset: memarg.offset) { return }
            let b = take(h - 1), a = take(h - 2)
            emitRaw(op.word(d: 0, a: a, b: b))
            emitRaw(memarg.offset)
        case .memorySize: emitProducer(Op.memorySize.word(d: canonical(h)), at: h)
        case .memoryGrow: emitStackMode(.memoryGrow)
        case .i32Const(let value):
            let bits = UInt64(UInt32(bitPattern: value))
            pushConstant(bits, at: h, word: Op.i32Const.word(d: canonical(h)) | bits << 32)
        case .i64Const(let value):
            pushConstant(UInt64(bitPattern: value), at: h, word: Op.i64Const.word(d: canonical(h)), extra: UInt64(bitPattern: value))
        case .f32Const(let value):
            let bits = UInt64(value.bitPattern)
            pushConstant(bits, at: h, word: Op.i32Const.word(d: canonical(h)) | bits << 32)
        case .f64Const(let value):
            pushConstant(value.bitPattern, at: h, word: Op.i64Const.word(d: canonical(h)), extra: value.bitPattern)
        case .refNull: emitProducer(Op.i32Const.word(d: canonical(h)), at: h)
        case .refIsNull: emitUnary(.i64Eqz)
        case .refFunc(let function): emitProducer(Op.refFunc.word(d: canonical(h)) | UInt64(function) << 32, at: h)
        case .i32Eqz: emitUnary(.i32Eqz)
        case .i64Eqz: emitUnary(.i64Eqz)
        case .cmp(let op): try emitNumeric("\(op)", binary: true)
        case .unary(let op): try emitNumeric("\(op)", binary: false)
        case .binary(let op): try emitNumeric("\(op)", binary: true)
        case .conversion(let op):
            switch op {
            case .i32ReinterpretF32, .i64ReinterpretF64, .f32ReinterpretI32, .f64ReinterpretI64:
                break  // same bits in a slot
            default:
                try emitNumeric("\(op)", binary: false)
            }
        case .memoryInit(let data, _): emitStackMode(.memoryInit, UInt64(data))
        case .dataDrop(let data): emitStackMode(.dataDrop, UInt64(data))
        case .memoryCopy: emitStackMode(.memoryCopy)
        case .memoryFill: emitStackMode(.memoryFill)
        case .tableInit(let element, let table): emitStackMode(.tableInit, UInt64(element) | UInt64(table) << 24)
        case .elemDrop(let element): emitStackMode(.elemDrop, UInt64(element))
        case .tableCopy(let destination, let source): emitStackMode(.tableCopy, UInt64(destination) | UInt64(source) << 24)
        case .tableFill(let table): emitStackMode(.tableFill, UInt64(table))
        case .tableGet(let table): emitStackMode(.tableGet, UInt64(table))
        case .tableSet(let table): emitStackMode(.tableSet, UInt64(table))
        case .tableGrow(let table): emitStackMode(.tableGrow, UInt64(table))
        case .tableSize(let table): emitStackMode(.tableSize, UInt64(table))
        default:
            throw WasmValidationError(.unsupported, "instruction \(instruction) is beyond WebAssembly 2.0")
        }
    }

    mutating func emitNumeric(_ name: String, binary: Bool) throws(WasmValidationError) {
        if let op = Self.numericOps[name] {
            if binary { emitBinary(op) } else { emitUnary(op) }
            return
        }
        guard let op = Self.extendedOps[name] else {
            throw WasmValidationError(.unsupported, "instruction \(name) is beyond WebAssembly 2.0")
        }
        let h = height
        if binary {
            let b = take(h - 1)
            let a = take(h - 2)
            emitProducer(op.word(d: canonical(h - 2), a: a, b: b), at: h - 2)
        } else {
            let a = take(h - 1)
            emitProducer(op.word(d: canonical(h - 1), a: a), at: h - 1)
        }
    }
}

/// A module validated and translated: what `Instance.instantiate` needs. The
/// translated code is deterministic; its CRC32C is stored in the space and
/// compared when a restored instance re-translates the stored bytes.
public final class WasmModule: @unchecked Sendable {
    public let bytes: [UInt8]
    public let validated: ValidatedModule
    /// One entry per defined function (index = function index - imported functions).
    public let functions: [FunctionCode]
    public let codeChecksum: UInt32
    /// The layout the code was translated for (`standard` except in tests).
    public let layout: TranslationLayout

    /// `layout`: test-only (`TranslationLayout`); the default is the standard
    /// layout unless the test-only environment variable says otherwise.
    public init(bytes: [UInt8], layout: TranslationLayout = .fromEnvironment) throws(WasmValidationError) {
        self.bytes = bytes
        self.layout = layout
        let validated = try validate(module: bytes)
        self.validated = validated
        var functions: [FunctionCode] = []
        var all: [UInt64] = []
        for function in validated.functions {
            let code = try Translator.translate(function: function, context: validated.context, layout: layout)
            functions.append(code)
            all.append(UInt64(code.count))
            all.append(contentsOf: UnsafeBufferPointer(start: code.words, count: code.count))
            all.append(UInt64(code.headerOffset))
            all.append(UInt64(code.constantCount))
            all.append(contentsOf: UnsafeBufferPointer(start: code.constants, count: code.constantCount))
        }
        self.functions = functions
        // The resume maps too: the checksum is the translation's fingerprint,
        // and a restore that finds it changed reads the stored maps.
        all.append(contentsOf: ResumeMapRecord.words(functions: functions, layout: layout))
        codeChecksum = all.withUnsafeBytes { CRC32C.checksum($0) }
    }
}

/// The distinct constants pushed inside loops of one body and not folded into an
/// immediate by the instruction right after them (`Translator.immediateOps`
/// always folds): an upper bound on the constant slots its translation can use,
/// so that the frame layout is fixed before the single translating pass.
struct LoopConstants: AnyInstructionVisitor {
    typealias VisitorError = WasmValidationError
    var binaryOffset: Int = 0
    var distinct: Set<UInt64> = []
    /// Open blocks, true for a loop.
    var open: [Bool] = []
    var loops = 0
    /// The constant pushed by the previous instruction, inside a loop.
    var pending: UInt64?

    mutating func visit(_ instruction: Instruction) throws(WasmValidationError) {
        if let bits = pending {
            pending = nil
            if !Self.folds(instruction) { distinct.insert(bits) }
        }
        switch instruction {
        case .block, .if: open.append(false)
        case .loop:
            open.append(true)
            loops += 1
        case .end: if open.popLast() == true { loops -= 1 }
        case .i32Const(let value) where loops > 0: pending = UInt64(UInt32(bitPattern: value))
        case .i64Const(let value) where loops > 0: pending = UInt64(bitPattern: value)
        case .f32Const(let value) where loops > 0: pending = UInt64(value.bitPattern)
        case .f64Const(let value) where loops > 0: pending = value.bitPattern
        default: break
        }
    }

    static func folds(_ instruction: Instruction) -> Bool {
        let name: String
        switch instruction {
        case .binary(let op): name = "\(op)"
        case .cmp(let op): name = "\(op)"
        default: return false
        }
        return Translator.numericOps[name].flatMap { Translator.immediateOps[$0] } != nil
    }
}
