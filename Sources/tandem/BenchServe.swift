import ArgumentParser
import Dispatch
import Foundation
import TandemEngine
import TandemHarness

/// `tandem bench-serve`: the engine as a timing server for an outside benchmark driver
/// (scripts/bench_peers.py), so it can be interleaved with other programs at fine grain.
struct BenchServe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-serve",
        abstract: "Load a primary once and answer timing commands on stdin (for scripts/bench_peers.py).",
        discussion: """
        Prints `ready parameters=<n> vocabulary=<v> threads=<t> backend=<b>` once the model is \
        loaded, then answers each line of stdin with one line on stdout:
          forward N CONTEXT REPEATS  ->  ok <ns> ... (REPEATS forward passes of a block of N \
        seeded random tokens with exactly CONTEXT tokens in the KV cache; the block is removed \
        from the cache after each, so the context stays fixed)
          logits T1 T2 ...           ->  ok <logit> ... (the last position's logits for these \
        token ids, from an empty cache)
          quit                       ->  (exits; so does the end of stdin)
        A bad command gets `error <message>` and the server keeps going. Progress goes to stderr.
        """)

    @OptionGroup var engine: EngineOptions
    @OptionGroup var models: DecodingModelOptions

    @Option(help: "KV-cache positions (largest CONTEXT + N a command may ask for).")
    var capacity = 512

    @Option(help: "Largest block N a command may ask for.")
    var maxTokens = 64

    func validate() throws {
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1, got \(maxTokens)") }
        guard capacity > maxTokens else {
            throw ValidationError("--capacity (\(capacity)) must exceed --max-tokens (\(maxTokens))")
        }
    }

    func run() throws {
        setBLASThreads(engine.threads)
        let definition = ModelDefinition(name: "primary", source: models.primarySource, kind: .plain, layerMap: .output,
                                         weights: models.weights)
        let model = try ModelFactory.primary(definition, seed: engine.seed, backend: models.backend,
                                             threads: engine.threads)
        let config = model.config
        let capacity = min(capacity, config.maxContext)
        let cache = model.makeCache(capacity: capacity)
        let state = model.makeState(maxTokens: maxTokens, contextCapacity: capacity)
        var generator = SeededGenerator(seed: engine.seed)
        func randomTokens(_ count: Int) -> [Int] {
            (0..<count).map { _ in Int(generator.next() % UInt64(config.vocabularySize)) }
        }
        let prompt = randomTokens(capacity)
        /// Runs `tokens` from the cache's current length, in blocks the state can hold.
        func feed(_ tokens: ArraySlice<Int>) {
            var start = tokens.startIndex
            while start < tokens.endIndex {
                let end = min(start + maxTokens, tokens.endIndex)
                model.forward(tokens[start..<end], cache: cache, state: state)
                start = end
            }
        }
        func reply(_ line: String) {
            print(line)
            fflush(stdout)
        }
        printError("tandem bench-serve: \(model.weights.parameterCount) parameters, \(engine.threads) thread(s), "
                   + "backend \(model.backend.rawValue), capacity \(capacity)")
        reply("ready parameters=\(model.weights.parameterCount) vocabulary=\(config.vocabularySize) "
              + "threads=\(engine.threads) backend=\(model.backend.rawValue) weights=\(models.weights.rawValue) "
              + "bytes_per_token=\(model.bytesReadPerToken)")
        while let line = readLine() {
            let words = line.split(separator: " ")
            guard let command = words.first else { continue }
            let numbers = words.dropFirst().map { Int($0) }
            switch command {
            case "quit":
                return
            case "forward":
                guard numbers.count == 3, let n = numbers[0], let context = numbers[1], let repeats = numbers[2],
                      (1...maxTokens).contains(n), context >= 0, context + n <= capacity, repeats >= 1 else {
                    reply("error usage: forward N CONTEXT REPEATS with 1 <= N <= \(maxTokens), "
                          + "CONTEXT + N <= \(capacity), REPEATS >= 1 (got '\(line)')")
                    continue
                }
                if cache.length > context { cache.truncate(to: context) }
                feed(prompt[cache.length..<context])
                var times: [UInt64] = []
                for _ in 0..<repeats {
                    let block = randomTokens(n)
                    let start = DispatchTime.now().uptimeNanoseconds
                    model.forward(block, cache: cache, state: state)
                    times.append(DispatchTime.now().uptimeNanoseconds - start)
                    cache.truncate(to: context)
                }
                reply("ok " + times.map(String.init).joined(separator: " "))
            case "logits":
                let tokens = numbers.compactMap { $0 }
                guard !tokens.isEmpty, tokens.count == numbers.count, tokens.count <= capacity,
                      tokens.allSatisfy({ (0..<config.vocabularySize).contains($0) }) else {
                    reply("error usage: logits T1 T2 ... with 1 to \(capacity) token ids in "
                          + "0..<\(config.vocabularySize) "
                          + "(got '\(line.prefix(80))')")
                    continue
                }
                cache.truncate(to: 0)
                feed(tokens[...])
                let logits = state.logits(state.tokenCount - 1)
                reply("ok " + logits.map { String(format: "%.9g", $0) }.joined(separator: " "))
                cache.truncate(to: 0)
            default:
                reply("error unknown command '\(command)' (forward, logits, quit)")
            }
        }
    }
}
