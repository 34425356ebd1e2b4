/// Type-checks one function body, instruction by instruction, following
/// "Appendix › Validation Algorithm" (operand stack with `Unknown`, control frames
/// with an `unreachable` flag and a height).
///
/// It is an `InstructionVisitor`, so WasmParser's `ExpressionParser` can drive it; a
/// translator can drive it too, calling the same `visit…` method before emitting code
/// for an instruction and reading `values` and `controls` afterwards, which then
/// describe the state after that instruction. The per-instruction rules live in
/// extensions by family (Control, Variable, Memory, Numeric, Reference, Table);
/// `Unsupported.swift` refuses everything beyond WebAssembly 2.0.
public struct FunctionValidator: AnyInstructionVisitor {
    public typealias VisitorError = WasmValidationError

    public let context: ModuleContext
    /// Index in the function index space (imports included).
    public let functionIndex: Int
    public let type: FunctionType
    /// Parameters followed by declared locals.
    public let locals: [ValueType]
    public private(set) var values = ValueStack()
    public private(set) var controls = ControlStack()
    /// Offset of the instruction being visited; set by `ExpressionParser.Visit`.
    public var binaryOffset: Int = 0
    /// True once the `end` closing the function body has been visited.
    public var isFinished: Bool { controls.isEmpty }

    public init(context: ModuleContext, functionIndex: Int, type: FunctionType, declaredLocals: [ValueType], bodyOffset: Int)
        throws(WasmValidationError)
    {
        self.context = context
        self.functionIndex = functionIndex
        self.type = type
        for local in declaredLocals {
            do { try checkSupported(local) } catch { throw error.at(offset: bodyOffset, function: functionIndex) }
        }
        self.locals = type.parameters + declaredLocals
        controls.push(ControlFrame(kind: .function, startTypes: [], endTypes: type.results, height: 0, offset: bodyOffset))
    }

    /// Validates a whole body as parsed by WasmParser.
    public mutating func validate(_ code: Code) throws(WasmValidationError) {
        var parser = ExpressionParser(code: code)
        while true {
            let visit: ExpressionParser.Visit?
            do {
                visit = try parser.parse()
            } catch {
                throw WasmValidationError(parserError: error, fallbackOffset: parser.offset, functionIndex: functionIndex)
            }
            guard let visit else { break }
            guard !isFinished else {
                throw WasmValidationError(
                    .malformed, "instructions after the end of the function body (END opcode expected)",
                    offset: binaryOffset, functionIndex: functionIndex)
            }
            do {
                try visit(visitor: &self)
            } catch {
                throw error.at(offset: binaryOffset, function: functionIndex)
            }
        }
        guard isFinished else {
            throw WasmValidationError(
                .malformed, "unexpected end of function body (END opcode expected)",
                offset: parser.offset, functionIndex: functionIndex)
        }
    }

    /// Fallback for every instruction no family extension handles: all of them belong
    /// to proposals beyond WebAssembly 2.0.
    public mutating func visit(_ instruction: Instruction) throws(WasmValidationError) {
        throw unsupported(instruction)
    }
}

// MARK: - Operand stack operations ("Appendix › Validation Algorithm")

extension FunctionValidator {
    mutating func push(_ type: ValueType?) {
        values.push(type)
    }

    mutating func push(_ types: [ValueType]) {
        values.push(types)
    }

    mutating func pop() throws(WasmValidationError) -> ValueType? {
        let frame = controls.frames[controls.depth - 1]
        if values.height == frame.height {
            if frame.unreachable { return nil }
            throw .invalid("type mismatch: expected a value, but the stack is empty")
        }
        return values.popLast()
    }

    /// Pops an operand of type `expected`; returns what was actually there (`nil` for
    /// Unknown), which `br_table` pushes back.
    @discardableResult
    mutating func pop(_ expected: ValueType?) throws(WasmValidationError) -> ValueType? {
        let frame = controls.frames[controls.depth - 1]
        if values.height == frame.height {
            if frame.unreachable { return nil }
            throw .invalid("type mismatch: expected \(typeName(expected)), but the stack is empty")
        }
        let actual = values.popLast()
        if let actual, let expected, actual != expected {
            throw .invalid("type mismatch: expected \(typeName(expected)), found \(typeName(actual))")
        }
        return actual
    }

    mutating func pop(_ expected: [ValueType]) throws(WasmValidationError) {
        for type in expected.reversed() { try pop(type) }
    }

    mutating func pushFrame(_ kind: ControlFrame.Kind, start: [ValueType], end: [ValueType]) {
        controls.push(ControlFrame(kind: kind, startTypes: start, endTypes: end, height: values.height, offset: binaryOffset))
        push(start)
    }

    mutating func popFrame() throws(WasmValidationError) -> ControlFrame {
        guard let frame = controls.innermost else { throw .invalid("unexpected end: no open block") }
        try pop(frame.endTypes)
        guard values.height == frame.height else {
            let extra = values.height - frame.height
            throw .invalid("type mismatch: \(extra) value\(extra == 1 ? "" : "s") left on the stack at the end of the block")
        }
        return controls.pop()
    }

    mutating func markUnreachable() {
        values.truncate(to: controls.frames[controls.depth - 1].height)
        controls.markInnermostUnreachable()
    }

    /// The `[t1*] -> [t2*]` a block type abbreviates ("Validation › Types › Block Types").
    func blockSignature(_ blockType: BlockType) throws(WasmValidationError) -> FunctionType {
        switch blockType {
        case .empty:
            return FunctionType(parameters: [], results: [])
        case .type(let type):
            try checkSupported(type)
            return FunctionType(parameters: [], results: [type])
        case .funcType(let index):
            return try context.type(index)
        }
    }
}
