// swift-tools-version:6.0
import PackageDescription
import Foundation

// Hot numeric code is compiled for the build machine's vector unit when it has AVX2 + FMA
// (SIMD8 `addProduct` then becomes one vfmadd instruction instead of eight `fmaf` calls).
// On a machine without them the package still builds, for baseline x86-64, only slower.
// TANDEM_TARGET_CPU overrides the choice (e.g. `native`, `haswell`, or `baseline`).
let targetCPU: String? = {
    if let forced = ProcessInfo.processInfo.environment["TANDEM_TARGET_CPU"] {
        return forced == "baseline" ? nil : forced
    }
    #if arch(x86_64)
    guard let cpuInfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flagsLine = cpuInfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return nil }
    let flags = Set(flagsLine.split(separator: " "))
    return flags.contains("avx2") && flags.contains("fma") ? "haswell" : nil
    #else
    return nil
    #endif
}()
let hotCodeSettings: [SwiftSetting] = targetCPU.map { [.unsafeFlags(["-target-cpu", $0])] } ?? []

// The libFuzzer executable exists only for `make fuzz` (TANDEM_FUZZ=1 with --sanitize=fuzzer,
// which supplies its `main`); an ordinary build would fail to link it.
let fuzzTargets: [Target] = ProcessInfo.processInfo.environment["TANDEM_FUZZ"] == nil ? [] : [
    .executableTarget(name: "tandem-fuzz", dependencies: ["TandemFuzzing"],
                      swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
]

let package = Package(
    name: "tandem",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tandem", targets: ["tandem"]),
        .library(name: "TandemEngine", targets: ["TandemEngine"]),
        .library(name: "TandemAnalysis", targets: ["TandemAnalysis"]),
        .library(name: "TandemReport", targets: ["TandemReport"]),
        .library(name: "TandemTraining", targets: ["TandemTraining"]),
        .library(name: "TandemModels", targets: ["TandemModels"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // C libraries
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CGSL", path: "Sources/CGSL"),
        .systemLibrary(name: "CPrefetch", path: "Sources/CPrefetch"),
        // Quantized-panel kernels: AVX-512 VNNI and AVX2 intrinsics Swift cannot spell, chosen at run time
        .target(name: "CQuantKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // Attention's query-key dots: a transposing reduction Swift's SIMD types do not compile well
        .target(name: "CAttentionKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // Engine: tensors, kernels, transformer, caches, sampling (all hot code in one module)
        .target(name: "TandemEngine", dependencies: ["CBLAS", "CPrefetch", "CQuantKernels", "CAttentionKernels"],
                swiftSettings: hotCodeSettings),
        // Analysis: GSL statistics, machine limits, roofline
        .target(name: "TandemAnalysis", dependencies: ["CGSL", "CBLAS", "TandemEngine"],
                swiftSettings: hotCodeSettings),
        // Training: backward passes (forward/backward pairs), losses, AdamW, corpus, training loops
        .target(name: "TandemTraining", dependencies: ["CBLAS", "TandemEngine"], swiftSettings: hotCodeSettings),
        // Models from the ecosystem: GGUF files (memory-mapped, dequantized), their BPE tokenizers
        .target(name: "TandemModels", dependencies: ["TandemEngine"]),
        // Report: CSV tables, durable files
        .target(name: "TandemReport", dependencies: ["TandemEngine"]),
        // Harness: scenarios, profiling and sweep stages, the run pipeline
        .target(name: "TandemHarness", dependencies: [
            "TandemEngine", "TandemAnalysis", "TandemReport", "TandemTraining", "TandemModels",
            .product(name: "TOMLKit", package: "TOMLKit"),
        ]),
        // Fuzzing: every parser of outside bytes as a target (replayed by tests, run by `make fuzz`)
        .target(name: "TandemFuzzing", dependencies: [
            "TandemEngine", "TandemHarness", "TandemModels", "TandemReport",
        ]),
        // Tool
        .executableTarget(name: "tandem", dependencies: [
            "TandemEngine", "TandemAnalysis", "TandemReport", "TandemHarness", "TandemTraining",
            "TandemModels", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Tests
        .testTarget(name: "TandemEngineTests", dependencies: ["TandemEngine", "TandemAnalysis", "CAttentionKernels"]),
        .testTarget(name: "TandemAnalysisTests", dependencies: ["TandemAnalysis"]),
        .testTarget(name: "TandemTrainingTests", dependencies: ["TandemTraining", "TandemEngine"]),
        .testTarget(name: "TandemModelsTests", dependencies: ["TandemModels", "TandemEngine"]),
        .testTarget(name: "TandemReportTests", dependencies: ["TandemReport"]),
        .testTarget(name: "TandemHarnessTests", dependencies: ["TandemHarness"]),
        .testTarget(name: "TandemFuzzingTests", dependencies: ["TandemFuzzing"]),
    ] + fuzzTargets,
    swiftLanguageModes: [.v5]
)
