import Foundation

/// Which frame layout and code the translator produces.
///
/// `standard` is the only one a real build uses. `alternate` exists **for tests
/// only**: it stands for "the translator of another release" — a different slot
/// assignment (no constant slots, two padding slots between the variables and
/// the frame header, so the header and every operand sit elsewhere) and every
/// fusion and deferral off (no superinstructions, no folded immediates, no
/// fused compare-and-branch, no retargeted `local.set`, a `copy` for every
/// `local.get`). An image saved under one layout must resume under the other
/// (DESIGN.md invariant 10; `docs/WASM-ENGINE.md`, "Resume points"), which is
/// what the tests of `ResumeStateTests` prove. It is slow; never use it for anything else.
///
/// Chosen per module (`WasmModule(bytes:layout:)`) and per restore
/// (`WasmEngine.restore(_:imports:layout:)`); both default to
/// `TranslationLayout.fromEnvironment`, which reads the test-only environment
/// variable `PHANTOM_WASM_TEST_LAYOUT` (`alternate`, else standard) once, so a
/// `phantom` process can be run under the alternate layout by a CLI test.
public enum TranslationLayout: UInt64, Sendable, CaseIterable {
    case standard = 1
    /// Test-only: see the type's documentation.
    case alternate = 2

    /// The layout named by `PHANTOM_WASM_TEST_LAYOUT` (test-only), standard without it.
    public static let fromEnvironment: TranslationLayout =
        ProcessInfo.processInfo.environment["PHANTOM_WASM_TEST_LAYOUT"] == "alternate" ? .alternate : .standard

    /// Whether the translator fuses instructions, folds constants, defers
    /// `local.get` and uses constant slots.
    var optimizes: Bool { self == .standard }

    /// Unused slots between the variables (and constant slots) and the frame header.
    var paddingSlots: Int { self == .standard ? 0 : 2 }
}
