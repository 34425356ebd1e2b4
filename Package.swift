// swift-tools-version:6.3
import Foundation
import PackageDescription

/// The scenario files of the kernel's tests are data the tests read at run
/// time (docs/SCENARIOS.md), not sources: excluded so that SwiftPM does not
/// warn about them. Listed when the manifest is evaluated.
let kernelScenarioFiles = ((try? FileManager.default.contentsOfDirectory(
    atPath: Context.packageDirectory + "/Tests/PhantomKernelTests/Scenarios")) ?? [])
    .filter { $0.hasSuffix(".scenario") }.sorted().map { "Scenarios/" + $0 }

/// Phantom: an orthogonally persistent, managed-code operating environment.
/// One module per layer; see docs/ARCHITECTURE.md and ../shared/DESIGN.md.
let package = Package(
    name: "Phantom",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "phantom", targets: ["phantom"]),
        .library(name: "PhantomStore", targets: ["PhantomStore"]),
        .library(name: "PhantomSpace", targets: ["PhantomSpace"]),
        .library(name: "PhantomWasm", targets: ["PhantomWasm"]),
        .library(name: "PhantomKernel", targets: ["PhantomKernel"]),
        .library(name: "PhantomVM", targets: ["PhantomVM"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftwasm/WasmKit", exact: "0.4.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Small C helpers for what Swift cannot express: hardware CRC32C.
        .target(name: "CPhantomSupport"),
        // The interpreter's tail-call threaded dispatch (Clang `musttail`; the work is Swift).
        .target(name: "CPhantomDispatch"),
        // The on-disk image: block devices, superblocks, page map, generations.
        .target(name: "PhantomStore", dependencies: ["CPhantomSupport"]),
        // The object space in RAM: pages, dirty tracking, safepoints, snapshots.
        .target(name: "PhantomSpace", dependencies: ["PhantomStore", "CPhantomSupport"]),
        // The engine contract: what the kernel and every engine share (threads in
        // fuel slices, waitables, traps, exits); no engine's types in it.
        .target(name: "PhantomEngine", dependencies: ["PhantomSpace"]),
        // The WebAssembly engine: decode (WasmKit's parser), validate; later translate and interpret.
        .target(
            name: "PhantomWasm",
            dependencies: ["PhantomSpace", "PhantomEngine", "CPhantomDispatch", .product(name: "WasmParser", package: "WasmKit")],
            path: "Sources/PhantomWasm",
            // Swift's LLVM function merging would fold the 255 dispatch handlers into one
            // with the opcode as a parameter, which breaks their `musttail` jumps
            // (and the point of having one handler per opcode). See PhantomDispatch.h.
            swiftSettings: [.unsafeFlags(["-Xfrontend", "-disable-llvm-merge-functions-pass", "-Xcc", "-Xclang", "-Xcc", "-mframe-pointer=none", "-Xcc", "-O2", "-Xcc", "-falign-functions=64", "-Xcc", "-fno-math-errno"])]
        ),
        // The Phantom VM: class files (`.pc`), bytecode, objects and threads in the object space.
        .target(name: "PhantomVM", dependencies: ["PhantomSpace", "PhantomStore", "PhantomEngine"],
                // The interpreter keeps its registers in a struct property of a class;
                // run-time exclusivity checks on every register access cost more than
                // the instruction itself. Accesses are confined to one thread (the VM's owner).
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        // Genode's init on the object space: components, sessions, routing,
        // quotas, the scheduler, the snapshot daemon, built-in services.
        .target(
            name: "PhantomKernel",
            dependencies: [
                "PhantomStore", "PhantomSpace", "PhantomEngine", "PhantomWasm", "PhantomVM",
                // The control channel (`Control/`): a Unix-domain socket served on one event loop.
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "phantom",
            dependencies: [
                "PhantomStore", "PhantomSpace", "PhantomWasm", "PhantomKernel", "PhantomVM", "CPhantomSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "PhantomStoreTests", dependencies: ["PhantomStore"]),
        .testTarget(name: "PhantomSpaceTests", dependencies: ["PhantomSpace", "PhantomStore"]),
        .testTarget(name: "PhantomKernelTests", dependencies: [
            "PhantomKernel", "PhantomEngine", "PhantomWasm", "PhantomSpace", "PhantomStore", "PhantomVM",
            .product(name: "WAT", package: "WasmKit"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ], exclude: kernelScenarioFiles),
        .testTarget(name: "PhantomCLITests", dependencies: ["PhantomStore", "PhantomSpace", "PhantomWasm", "phantom"]),
        .testTarget(name: "PhantomVMTests", dependencies: ["PhantomVM", "PhantomSpace", "PhantomStore"]),
        .testTarget(
            name: "PhantomWasmTests",
            dependencies: ["PhantomWasm", "PhantomSpace", "PhantomStore", .product(name: "WAT", package: "WasmKit")]
        ),
    ]
)
