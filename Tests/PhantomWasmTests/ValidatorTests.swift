import Testing
import WAT
import PhantomWasm

@Suite struct ValidatorTests {
    @Test func acceptsAnAddFunction() throws {
        let bytes = try wat2wasm("(module (func (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))")
        let module = try validate(module: bytes)
        #expect(module.functions.count == 1)
    }
}
