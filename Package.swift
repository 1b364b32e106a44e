// swift-tools-version: 6.0
import PackageDescription

// LaueMap: Laue X-ray microdiffraction defect mapping.
// One library module per stage of the data flow (see docs/architecture.md);
// the `lauemap` executable is a thin command-line layer over them.
let package = Package(
    name: "LaueMap",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "LaueCore", targets: ["LaueCore"]),
        .library(name: "LaueIO", targets: ["LaueIO"]),
        .library(name: "LaueSimulation", targets: ["LaueSimulation"]),
        .library(name: "LauePeaks", targets: ["LauePeaks"]),
        .library(name: "LaueIndexing", targets: ["LaueIndexing"]),
        .library(name: "LaueDefects", targets: ["LaueDefects"]),
        .library(name: "LaueScan", targets: ["LaueScan"]),
        .library(name: "LaueRendering", targets: ["LaueRendering"]),
        .library(name: "LaueCluster", targets: ["LaueCluster"]),
        .library(name: "LaueXANES", targets: ["LaueXANES"]),
        .library(name: "LaueCorrelation", targets: ["LaueCorrelation"]),
        .library(name: "LaueReport", targets: ["LaueReport"]),
        .executable(name: "lauemap", targets: ["lauemap"]),
        // The C interface (liblauemapc.so) under the Python package (python/, docs/python.md).
        .library(name: "lauemapc", type: .dynamic, targets: ["LaueMapC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C libraries from Debian, through pkg-config (module map + shim header each).
        .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4", providers: [.apt(["libtiff-dev"])]),
        .systemLibrary(name: "CGSL", pkgConfig: "gsl", providers: [.apt(["libgsl-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // glibc's malloc.h (mallopt) for the command-line process's allocator settings; part of libc.
        .systemLibrary(name: "CMalloc"),
        .systemLibrary(name: "CCairo", pkgConfig: "pangocairo", providers: [.apt(["libcairo2-dev", "libpango1.0-dev"])]),

        .target(name: "LaueCore", dependencies: ["CGSL"]),
        .target(name: "LaueIO", dependencies: ["LaueCore", "CTIFF", "CHDF5", "CZlib"]),
        .target(name: "LaueSimulation", dependencies: ["LaueCore", "LaueIO", "LaueXANES"]),
        .target(name: "LauePeaks", dependencies: ["LaueCore", "LaueIO", "CGSL"]),
        .target(name: "LaueIndexing", dependencies: ["LaueCore", "LaueIO", "LauePeaks", "CGSL"]),
        .target(name: "LaueDefects", dependencies: ["LaueCore", "LauePeaks", "LaueIndexing"]),
        .target(name: "LaueRendering", dependencies: ["LaueCore", "LaueIO", "CCairo"]),
        .target(name: "LaueScan", dependencies: ["LaueCore", "LaueIO", "LauePeaks", "LaueIndexing", "LaueDefects", "LaueRendering"]),
        .target(name: "LaueCluster", dependencies: ["LaueCore", "LaueIO", "LaueScan"]),
        .target(name: "LaueXANES", dependencies: ["LaueCore", "LaueIO", "LaueRendering"]),
        .target(name: "LaueCorrelation", dependencies: ["LaueCore", "LaueIO", "LaueXANES", "LaueScan", "LaueRendering", "CGSL"]),
        .target(name: "LaueReport", dependencies: ["LaueCore", "LaueIO", "LaueScan", "LaueRendering"]),
        .target(name: "LaueMapC", dependencies: ["LaueCore", "LaueIO", "LauePeaks", "LaueIndexing", "LaueDefects", "LaueScan",
                                                 "LaueSimulation", "LaueXANES"], exclude: ["lauemap.h"]),
        .executableTarget(
            name: "lauemap",
            dependencies: [
                "LaueCore", "LaueIO", "LaueSimulation", "LauePeaks", "LaueIndexing", "LaueDefects", "LaueScan", "LaueCluster", "LaueXANES", "LaueCorrelation",
                "LaueRendering", "LaueReport",
                "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Throughput benchmarks (docs/performance.md); not a product.
        .executableTarget(name: "lauemap-bench", dependencies: ["LaueCore", "LaueIO", "LaueSimulation", "LauePeaks", "LaueIndexing", "LaueDefects", "LaueScan",
                                                           "LaueXANES", "LaueCorrelation"]),

        // Shared test helpers (fixture paths), not part of the products.
        .target(name: "LaueTestSupport", path: "Tests/LaueTestSupport"),
        .testTarget(name: "LaueCoreTests", dependencies: ["LaueCore", "LaueTestSupport"]),
        .testTarget(name: "LaueIOTests", dependencies: ["LaueIO", "LaueCore", "LaueTestSupport"]),
        .testTarget(name: "LauePeaksTests", dependencies: ["LauePeaks", "LaueSimulation", "LaueIO", "LaueCore", "LaueTestSupport"]),
        .testTarget(name: "LaueIndexingTests", dependencies: ["LaueIndexing", "LauePeaks", "LaueSimulation", "LaueIO", "LaueCore", "LaueTestSupport"]),
        .testTarget(name: "LaueDefectsTests", dependencies: ["LaueDefects", "LaueIndexing", "LauePeaks", "LaueSimulation", "LaueCore", "LaueTestSupport"]),
        .testTarget(name: "LaueXANESTests", dependencies: ["LaueXANES", "LaueSimulation", "LaueIO", "LaueCore", "LaueTestSupport"]),
        .testTarget(name: "LaueCorrelationTests", dependencies: ["LaueCorrelation", "LaueScan", "LaueXANES", "LaueSimulation", "LaueIO", "LaueCore", "LaueTestSupport"]),
        .testTarget(name: "LaueClusterTests", dependencies: ["LaueCluster", "LaueScan", "LaueSimulation", "LaueIO", "LaueCore", "LaueTestSupport"]),
        .testTarget(name: "LaueScanTests", dependencies: ["LaueScan", "LaueSimulation", "LaueIndexing", "LauePeaks", "LaueIO", "LaueCore", "LaueTestSupport"]),
        .testTarget(name: "LaueRenderingTests", dependencies: ["LaueRendering", "LaueTestSupport"]),
        .testTarget(name: "LaueReportTests", dependencies: ["LaueReport", "LaueScan", "LaueSimulation", "LaueIO", "LaueCore", "LaueTestSupport"]),
        .testTarget(name: "LaueSimulationTests", dependencies: ["LaueSimulation", "LaueIO", "LaueCore", "LaueTestSupport"]),
    ]
)
