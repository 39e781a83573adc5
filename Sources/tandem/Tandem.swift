import ArgumentParser

@main
struct Tandem: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate and profile Tandem Transformers and speculative decoding.",
        discussion: "See README.md for the scenario format, the outputs and the status of each part.",
        subcommands: [Run.self, Profile.self, Sweep.self, Predict.self, Plot.self, Generate.self, Bench.self,
                      Train.self, Evaluate.self, ExportGGUF.self, BenchServe.self])
}
