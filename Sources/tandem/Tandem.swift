import ArgumentParser

@main
struct Tandem: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate and profile Tandem Transformers and speculative decoding.",
        discussion: "Built so far: generate (every decoding strategy) and bench (machine limits and engine efficiency). See README's status table.",
        subcommands: [Run.self, Profile.self, Sweep.self, Predict.self, Plot.self, Generate.self, Bench.self])
}
