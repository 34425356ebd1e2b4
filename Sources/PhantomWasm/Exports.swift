// The validated module is described with WasmKit's parser types (function types,
// imports, segments, `Code`), so clients of PhantomWasm get them with one import.
@_exported import WasmParser
@_exported import WasmTypes
