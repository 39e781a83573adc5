import ArgumentParser

@main
struct Tandem: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate and profile Tandem Transformers and speculative decoding.",
        discussion: "Not built yet: train (training belongs to a later issue). See README's status table.",
        subcommands: [Run.self, Profile.self, Sweep.self, Predict.self, Plot.self, Generate.self, Bench.self])
}
