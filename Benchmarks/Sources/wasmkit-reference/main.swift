// Runs a WASI command module on WasmKit 0.4.2 (its library, default engine
// configuration), the way `wasmkit run` does: the reference for
// Phantom's engine. Usage: wasmkit-reference MODULE.wasm [ARGS...]
import Foundation
import WasmKit
import WasmKitWASI

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: wasmkit-reference MODULE.wasm [ARGS...]\n".utf8))
    exit(2)
}
do {
    let module = try parseWasm(filePath: arguments[1])
    let wasi = try WASIBridgeToHost(args: Array(arguments[1...]), environment: [:], preopens: [:])
    let store = Store(engine: Engine())
    var imports = Imports()
    wasi.link(to: &imports, store: store)
    let instance = try module.instantiate(store: store, imports: imports)
    let code = try wasi.start(instance)
    exit(Int32(truncatingIfNeeded: code))
} catch {
    FileHandle.standardError.write(Data("wasmkit-reference: \(error)\n".utf8))
    exit(1)
}
