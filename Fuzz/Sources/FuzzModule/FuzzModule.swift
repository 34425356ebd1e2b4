import PhantomWasm

/// Fuzzes decoding and validating a WebAssembly module: any input must be
/// accepted or rejected with an error, never crash the host.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModule(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? validate(module: Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
