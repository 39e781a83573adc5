import Foundation
import TandemModels

let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures")

func fixture(_ name: String) -> String { fixturesDirectory.appendingPathComponent(name).path }

/// SmolLM2-135M from `make models` (which `make test` runs first).
let smolLM2Path = fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path

struct MissingModel: Error, CustomStringConvertible {
    var description: String { "\(smolLM2Path) is missing: run `make models` (make test does)" }
}

func smolLM2() throws -> GGUFFile {
    guard FileManager.default.fileExists(atPath: smolLM2Path) else { throw MissingModel() }
    return try GGUFFile(path: smolLM2Path)
}

/// A JSON fixture decoded into `T`.
func loadJSON<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
    let data = try Data(contentsOf: URL(fileURLWithPath: fixture(name)))
    return try JSONDecoder().decode(T.self, from: data)
}

/// Writes `bytes` to a temporary file and returns its path.
func temporaryFile(_ bytes: [UInt8], name: String) throws -> String {
    let path = NSTemporaryDirectory() + "tandem-\(getpid())-\(name)"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}
