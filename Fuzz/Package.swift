// swift-tools-version:6.3
import PackageDescription

/// libFuzzer targets for Phantom's parsers, kept apart from the main build.
/// SwiftPM builds each as a static library with fuzzer instrumentation;
/// run.sh links it with libFuzzer's own main. See run.sh.
let package = Package(
    name: "PhantomFuzz",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FuzzImage", type: .static, targets: ["FuzzImage"]),
        .library(name: "FuzzModule", type: .static, targets: ["FuzzModule"]),
        .library(name: "FuzzRestore", type: .static, targets: ["FuzzRestore"]),
        .library(name: "FuzzConfig", type: .static, targets: ["FuzzConfig"]),
        .library(name: "FuzzClassFile", type: .static, targets: ["FuzzClassFile"]),
        .library(name: "FuzzInterpreter", type: .static, targets: ["FuzzInterpreter"]),
    ],
    dependencies: [
        .package(name: "Phantom", path: ".."),
        .package(url: "https://github.com/swiftwasm/WasmKit", exact: "0.4.2"),
    ],
    targets: [
        .target(name: "FuzzImage", dependencies: [.product(name: "PhantomStore", package: "Phantom")]),
        .target(name: "FuzzModule", dependencies: [
            .product(name: "PhantomWasm", package: "Phantom"), .product(name: "PhantomSpace", package: "Phantom"),
            .product(name: "PhantomStore", package: "Phantom"), .product(name: "WasmParser", package: "WasmKit"),
        ]),
        .target(name: "FuzzRestore", dependencies: [
            .product(name: "PhantomWasm", package: "Phantom"), .product(name: "PhantomSpace", package: "Phantom"),
            .product(name: "PhantomStore", package: "Phantom"), .product(name: "WAT", package: "WasmKit"),
        ]),
        .target(name: "FuzzConfig", dependencies: [.product(name: "PhantomKernel", package: "Phantom")]),
        .target(name: "FuzzClassFile", dependencies: [.product(name: "PhantomVM", package: "Phantom")]),
        .target(name: "FuzzInterpreter", dependencies: [
            .product(name: "PhantomVM", package: "Phantom"), .product(name: "PhantomSpace", package: "Phantom"),
            .product(name: "PhantomStore", package: "Phantom"),
        ]),
    ]
)
