/// Integer-stack arithmetic under the type prefixes. Operand order follows
/// Phantom's VM: it pops "u" (the top) first, then "l"; `isubul` is u − l and
/// `isublu` is l − u (the compiler's `a - b`), likewise for division and
/// remainder. Comparisons push (l OP u) as an int whatever the prefix.
/// Integer overflow wraps; division by zero throws (C leaves it undefined).
extension Interpreter {
    private enum Pair {
        case int(Int32, Int32)
        case long(Int64, Int64)
        case float(Float, Float)
        case double(Double, Double)
    }

    /// Pops (u, l) as the prefix says.
    private func popPair(_ prefix: Prefix) throws(Interruption) -> Pair {
        switch prefix {
        case .none:
            let u = try popInt(); let l = try popInt()
            return .int(u, l)
        case .long:
            let u = Int64(bitPattern: try popWide()); let l = Int64(bitPattern: try popWide())
            return .long(u, l)
        case .float:
            let u = Float(bitPattern: UInt32(bitPattern: try popInt())); let l = Float(bitPattern: UInt32(bitPattern: try popInt()))
            return .float(u, l)
        case .double:
            let u = Double(bitPattern: try popWide()); let l = Double(bitPattern: try popWide())
            return .double(u, l)
        }
    }

    func arithmetic(_ opcode: Opcode, _ prefix: Prefix) throws(Interruption) {
        // Which operand is the left one: "ul" ops compute u OP l.
        let upperFirst = opcode == .isubul || opcode == .idivul || opcode == .iremul
        if prefix == .none {
            // The common case, without the typed pair.
            let u = try popInt(), l = try popInt()
            try pushInt(try integer(opcode, upperFirst ? u : l, upperFirst ? l : u))
            return
        }
        switch try popPair(prefix) {
        case let .int(u, l):
            try pushInt(try integer(opcode, upperFirst ? u : l, upperFirst ? l : u))
        case let .long(u, l):
            try pushWide(UInt64(bitPattern: try integer(opcode, upperFirst ? u : l, upperFirst ? l : u)))
        case let .float(u, l):
            let (a, b) = upperFirst ? (u, l) : (l, u)
            try pushInt(Int32(bitPattern: Self.apply(opcode, a, b).bitPattern))
        case let .double(u, l):
            let (a, b) = upperFirst ? (u, l) : (l, u)
            try pushWide(Self.apply(opcode, a, b).bitPattern)
        }
    }

    /// `a OP b` for int and long: wrapping, division by zero thrown, the
    /// one overflowing division (MIN / −1) wrapping too.
    @inline(__always)
    private func integer<T: FixedWidthInteger & SignedInteger>(_ opcode: Opcode, _ a: T, _ b: T) throws(Interruption) -> T {
        switch opcode {
        case .isum: return a &+ b
        case .imul: return a &* b
        case .isubul, .isublu: return a &- b
        default:
            guard b != 0 else { throw try fail("division by zero") }
            let isDivision = opcode == .idivul || opcode == .idivlu
            return isDivision ? a.dividedReportingOverflow(by: b).partialValue : a.remainderReportingOverflow(dividingBy: b).partialValue
        }
    }

    private static func apply<F: BinaryFloatingPoint>(_ opcode: Opcode, _ a: F, _ b: F) -> F {
        switch opcode {
        case .isum: a + b
        case .imul: a * b
        case .isubul, .isublu: a - b
        case .idivul, .idivlu: a / b
        default: a.truncatingRemainder(dividingBy: b)
        }
    }

    func comparison(_ opcode: Opcode, _ prefix: Prefix) throws(Interruption) {
        let result: Bool
        switch try popPair(prefix) {
        case let .int(u, l): result = Self.compare(opcode, l, u)
        case let .long(u, l): result = Self.compare(opcode, l, u)
        case let .float(u, l): result = Self.compare(opcode, l, u)
        case let .double(u, l): result = Self.compare(opcode, l, u)
        }
        try pushInt(result ? 1 : 0)
    }

    private static func compare<T: Comparable>(_ opcode: Opcode, _ l: T, _ u: T) -> Bool {
        switch opcode {
        case .ige: l >= u
        case .ile: l <= u
        case .igt: l > u
        default: l < u
        }
    }

    /// Bitwise, logical and shift operations: int, or long under `prefix_long`.
    /// Shifts pop the value (top) first, then the count, as Phantom's VM does.
    func bitwise(_ opcode: Opcode, _ prefix: Prefix) throws(Interruption) {
        switch prefix {
        case .float, .double:
            throw try fail("invalid float op \(opcode.mnemonic)")
        case .long:
            if opcode == .ishl || opcode == .ishr || opcode == .ushr {
                let value = Int64(bitPattern: try popWide())
                let count = Int64(try popInt()) & 63
                let result = opcode == .ishl ? value << count : opcode == .ishr ? value >> count : Int64(bitPattern: UInt64(bitPattern: value) >> UInt64(count))
                try pushWide(UInt64(bitPattern: result))
                return
            }
            let u = try popWide(); let l = try popWide()
            let result: UInt64
            switch opcode {
            case .ior: result = l | u
            case .iand: result = l & u
            case .ixor: result = l ^ u
            case .log_or: result = (l != 0 || u != 0) ? 1 : 0
            case .log_and: result = (l != 0 && u != 0) ? 1 : 0
            default: result = ((l != 0) != (u != 0)) ? 1 : 0
            }
            if opcode == .log_or || opcode == .log_and || opcode == .log_xor { try pushInt(Int32(result)) }
            else { try pushWide(result) }
        case .none:
            if opcode == .ishl || opcode == .ishr || opcode == .ushr {
                let value = try popInt()
                let count = try popInt() & 31
                let result = opcode == .ishl ? value << count : opcode == .ishr ? value >> count : Int32(bitPattern: UInt32(bitPattern: value) >> UInt32(count))
                try pushInt(result)
                return
            }
            let u = try popInt(); let l = try popInt()
            let result: Int32
            switch opcode {
            case .ior: result = l | u
            case .iand: result = l & u
            case .ixor: result = l ^ u
            case .log_or: result = (l != 0 || u != 0) ? 1 : 0
            case .log_and: result = (l != 0 && u != 0) ? 1 : 0
            default: result = ((l != 0) != (u != 0)) ? 1 : 0
            }
            try pushInt(result)
        }
    }

    func negation(_ opcode: Opcode, _ prefix: Prefix) throws(Interruption) {
        switch prefix {
        case .float, .double: throw try fail("invalid float op \(opcode.mnemonic)")
        case .long:
            let value = try popWide()
            if opcode == .inot { try pushWide(~value) } else { try pushInt(value == 0 ? 1 : 0) }
        case .none:
            let value = try popInt()
            try pushInt(opcode == .inot ? ~value : value == 0 ? 1 : 0)
        }
    }

    /// `from<x>` converts the value on the integer stack from type x to the
    /// prefix's type (int without a prefix); `from<same>` changes nothing.
    func convert(from opcode: Opcode, to prefix: Prefix) throws(Interruption) {
        enum Value { case int(Int32), long(Int64), float(Float), double(Double) }
        let value: Value
        switch opcode {
        case .fromi: value = .int(try popInt())
        case .froml: value = .long(Int64(bitPattern: try popWide()))
        case .fromf: value = .float(Float(bitPattern: UInt32(bitPattern: try popInt())))
        default: value = .double(Double(bitPattern: try popWide()))
        }
        switch prefix {
        case .none:
            switch value {
            case let .int(v): try pushInt(v)
            case let .long(v): try pushInt(Int32(truncatingIfNeeded: v))
            case let .float(v): try pushInt(Self.truncate(Double(v), Int32.self))
            case let .double(v): try pushInt(Self.truncate(v, Int32.self))
            }
        case .long:
            let result: Int64
            switch value {
            case let .int(v): result = Int64(v)
            case let .long(v): result = v
            case let .float(v): result = Self.truncate(Double(v), Int64.self)
            case let .double(v): result = Self.truncate(v, Int64.self)
            }
            try pushWide(UInt64(bitPattern: result))
        case .float:
            let result: Float
            switch value {
            case let .int(v): result = Float(v)
            case let .long(v): result = Float(v)
            case let .float(v): result = v
            case let .double(v): result = Float(v)
            }
            try pushInt(Int32(bitPattern: result.bitPattern))
        case .double:
            let result: Double
            switch value {
            case let .int(v): result = Double(v)
            case let .long(v): result = Double(v)
            case let .float(v): result = Double(v)
            case let .double(v): result = v
            }
            try pushWide(result.bitPattern)
        }
    }

    /// Float to integer as Java does it (Phantom's language is Java-like):
    /// NaN is 0, out-of-range values saturate, never a trap.
    private static func truncate<I: FixedWidthInteger>(_ value: Double, _: I.Type) -> I {
        if value.isNaN { return 0 }
        if value >= Double(I.max) { return I.max }
        if value <= Double(I.min) { return I.min }
        return I(value.rounded(.towardZero))
    }

    /// `i2o`: the integer-stack value as an object of the prefix's type.
    func box(_ prefix: Prefix) throws(Interruption) -> ObjectRef {
        switch prefix {
        case .none: let v = try popInt(); return try heapOp { () throws(VMError) in try heap.makeInt(v) }
        case .long: let v = Int64(bitPattern: try popWide()); return try heapOp { () throws(VMError) in try heap.makeLong(v) }
        case .float: let v = Float(bitPattern: UInt32(bitPattern: try popInt())); return try heapOp { () throws(VMError) in try heap.makeFloat(v) }
        case .double: let v = Double(bitPattern: try popWide()); return try heapOp { () throws(VMError) in try heap.makeDouble(v) }
        }
    }

    /// `o2i`: an object's value onto the integer stack, as the prefix's type.
    func unbox(_ object: ObjectRef, _ prefix: Prefix) throws(Interruption) {
        switch prefix {
        case .none:
            guard let value = heap.intValue(object) else { throw try fail("o2i: \(describe(object)) is not an int") }
            try pushInt(value)
        case .long:
            guard let value = heap.longValue(object) else { throw try fail("o2i: \(describe(object)) is not a long") }
            try pushWide(UInt64(bitPattern: value))
        case .float:
            guard let value = heap.floatValue(object) else { throw try fail("o2i: \(describe(object)) is not a float") }
            try pushInt(Int32(bitPattern: value.bitPattern))
        case .double:
            guard let value = heap.doubleValue(object) else { throw try fail("o2i: \(describe(object)) is not a double") }
            try pushWide(value.bitPattern)
        }
    }
}
