import PhantomSpace

extension WASIState {
    /// Frees every block of the state: the program it served has ended and
    /// its component is being retired (`WasmEngine.retire`). Host descriptors
    /// are the `WASI` object's and close when it goes; this frees only the
    /// records in the space. Afterwards `offset` names nothing.
    public func release() {
        // Every open descriptor's path string, then the table itself.
        let capacity = descriptorCapacity
        for fd in 0..<capacity { descriptor(fd).clear() }
        space.free(space.load(UInt64.self, at: offset + Field.fdTable), byteCount: Int(capacity) * WASIDescriptor.size)
        let preopens = preopenCount
        let table = space.load(UInt64.self, at: offset + Field.preopenTable)
        for index in 0..<UInt64(preopens) {
            let entry = table + index * WASIState.preopenEntrySize
            space.free(space.load(UInt64.self, at: entry), byteCount: max(Int(space.load(UInt32.self, at: entry + 8)), 1))
            space.free(space.load(UInt64.self, at: entry + 16), byteCount: max(Int(space.load(UInt32.self, at: entry + 24)), 1))
        }
        space.free(table, byteCount: max(1, Int(preopens)) * Int(WASIState.preopenEntrySize))
        space.free(space.load(UInt64.self, at: offset + Field.argsBlob), byteCount: max(Int(space.load(UInt64.self, at: offset + Field.argsLength)), 1))
        space.free(space.load(UInt64.self, at: offset + Field.envBlob), byteCount: max(Int(space.load(UInt64.self, at: offset + Field.envLength)), 1))
        space.free(offset, byteCount: WASIState.headerSize)
    }
}
