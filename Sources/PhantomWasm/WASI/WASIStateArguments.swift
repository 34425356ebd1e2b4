extension WASIState {
    /// The program's argv as stored (argv[0] first): the kernel reads it when
    /// it adopts a program an older `phantom run` stored (`LegacyProgram`).
    public var arguments: [String] {
        argsBlob.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }
}
