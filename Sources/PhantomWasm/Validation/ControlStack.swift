/// A control frame of "Appendix › Validation Algorithm": one structured instruction
/// (or the function body itself) whose `end` has not been reached yet.
public struct ControlFrame: Sendable {
    public enum Kind: Sendable, Equatable {
        case function, block, loop, `if`, `else`
    }

    public let kind: Kind
    public let startTypes: [ValueType]
    public let endTypes: [ValueType]
    /// Operand stack height when the frame was entered (after its parameters were popped).
    public let height: Int
    /// Set after an unconditional branch: the rest of the frame is unreachable and its
    /// operand stack is polymorphic.
    public internal(set) var unreachable = false
    /// Byte offset of the instruction that opened the frame.
    public let offset: Int

    /// The types a branch to this frame carries ("Validation › Instructions › Control",
    /// label types): a loop's branch goes back to its start.
    public var labelTypes: [ValueType] {
        kind == .loop ? startTypes : endTypes
    }
}

/// The stack of open control frames; the innermost is last. Label index `n` in a
/// branch names `frames[frames.count - 1 - n]`.
public struct ControlStack: Sendable {
    public private(set) var frames: [ControlFrame] = []
    /// Deepest nesting reached, the function frame included.
    public private(set) var maximumDepth = 0

    public var depth: Int { frames.count }
    public var isEmpty: Bool { frames.isEmpty }
    public var innermost: ControlFrame? { frames.last }

    /// The frame a branch with relative depth `label` targets.
    public func frame(forLabel label: UInt32) throws(WasmValidationError) -> ControlFrame {
        guard Int(label) < frames.count else { throw .invalid("unknown label \(label)") }
        return frames[frames.count - 1 - Int(label)]
    }

    mutating func push(_ frame: ControlFrame) {
        frames.append(frame)
        maximumDepth = max(maximumDepth, frames.count)
    }

    mutating func pop() -> ControlFrame {
        frames.removeLast()
    }

    mutating func markInnermostUnreachable() {
        frames[frames.count - 1].unreachable = true
    }
}
