import PhantomStore

/// One defined function, translated. The code lives outside the object space
/// (it is regenerated deterministically from the module bytes, which are stored);
/// the words are in a manually allocated buffer so the interpreter can hold a raw
/// pointer to them.
public final class FunctionCode: @unchecked Sendable {
    public let typeIndex: Int
    public let type: FunctionType
    public let parameterCount: Int
    /// Parameters plus declared locals.
    public let localCount: Int
    public let resultCount: Int
    /// Slots a frame needs beyond its locals: header plus maximum operand height.
    public let frameSlots: Int
    public let words: UnsafeMutablePointer<UInt64>
    public let count: Int

    init(typeIndex: Int, type: FunctionType, localCount: Int, maximumHeight: Int, words: [UInt64]) {
        self.typeIndex = typeIndex
        self.type = type
        parameterCount = type.parameters.count
        self.localCount = localCount
        resultCount = type.results.count
        frameSlots = Frame.headerSlots + maximumHeight + 1
        count = words.count
        self.words = .allocate(capacity: max(words.count, 1))
        self.words.initialize(from: words, count: words.count)
    }

    deinit { words.deallocate() }
}

/// Layout of a call frame on the persistent value stack (slots of 8 bytes):
///
/// ```
/// fp + 0 ..< L          locals (parameters first; the caller pushed them)
/// fp + L + 0            caller's function reference (0: this is the entry frame)
/// fp + L + 1            caller's return position (word index in its code)
/// fp + L + 2            caller's fp (slot index from the stack base)
/// fp + L + 3 ...        operand stack
/// ```
/// Results are copied to `fp + 0 ..< results` on return, where the caller's
/// operand stack continues.
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
    var words: [UInt64] = []
    var blocks: [Block] = []
    let localCount: Int
    let operandBase: Int
    let resultCount: Int

    static let numericOps: [String: Op] = {
        var table: [String: Op] = [:]
        for op in Op.allCases { table["\(op)"] = op }
        return table
    }()

    init(validator: FunctionValidator) {
        self.validator = validator
        localCount = validator.locals.count
        operandBase = localCount + Frame.headerSlots
        resultCount = validator.type.results.count
        blocks.append(Block(kind: .function, height: 0, arity: resultCount, dead: false))
    }

    static func translate(function: ValidatedModule.Function, context: ModuleContext) throws(WasmValidationError) -> FunctionCode {
        let validator = try FunctionValidator(
            context: context, functionIndex: function.index, type: function.type,
            declaredLocals: function.locals, bodyOffset: 0)
        var translator = Translator(validator: validator)
        var parser = ExpressionParser(code: function.code)
        while true {
            let visit: ExpressionParser.Visit?
            do { visit = try parser.parse() } catch {
                throw WasmValidationError(.malformed, "\(error)", offset: parser.offset, functionIndex: function.index)
            }
            guard let visit else { break }
            try visit(visitor: &translator)
            try visit(visitor: &translator.validator)
        }
        return FunctionCode(
            typeIndex: Int(function.typeIndex), type: function.type, localCount: translator.localCount,
            maximumHeight: function.maximumStackHeight, words: translator.words)
    }

    // MARK: - Emission helpers

    var reachable: Bool {
        guard let frame = validator.controls.innermost else { return false }
        return !frame.unreachable && !blocks[blocks.count - 1].dead
    }

    var height: Int { validator.values.height }

    mutating func emit(_ op: Op, _ immediate: UInt64 = 0) { words.append(op.word(immediate)) }
    mutating func emitRaw(_ word: UInt64) { words.append(word) }

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
        if block.kind == .function { return (0, true, true) }
        let destination = block.height
        let keep = block.arity
        let packed = UInt64(keep) << 8 | UInt64(operandBase + destination) << 32
        return (packed, current - keep != destination, false)
    }

    mutating func appendTarget(label: UInt32) {
        let index = blocks.count - 1 - Int(label)
        if blocks[index].kind == .loop {
            emitRaw(UInt64(blocks[index].loopStart))
        } else {
            blocks[index].pendingTargets.append(words.count)
            emitRaw(0)
        }
    }

    mutating func patch(_ position: Int, to target: Int) { words[position] = UInt64(target) }

    // MARK: - The visitor

    mutating func visit(_ instruction: Instruction) throws(WasmValidationError) {
        let live = reachable
        switch instruction {
        case .block(let type), .loop(let type), .if(let type):
            let signature = blockSignature(type)
            var entryHeight = height - signature.parameters
            if case .if = instruction { entryHeight -= 1 }
            var block = Block(kind: .block, height: entryHeight, arity: signature.results, dead: !live)
            switch instruction {
            case .loop:
                block.kind = .loop
                block.arity = signature.parameters
                block.loopStart = words.count
                if live { emit(.loopHeader) }
            case .if:
                block.kind = .if
                if live {
                    emit(.brUnless)
                    block.elsePatch = words.count
                    emitRaw(0)
                }
            default: break
            }
            blocks.append(block)
            return
        case .else:
            var block = blocks.removeLast()
            if !block.dead {
                if live {
                    emit(.jump)
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
            let block = blocks.removeLast()
            if block.kind == .function {
                if live { emit(.return) }
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
        switch instruction {
        case .unreachable: emit(.unreachable)
        case .nop: break
        case .br(let label):
            let branch = branchOperands(label: label, current: height)
            if branch.isReturn { emit(.return); return }
            if branch.needsMove { emitRaw(Op.br.word() | branch.packed) } else { emit(.jump) }
            appendTarget(label: label)
        case .brIf(let label):
            let branch = branchOperands(label: label, current: height - 1)
            if branch.isReturn { emit(.returnIf); return }
            if branch.needsMove { emitRaw(Op.brIf.word() | branch.packed) } else { emit(.brIfJump) }
            appendTarget(label: label)
        case .brTable(let table):
            let labels = table.labelIndices + [table.defaultIndex]
            emit(.brTable, UInt64(table.labelIndices.count))
            for label in labels {
                let branch = branchOperands(label: label, current: height - 1)
                if branch.isReturn {
                    emitRaw(0)
                    emitRaw(UInt64.max)
                } else {
                    emitRaw(branch.packed | 1)  // bit 0 marks a real branch
                    appendTarget(label: label)
                }
            }
        case .return: emit(.return)
        case .call(let function): emit(.call, UInt64(function))
        case .callIndirect(let type, let table): emit(.callIndirect, UInt64(table) | UInt64(type) << 24)
        case .drop: emit(.drop)
        case .select, .typedSelect: emit(.select)
        case .localGet(let index): emit(.localGet, UInt64(index))
        case .localSet(let index): emit(.localSet, UInt64(index))
        case .localTee(let index): emit(.localTee, UInt64(index))
        case .globalGet(let index): emit(.globalGet, UInt64(index))
        case .globalSet(let index): emit(.globalSet, UInt64(index))
        case .load(let kind, let memarg):
            guard let op = Self.numericOps["\(kind)"] else { throw .unsupported(.simd) }
            emit(op)
            emitRaw(memarg.offset)
        case .store(let kind, let memarg):
            guard let op = Self.numericOps["\(kind)"] else { throw .unsupported(.simd) }
            emit(op)
            emitRaw(memarg.offset)
        case .memorySize: emit(.memorySize)
        case .memoryGrow: emit(.memoryGrow)
        case .i32Const(let value): emit(.i32Const, UInt64(UInt32(bitPattern: value)) << 24)
        case .i64Const(let value):
            emit(.i64Const)
            emitRaw(UInt64(bitPattern: value))
        case .f32Const(let value): emit(.i32Const, UInt64(value.bitPattern) << 24)
        case .f64Const(let value):
            emit(.i64Const)
            emitRaw(value.bitPattern)
        case .refNull: emit(.i32Const, 0)
        case .refIsNull: emit(.i64Eqz)
        case .refFunc(let function): emit(.refFunc, UInt64(function))
        case .i32Eqz: emit(.i32Eqz)
        case .i64Eqz: emit(.i64Eqz)
        case .cmp(let op): try emitNumeric("\(op)")
        case .unary(let op): try emitNumeric("\(op)")
        case .binary(let op): try emitNumeric("\(op)")
        case .conversion(let op):
            switch op {
            case .i32ReinterpretF32, .i64ReinterpretF64, .f32ReinterpretI32, .f64ReinterpretI64:
                break  // same bits in a slot
            default:
                try emitNumeric("\(op)")
            }
        case .memoryInit(let data, _): emit(.memoryInit, UInt64(data))
        case .dataDrop(let data): emit(.dataDrop, UInt64(data))
        case .memoryCopy: emit(.memoryCopy)
        case .memoryFill: emit(.memoryFill)
        case .tableInit(let element, let table): emit(.tableInit, UInt64(element) | UInt64(table) << 24)
        case .elemDrop(let element): emit(.elemDrop, UInt64(element))
        case .tableCopy(let destination, let source): emit(.tableCopy, UInt64(destination) | UInt64(source) << 24)
        case .tableFill(let table): emit(.tableFill, UInt64(table))
        case .tableGet(let table): emit(.tableGet, UInt64(table))
        case .tableSet(let table): emit(.tableSet, UInt64(table))
        case .tableGrow(let table): emit(.tableGrow, UInt64(table))
        case .tableSize(let table): emit(.tableSize, UInt64(table))
        default:
            throw WasmValidationError(.unsupported, "instruction \(instruction) is beyond WebAssembly 2.0")
        }
    }

    mutating func emitNumeric(_ name: String) throws(WasmValidationError) {
        guard let op = Self.numericOps[name] else {
            throw WasmValidationError(.unsupported, "instruction \(name) is beyond WebAssembly 2.0")
        }
        emit(op)
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

    public init(bytes: [UInt8]) throws(WasmValidationError) {
        self.bytes = bytes
        let validated = try validate(module: bytes)
        self.validated = validated
        var functions: [FunctionCode] = []
        var all: [UInt64] = []
        for function in validated.functions {
            let code = try Translator.translate(function: function, context: validated.context)
            functions.append(code)
            all.append(UInt64(code.count))
            all.append(contentsOf: UnsafeBufferPointer(start: code.words, count: code.count))
        }
        self.functions = functions
        codeChecksum = all.withUnsafeBytes { CRC32C.checksum($0) }
    }
}
