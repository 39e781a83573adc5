import ArgumentParser
import Foundation
import TandemAnalysis
import TandemEngine
import TandemHarness
import TandemReport

/// `tandem bench`: this machine's limits and the engine's block-cost curve against them.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure machine limits (sgemm peak, DRAM bandwidth) and the engine's cost of blocks of 1...n tokens "
            + "against them.",
        discussion: """
        Writes bench.csv (kernel_backend, tokens, context, median_ns, p10_ns, p90_ns, \
        ratio_to_one_token, roofline_ratio, ratio_over_roofline, its p10 and p90, \
        efficiency; ratios taken within each round, then medians) and bench.json (machine, limits, kernel \
        plan) into --out, and prints a table. Every backend and block size is measured in the \
        same interleaved rounds, so machine noise hits them alike.
        """)

    @OptionGroup var engine: EngineOptions
    @OptionGroup var model: ModelOptions

    @Flag(help: "Fewer repeats (for a smoke test or the quick start).")
    var quick = false

    @Option(help: "Tokens already in the KV cache when each block runs.")
    var context = 64

    @Option(help: "Largest block measured (blocks of 1...n tokens).")
    var maxTokens = 16

    @Option(help: "Measured rounds after warm-up (default 15, 5 with --quick).")
    var repeats: Int?

    @Option(help: "Warm-up rounds, not recorded.")
    var warmup = 2

    @Option(parsing: .upToNextOption, help: "Kernel backends to compare: auto, packed, openblas.")
    var backends: [KernelBackend] = [.auto, .openblas]

    @Option(help: ArgumentHelp("The packed F32 loop for blocks of 1-6 rows: streaming or cache-resident "
                               + "(default: chosen from the model's footprint against the last-level cache)."))
    var skinnyLoop: SkinnyLoop?

    @Option(help: "Output directory.")
    var out = "results/bench"

    func validate() throws {
        guard context >= 0 else { throw ValidationError("--context must be >= 0, got \(context)") }
        guard (1...256).contains(maxTokens) else {
            throw ValidationError("--max-tokens must be in 1...256, got \(maxTokens)")
        }
        guard (repeats ?? 1) >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be >= 0") }
        guard !backends.isEmpty else { throw ValidationError("--backends needs at least one backend") }
    }

    func run() throws {
        let start = Date()
        let threads = engine.threads
        let rounds = repeats ?? (quick ? 5 : 15)
        setBLASThreads(threads)
        printError("preparing engines (the auto backend times its kernels per shape)...")
        let engines = try ModelFactory.primaries(model.definition, seed: engine.seed, backends: backends,
                                                 threads: threads, skinnyLoop: skinnyLoop)
        let weights = engines[0].weights, config = weights.config
        guard context + maxTokens <= config.maxContext else {
            throw ValidationError("--context \(context) + --max-tokens \(maxTokens) exceeds the model's max_context "
                                  + "\(config.maxContext)")
        }
        printError("tandem bench: \(weights.parameterCount) parameters, "
                   + "\(engines[0].bytesReadPerToken / 1_000_000) MB read per token (weights "
                   + "\(model.weights.rawValue)), \(threads) thread(s)")
        var generator = SeededGenerator(seed: engine.seed)
        let prompt = (0..<context).map { _ in Int(generator.next() % UInt64(config.vocabularySize)) }
        let caches = engines.map { $0.makeCache(capacity: context + maxTokens) }
        let states = engines.map {
            $0.makeState(maxTokens: max(maxTokens, context), contextCapacity: context + maxTokens)
        }
        for i in engines.indices where context > 0 { engines[i].forward(prompt, cache: caches[i], state: states[i]) }

        // samples[backend][n - 1]: nanoseconds per forward of a block of n tokens.
        var samples = Array(repeating: Array(repeating: [Double](), count: maxTokens), count: engines.count)
        // The machine's limits are measured in every round too, so a noisy neighbour slows the
        // roofline and the engine alike and their ratios stay meaningful.
        let flopsProbe = FlopsProbe(threads: threads), bandwidthProbe = BandwidthProbe(threads: threads)
        let quantized = engines[0].hasQuantizedMatrices
        let integerProbe = quantized ? IntegerDotProbe(threads: threads) : nil
        let kernelProbe = engines[0].dominantQuantizedType.flatMap {
            QuantizedKernelProbe(threads: threads, tokens: min(8, maxTokens), type: $0)
        }
        var peakSamples: [Double] = [], bandwidthSamples: [Double] = [], integerSamples: [Double] = []
        var kernelSamples: [Double] = []
        let progress = ProgressLine(total: warmup + rounds, label: "bench rounds")
        for round in 0..<(warmup + rounds) {
            let peak = flopsProbe.measure(), bandwidth = bandwidthProbe.measure()
            let integerRate = integerProbe?.measure(), kernelRate = kernelProbe?.measure()
            // OpenBLAS's threads busy-wait for a while after the sgemm probe; at 2 threads they would
            // take a core from the engine's first blocks of the round. Let them go to sleep first.
            if threads > 1 { Thread.sleep(forTimeInterval: 0.2) }
            if round >= warmup {
                peakSamples.append(peak)
                bandwidthSamples.append(bandwidth)
                if let integerRate { integerSamples.append(integerRate) }
                if let kernelRate { kernelSamples.append(kernelRate) }
            }
            for i in engines.indices {
                // One unrecorded pass wakes the worker pool (and the core) after the probes; block
                // sizes then go in an order rotated every round, so no size always comes first.
                engines[i].forward([1], cache: caches[i], state: states[i])
                caches[i].truncate(to: context)
                for step in 0..<maxTokens {
                    let n = (step + round) % maxTokens + 1
                    let block = (0..<n).map { _ in Int(generator.next() % UInt64(config.vocabularySize)) }
                    let seconds = elapsedSeconds { engines[i].forward(block, cache: caches[i], state: states[i]) }
                    caches[i].truncate(to: context)
                    if round >= warmup { samples[i][n - 1].append(seconds * 1e9) }
                }
            }
            progress.update(round + 1)
        }
        progress.finish()
        let limits = MachineLimits(peakFlops: Statistics.summarize(peakSamples).median,
                                   bandwidth: Statistics.summarize(bandwidthSamples).median, threads: threads,
                                   integerMacs: integerSamples.isEmpty
                                       ? nil : Statistics.summarize(integerSamples).median)
        printError(String(format: "machine: sgemm peak %.1f GFLOP/s, DRAM read %.1f GB/s%@ (medians over the rounds)",
                          limits.peakFlops / 1e9, limits.bandwidth / 1e9,
                          limits.integerMacs.map { String(format: ", int8 dot %.0f GMAC/s", $0 / 1e9) } ?? ""))

        let pairs = quick ? 15 : 41
        let overheadBlock = min(6, maxTokens) // a typical verification block, within the cache's room
        let overhead = measureTimerOverhead(engines[0], cache: caches[0], state: states[0], pairs: pairs,
                                            block: overheadBlock, generator: &generator)
        let lapCost = measureLapCost()
        let lapsPerForward = 4 + 6 * config.layerCount // mark, embedding, final norm, head; 6 per layer
        let oneToken = Statistics.summarize(samples[0][0]).median
        printError(String(format: "per-layer timers: %+.2f%% at 1 token, %+.2f%% at %d tokens "
                          + "(median of %d interleaved pairs); "
                          + "by count: %d laps x %.0f ns = %.3f%% of a decode step",
                          100 * overhead[0], 100 * overhead[1], overheadBlock, pairs, lapsPerForward, lapCost,
                          100 * Double(lapsPerForward) * lapCost / oneToken))

        // Quantized matrices: their bytes, and products at the integer dot rate (embedding row excluded).
        let roofline = Roofline(config: config, quantizedWeightBytes: quantized
                                ? engines[0].bytesReadPerToken - 4 * config.width : nil)
        // Each recorded round's own limits: its blocks are compared with them (RoundPairedBlockCost).
        let roundLimits = peakSamples.indices.map { r in
            MachineLimits(peakFlops: peakSamples[r], bandwidth: bandwidthSamples[r], threads: threads,
                          integerMacs: integerSamples.isEmpty ? nil : integerSamples[r])
        }
        func rooflineTimes(_ n: Int) -> [Double] {
            roundLimits.map { roofline.time(tokens: n, context: context, limits: $0) * 1e9 }
        }
        let rooflineOneToken = rooflineTimes(1)
        var table = CSVTable(header: ["kernel_backend", "tokens", "context", "median_ns", "p10_ns", "p90_ns",
                                      "ratio_to_one_token", "roofline_ratio", "ratio_over_roofline",
                                      "ratio_over_roofline_p10", "ratio_over_roofline_p90", "efficiency"])
        var report = "kernel_backend tokens  median_ms  p10_ms  p90_ms  T(n)/T(1)  roofline  efficiency  "
            + "ratio/roofline [p10, p90]\n"
        for (i, backend) in backends.enumerated() {
            for n in 1...maxTokens {
                let summary = Statistics.summarize(samples[i][n - 1])
                let cost = RoundPairedBlockCost(times: samples[i][n - 1], oneToken: samples[i][0],
                                                rooflineTimes: rooflineTimes(n), rooflineOneToken: rooflineOneToken)
                table.append([.string(backend.rawValue), .integer(n), .integer(context), .integer(Int(summary.median)),
                              .integer(Int(summary.percentile10)), .integer(Int(summary.percentile90)),
                              .real(cost.ratioToOneToken), .real(cost.rooflineRatio), .real(cost.ratioOverRoofline),
                              .real(cost.ratioOverRooflineP10), .real(cost.ratioOverRooflineP90),
                              .real(cost.efficiency)])
                report += backend.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)
                    + String(format: " %6d %10.2f %7.2f %7.2f %10.2f %9.2f %11.2f %8.2f [%.2f, %.2f]\n",
                             n, summary.median / 1e6, summary.percentile10 / 1e6,
                             summary.percentile90 / 1e6, cost.ratioToOneToken, cost.rooflineRatio, cost.efficiency,
                             cost.ratioOverRoofline, cost.ratioOverRooflineP10, cost.ratioOverRooflineP90)
            }
        }
        print(report, terminator: "")
        let bytesPerToken = Double(engines[0].bytesReadPerToken), dramFloor = bytesPerToken / limits.bandwidth
        for (i, backend) in backends.enumerated() {
            let one = Statistics.summarize(samples[i][0]).median / 1e9
            // Each round's step over that round's floor, as the blocks' ratios are taken.
            let overFloor = Statistics.summarize(bandwidthSamples.indices.map {
                samples[i][0][$0] / 1e9 / (bytesPerToken / bandwidthSamples[$0])
            })
            print(String(format: "%@: one decode step %.2f ms; over the DRAM roofline of its round %.2fx [p10 %.2f, "
                         + "p90 %.2f] (at the median bandwidth: %.2f ms = %d MB / %.1f GB/s)",
                         backend.rawValue, one * 1e3, overFloor.median, overFloor.percentile10,
                         overFloor.percentile90, dramFloor * 1e3, engines[0].bytesReadPerToken / 1_000_000,
                         limits.bandwidth / 1e9))
        }
        var kernelExtra: [String: String] = [:]
        if let kernelProbe, let integerMacs = limits.integerMacs, !kernelSamples.isEmpty {
            let rate = Statistics.summarize(kernelSamples).median, n = kernelProbe.tokens
            let one = Statistics.summarize(samples[0][0]).median / 1e9
            let products = Double(roofline.productParameters * n) / rate
            let floor = max(roofline.bytes(tokens: n, context: context) / limits.bandwidth, products)
            print(String(format: "quantized kernel, %d rows of a cache-resident %@ matrix (epilogue and "
                         + "activation quantization included): %.0f GMAC/s = %.0f%% of the int8 dot peak",
                         n, kernelProbe.type.name, rate / 1e9, 100 * rate / integerMacs))
            print(String(format: "T(%d)/T(1) with products at that rate fully overlapping the weight stream: "
                         + ">= %.2f (%.2f ms of products over the measured decode step %.2f ms)",
                         n, floor / one, products * 1e3, one * 1e3))
            kernelExtra["kernel_gmacs_\(n)_rows"] = String(format: "%.2f", rate / 1e9)
        }
        if let loop = engines.first(where: { $0.backend != .openblas })?.skinnyLoop {
            print("packed F32 loop for blocks of 1-6 rows: \(loop.rawValue) (weights vs the "
                  + "\(CacheHierarchy.lastLevelBytes >> 20) MB last-level cache)")
            kernelExtra["skinny_loop"] = loop.rawValue
        }
        if let auto = engines.first(where: { $0.backend == .auto }) {
            print("kernel plan (n = 1...\(Linear.maxPackedTokens); P packed skinny kernel, B OpenBLAS; "
                  + "larger blocks use OpenBLAS):")
            for (role, choices) in auto.kernelPlan {
                print("  \(role.padding(toLength: 12, withPad: " ", startingAt: 0)) \(choices)")
            }
        }

        try AtomicFile.write(table.text, to: out + "/bench.csv")
        var extra = ["peak_gflops": String(format: "%.2f", limits.peakFlops / 1e9),
                     "dram_read_gbps": String(format: "%.2f", limits.bandwidth / 1e9),
                     "model_parameters": String(weights.parameterCount),
                     "model_bytes_per_token": String(engines[0].bytesReadPerToken),
                     "weights": model.weights.rawValue,
                     "integer_gmacs": limits.integerMacs.map { String(format: "%.2f", $0 / 1e9) } ?? "",
                     "context": String(context), "repeats": String(rounds), "warmup": String(warmup),
                     "timer_overhead_1_token": String(format: "%.4f", overhead[0]),
                     "timer_overhead_block": String(format: "%.4f", overhead[1]),
                     "timer_overhead_block_tokens": String(overheadBlock)]
        extra.merge(kernelExtra) { $1 }
        if let auto = engines.first(where: { $0.backend == .auto }) {
            for (role, choices) in auto.kernelPlan { extra["kernel_plan_" + role] = choices }
        }
        try RunMetadata(command: CommandLine.arguments.joined(separator: " "), threads: threads,
                        blasCore: blasCoreName(), seed: engine.seed, start: start,
                        extra: extra).write(to: out + "/bench.json")
        printError("wrote \(out)/bench.csv and \(out)/bench.json")
    }

    /// Relative cost of the per-layer timers: the same forward pass with and without a
    /// profiler, interleaved, for blocks of 1 and `block` tokens; the median of per-pair ratios - 1.
    private func measureTimerOverhead(_ model: Transformer, cache: KeyValueCache, state: ForwardState, pairs: Int,
                                      block: Int, generator: inout SeededGenerator) -> [Double] {
        let profiler = LayerProfiler(models: [("primary", model.config.layerCount)])
        var ratios: [[Double]] = [[], []]
        for round in 0..<(pairs + 1) {
            for (index, n) in [1, block].enumerated() {
                let block = (0..<n).map { _ in Int(generator.next() % UInt64(model.config.vocabularySize)) }
                var times = [0.0, 0.0]
                for profiled in (round % 2 == 0 ? [false, true] : [true, false]) {
                    state.settings.profiler = profiled ? profiler : nil
                    times[profiled ? 1 : 0] = elapsedSeconds { model.forward(block, cache: cache, state: state) }
                    cache.truncate(to: context)
                }
                if round > 0 { ratios[index].append(times[1] / times[0]) }
            }
        }
        state.settings.profiler = nil
        return ratios.map { Statistics.summarize($0).median - 1 }
    }

    /// Nanoseconds per profiler lap (one monotonic clock read plus the bookkeeping).
    private func measureLapCost() -> Double {
        let profiler = LayerProfiler(models: [("probe", 1)])
        let laps = 200_000
        profiler.mark()
        let seconds = elapsedSeconds { for i in 0..<laps { profiler.lap(model: 0, layer: i & 0, .norm, tokens: 1) } }
        return seconds * 1e9 / Double(laps)
    }
}

extension SkinnyLoop: ExpressibleByArgument {}
