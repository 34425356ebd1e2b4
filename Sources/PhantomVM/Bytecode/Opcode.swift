/// The Phantom VM's instruction set, declared once: the disassembler, the
/// assembler and the interpreter all derive what an instruction looks like
/// from this table (compare WasmKit's `VMSpec`).
///
/// Case names are Phantom's own mnemonics (`phantom/vm/ids/opcode_ids.definitions`,
/// without the `opcode_` prefix) so that our listings read like the ones
/// Phantom's compiler writes (`.lstc`) and can be compared line by line.
///
/// Two generations of the table exist. The current one (127 opcodes) dropped
/// the one-byte `sys_0`…`sys_F` shortcuts, because a restartable `sys` must
/// have a fixed size (the instruction pointer is rewound onto it), and added
/// `arg_count`. We decode both; the shortcuts run as the `sys_8bit` they stand for.
public enum Opcode: UInt8, CaseIterable, Sendable {
    case nop = 0x00
    case debug = 0x01
    case djnz = 0x04
    case jz = 0x05
    case jmp = 0x06
    case `switch` = 0x07
    case ret = 0x08
    case short_call_0 = 0x09, short_call_1 = 0x0A, short_call_2 = 0x0B, short_call_3 = 0x0C
    case call_8bit = 0x0D
    case call_32bit = 0x0E
    case sys_8bit = 0x0F

    case is_dup = 0x10
    case is_drop = 0x11
    case os_dup = 0x12
    case os_drop = 0x13
    case os_load8 = 0x14
    case os_save8 = 0x15
    case os_load32 = 0x16
    case os_save32 = 0x17
    case new = 0x18
    case copy = 0x19
    case os_compose32 = 0x1A
    case os_decompose = 0x1B
    case os_pull32 = 0x1C
    case os_get32 = 0x1E
    case os_set32 = 0x1F

    case iconst_0 = 0x20
    case iconst_1 = 0x21
    case iconst_8bit = 0x22
    case iconst_32bit = 0x23
    case sconst_bin = 0x24
    case iconst_64bit = 0x25
    case is_get32 = 0x26
    case is_set32 = 0x27
    case const_pool = 0x28
    case stack_reserve = 0x29
    case cast = 0x2B
    case push_catcher = 0x2D
    case pop_catcher = 0x2E
    case `throw` = 0x2F

    case summon_thread = 0x30
    case summon_this = 0x31
    case summon_null = 0x37
    case summon_class_class = 0x38
    case summon_int_class = 0x39
    case summon_string_class = 0x3A
    case summon_interface_class = 0x3B
    case summon_code_class = 0x3C
    case summon_array_class = 0x3D
    case summon_by_name = 0x3F

    case i2o = 0x40
    case o2i = 0x41
    case isum = 0x42
    case imul = 0x43
    case isubul = 0x44
    case isublu = 0x45
    case idivul = 0x46
    case idivlu = 0x47
    case ior = 0x48
    case iand = 0x49
    case ixor = 0x4A
    case inot = 0x4B
    case log_or = 0x4C
    case log_and = 0x4D
    case log_xor = 0x4E
    case log_not = 0x4F

    case is_load8 = 0x50
    case is_save8 = 0x51
    case ige = 0x52
    case ile = 0x53
    case igt = 0x54
    case ilt = 0x55
    case iremul = 0x56
    case iremlu = 0x57
    case os_eq = 0x58
    case os_neq = 0x59
    case os_isnull = 0x5A
    case prefix_long = 0x5C
    case prefix_float = 0x5D
    case prefix_double = 0x5E

    case general_lock = 0x62
    case general_unlock = 0x63
    case static_invoke = 0x6E
    case dynamic_invoke = 0x6F
    case ishl = 0x70
    case ishr = 0x71
    case ushr = 0x72
    case arg_count = 0x73
    case fromi = 0x74
    case froml = 0x75
    case fromf = 0x76
    case fromd = 0x77

    case sys_0 = 0x80, sys_1, sys_2, sys_3, sys_4, sys_5, sys_6, sys_7
    case sys_8, sys_9, sys_A, sys_B, sys_C, sys_D, sys_E, sys_F

    case call_00 = 0xA0, call_01, call_02, call_03, call_04, call_05, call_06, call_07
    case call_08, call_09, call_0A, call_0B, call_0C, call_0D, call_0E, call_0F
    case call_10, call_11, call_12, call_13, call_14, call_15, call_16, call_17
    case call_18, call_19, call_1A, call_1B, call_1C, call_1D, call_1E, call_1F
}

/// What follows an opcode byte in the code. Integers are big-endian
/// (`phantom/vm/code.c`); a string is an int32 byte count and the bytes.
public enum OperandKind: Sendable, Equatable {
    /// One unsigned byte.
    case u8
    case i32
    case i64
    case string
    /// A jump displacement: the target is the offset of this field plus its
    /// value, not the offset of the instruction (Phantom's `get_rel_IP_as_abs`).
    case rel32
    /// `switch`: int32 count n, int32 shift, int32 divisor, then n rel32 entries.
    case switchTable
    /// `debug`: a flags byte, followed by a string when bit 7 is set.
    case debugInfo
}

extension Opcode {
    /// Every byte's opcode, nil where the table has none: the interpreter's
    /// decode, a load instead of the search `init(rawValue:)` compiles to
    /// for an enum with gaps.
    static let byByte: [Opcode?] = (0...255).map { Opcode(rawValue: UInt8($0)) }

    /// The mnemonic as Phantom spells it.
    public var mnemonic: String { String(describing: self) }

    /// The opcode a mnemonic names (for the assembler).
    public static let byMnemonic: [String: Opcode] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.mnemonic, $0) })

    /// The operands in the order they follow the opcode byte.
    public var operands: [OperandKind] {
        switch self {
        case .debug: [.debugInfo]
        case .djnz, .jz, .jmp, .push_catcher: [.rel32]
        case .switch: [.switchTable]
        case .call_8bit: [.u8, .i32]
        case .call_32bit, .static_invoke: [.i32, .i32]
        case .sys_8bit, .os_load8, .os_save8, .iconst_8bit, .is_load8, .is_save8, .arg_count: [.u8]
        case .os_load32, .os_save32, .os_compose32, .os_pull32, .os_get32, .os_set32,
             .iconst_32bit, .is_get32, .is_set32, .const_pool: [.i32]
        case .iconst_64bit: [.i64]
        case .sconst_bin, .summon_by_name: [.string]
        case .stack_reserve: [.u8, .u8]
        default:
            isShortcutCall ? [.u8] : []
        }
    }

    /// `call_00`…`call_1F`: the method ordinal is the low five bits, the
    /// operand byte is the argument count.
    public var isShortcutCall: Bool { rawValue & 0xE0 == 0xA0 }

    /// The one-byte `sys_0`…`sys_F` of the first table generation.
    public var isLegacySys: Bool { rawValue & 0xF0 == 0x80 }

    /// Whether the current (post-2017) table has it: 127 opcodes.
    public var isInCurrentTable: Bool { !isLegacySys }

    /// Instructions after which execution does not fall through.
    public var endsBlock: Bool {
        switch self {
        case .jmp, .ret, .throw, .switch: true
        default: false
        }
    }
}
