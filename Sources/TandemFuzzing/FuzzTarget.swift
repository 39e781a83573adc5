import Foundation
import TandemEngine
import TandemHarness
import TandemModels
import TandemReport

/// The parsers of outside bytes, each as one fuzz target: every input must end in a value or a
/// thrown error, never a crash, a hang or an unbounded allocation.
///
/// The same entry point serves libFuzzer (`tandem-fuzz`, built by `make fuzz`) and the
/// regression tests, which replay the committed seeds and the inputs of crashes once found.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A checkpoint: `Safetensors.read` and the model built from its tensors and metadata.
    case safetensors
    /// A scenario file: TOML syntax (TOMLKit) and every field's validation.
    case scenario
    /// `sweep_runs.csv` as `--resume` reads it: RFC 4180 and the typed `SweepRun` rows.
    case sweepCSV = "sweep-csv"
    /// A GGUF file: header, metadata, tensor table, dequantization, llama config and tokenizer.
    case gguf
    /// Text through SmolLM2's BPE tokenizer: encoding, and decoding back to the same bytes.
    case tokenizer

    /// Runs the parser on `bytes`; errors are the expected outcome for bad input and are dropped.
    /// A broken invariant (e.g. a tokenizer round trip that loses text) stops the process.
    public func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .safetensors:
            let data = Data(bytes)
            _ = try? ModelWeights.load(data: data, path: "fuzz.safetensors")
        case .scenario:
            _ = try? Scenario.parse(String(decoding: bytes, as: UTF8.self), file: "/nonexistent/fuzz.toml")
        case .sweepCSV:
            _ = try? CSVTable.records(SweepRun.self, text: String(decoding: bytes, as: UTF8.self), file: "fuzz.csv")
        case .gguf:
            FuzzFiles.withFile(bytes, suffix: "gguf") { path in
                guard let file = try? GGUFFile(path: path) else { return }
                for tensor in file.tensors where tensor.elementCount <= 1 << 20 {
                    _ = try? file.floats(tensor)
                }
                _ = try? GGUFLlama.config(file)
                if let tokenizer = try? GGUFTokenizer.load(file) {
                    _ = tokenizer.decode(tokenizer.encode("fuzz: Hello, world! 123 \u{e9}t\u{e9}"))
                }
            }
        case .tokenizer:
            FuzzTokenizer.check(bytes)
        }
    }

    /// Runs the target on every file of `directory` (seeds or regressions); returns how many.
    @discardableResult
    public func replay(directory: String) throws -> Int {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        for name in names where !name.hasPrefix(".") {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name))
            data.withUnsafeBytes { run($0) }
        }
        return names.count
    }
}

/// Files for the parsers that read a path (GGUF is memory-mapped): one scratch file per process,
/// in /dev/shm when it exists so that the fuzzer does not write to disk.
enum FuzzFiles {
    static func withFile(_ bytes: UnsafeRawBufferPointer, suffix: String, _ body: (String) -> Void) {
        let directory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = "\(directory)/tandem-fuzz-\(getpid()).\(suffix)"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
        defer { unlink(path) }
        body(path)
    }
}
