// swift-tools-version: 6.0
import PackageDescription

/// Numeric targets are compiled optimized even in debug builds so `swift test` stays fast.
let optimizedInDebug: [SwiftSetting] = [
    .unsafeFlags(["-O", "-enforce-exclusivity=unchecked"], .when(configuration: .debug)),
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Backdrop",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "NN", targets: ["NN"]),
        .executable(name: "backdrop-bench", targets: ["backdrop-bench"]),
        .executable(name: "backdrop", targets: ["backdrop"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // AVX-512 and AVX2 + FMA convolution kernels and the log-softmax rows (chosen at run time); optimized in every configuration.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "TensorCore", dependencies: ["CBLAS", "CKernels", "CProcessControl"], swiftSettings: optimizedInDebug),
        .target(name: "NN", dependencies: ["TensorCore"], swiftSettings: optimizedInDebug),
        
        .systemLibrary(
            name: "CPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]
        ),
        .systemLibrary(
            name: "CJPEG",
            pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg62-turbo-dev"])]
        ),
        // JPEG decoding in C: libjpeg's error recovery needs setjmp/longjmp, which Swift cannot call.
        .target(name: "CJPEGDecode", dependencies: ["CJPEG"], cSettings: [.unsafeFlags(["-O2"])], linkerSettings: [.linkedLibrary("jpeg")]),
        .target(name: "ImageData", dependencies: ["CPNG", "CJPEGDecode", "TensorCore", .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: optimizedInDebug),
        .target(name: "Contrastive", dependencies: ["CKernels", "NN", "ImageData"], swiftSettings: optimizedInDebug),
        .target(name: "Evaluation", dependencies: ["NN", "ImageData"], swiftSettings: optimizedInDebug),
        .target(name: "ReferenceWorkloads", dependencies: ["Contrastive", "Evaluation", "NN"], swiftSettings: optimizedInDebug),
        .target(name: "Harness", dependencies: ["Contrastive", "Evaluation", "ImageData", "NN", "ResultsStore", "TensorCore", .product(name: "Yams", package: "Yams")], swiftSettings: optimizedInDebug),
        // The git commit and dirty flag of the build (generated before every build by the plugin).
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),
        .target(name: "BuildInfo", plugins: ["BuildInfoPlugin"]),
        // `--threads` for both executables (ArgumentParser glue over TensorCore's `ThreadSetting`).
        .target(name: "CommandLineOptions", dependencies: ["TensorCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "backdrop",
            dependencies: ["Harness", "BuildInfo", "CommandLineOptions", "ImageData", "ResultsStore", "Reports", "Export", "CProcessControl", "LocalWeb", "ResultsSite", "TensorCore",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: optimizedInDebug
        ),
        // prctl(PR_SET_PDEATHSIG) for the per-cell child processes (a variadic C call Swift cannot make) and
        // sched_getaffinity for the default thread count (Glibc in Swift does not expose it).
        .target(name: "CProcessControl"),
        .executableTarget(
            name: "backdrop-bench",
            dependencies: ["CommandLineOptions", "Contrastive", "ReferenceWorkloads", "TensorCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: optimizedInDebug
        ),

        // Helpers shared by the test targets: seeded test data, gradient checks, approximate equality,
        // temporary folders, the built executables, a test clock.
        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ReferenceWorkloadsTests", dependencies: ["ReferenceWorkloads", "Contrastive", "NN", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["backdrop", "backdrop-bench", "ResultsStore", "TensorCore", "TestSupport"]),
        .testTarget(name: "ContrastiveTests", dependencies: ["Contrastive", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "TestSupport"]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "ImageData", "Reports", "ResultsStore", "TestSupport"]),
        .testTarget(name: "ImageDataTests", dependencies: ["ImageData", "TestSupport"], resources: [.copy("Fixtures")]),
        .target(name: "ResultsStore", dependencies: [.product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Reports", dependencies: ["ResultsStore"]),
        // Export of an experiment to TensorBoard event files and an MLflow file store.
        .target(name: "Export", dependencies: ["ResultsStore"]),
        .testTarget(name: "ExportTests", dependencies: ["Export", "ResultsStore", "TestSupport"]),
        // A small GET-only HTTP/1.1 server over POSIX sockets (`backdrop serve`), and the read-only results site it serves.
        .target(name: "LocalWeb"),
        .target(name: "ResultsSite", dependencies: ["LocalWeb", "Reports", "ResultsStore"]),
        .testTarget(name: "ResultsStoreTests", dependencies: ["ResultsStore", "TestSupport"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "ResultsStore", "TestSupport"], exclude: ["Snapshots"]),
    ],
    swiftLanguageModes: [.v6]
)
