// swift-tools-version:6.3
import PackageDescription

/// Benchmark references, kept apart from the main build so `swift test`
/// never builds them: WasmKit 0.4.2 used as a library, the reference the
/// Wasm engine is measured against. See run.sh and ../docs/BENCHMARKS.md.
let package = Package(
    name: "PhantomBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/swiftwasm/WasmKit", exact: "0.4.2"),
    ],
    targets: [
        .executableTarget(
            name: "wasmkit-reference",
            dependencies: [
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "WasmKitWASI", package: "WasmKit"),
            ]
        ),
    ]
)
