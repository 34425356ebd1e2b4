/// Instructions of proposals beyond WebAssembly 2.0, named by feature.
func unsupported(_ instruction: Instruction) -> WasmValidationError {
    switch instruction {
    case .throw, .throwRef, .tryTable:
        return .unsupported(.exceptions)
    case .returnCall, .returnCallIndirect, .returnCallRef:
        return .unsupported(.tailCalls)
    case .callRef, .refAsNonNull, .brOnNull, .brOnNonNull:
        return .unsupported(.functionReferences)
    case .v128Const, .i8x16Shuffle, .simd, .simdLane, .simdMemLane:
        return .unsupported(.simd)
    case .atomicFence, .memoryAtomicNotify, .memoryAtomicWait32, .memoryAtomicWait64:
        return .unsupported(.threads)
    case .refI31, .i31GetS, .i31GetU, .structNew, .structNewDefault, .structGet, .structGetS, .structGetU,
        .structSet, .arrayNew, .arrayNewDefault, .arrayNewFixed, .arrayGet, .arrayGetS, .arrayGetU, .arraySet,
        .arrayLen, .refEq, .anyConvertExtern, .externConvertAny, .arrayNewData, .arrayNewElem, .arrayFill,
        .arrayCopy, .arrayInitData, .arrayInitElem, .refTest, .refCast, .brOnCast, .brOnCastFail:
        return .unsupported(.gc)
    default:
        let name = "\(instruction)"
        if name.contains("Atomic") { return .unsupported(.threads) }
        return WasmValidationError(.unsupported, "instruction \(name) is not supported")
    }
}
