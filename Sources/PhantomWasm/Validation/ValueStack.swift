/// The operand stack of "Appendix › Validation Algorithm": the types of the values an
/// instruction sequence has pushed so far. `nil` is the algorithm's `Unknown`, the
/// type of an operand popped from the polymorphic stack after an unconditional branch.
public struct ValueStack: Sendable {
    public private(set) var operands: [ValueType?] = []
    /// Largest height reached; a translator sizes its frame from it.
    public private(set) var maximumHeight = 0

    public var height: Int { operands.count }

    mutating func push(_ operand: ValueType?) {
        operands.append(operand)
        maximumHeight = max(maximumHeight, operands.count)
    }

    mutating func push(_ types: [ValueType]) {
        for type in types { push(type) }
    }

    mutating func popLast() -> ValueType? {
        operands.removeLast()
    }

    mutating func truncate(to height: Int) {
        operands.removeLast(operands.count - height)
    }
}
