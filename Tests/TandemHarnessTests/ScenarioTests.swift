import Foundation
import Testing
import TandemHarness

/// Malformed scenarios fail with an error naming the file, the key and the expectation.
@Suite struct ScenarioTests {
    let valid = """
    name = "t"
    [primary]
    preset = "tiny-primary"
    [secondaries.small]
    kind = "tandem"
    preset = "tiny-secondary"
    [sweep]
    gammas = [1, 2]
    alphas = [0.5]
    """

    func expectError(_ text: String, key: String, mentions: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try Scenario.parse(text, file: "bad.toml")
            Issue.record("parsed without error; expected one at '\(key)'", sourceLocation: sourceLocation)
        } catch let error as ScenarioError {
            #expect(error.file == "bad.toml", sourceLocation: sourceLocation)
            #expect(error.key == key, "error at '\(error.key)', expected '\(key)': \(error)",
                    sourceLocation: sourceLocation)
            #expect(error.description.contains(mentions), "'\(error)' does not mention '\(mentions)'",
                    sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func validScenarioParses() throws {
        let scenario = try Scenario.parse(valid, file: "ok.toml")
        #expect(scenario.sweep.gammas == [1, 2])
        #expect(scenario.sweep.alphas == [[0.5]])
        #expect(scenario.profile.tokens == Array(1...3)) // 1 ... max(gamma) + 1
        #expect(scenario.profile.passes == 8)
        #expect(SweepStage.points(scenario).count == 2)
    }

    @Test func unknownKey() {
        expectError(valid + "\ngama = [3]", key: "sweep.gama", mentions: "unknown key")
        expectError(valid.replacingOccurrences(of: "name = \"t\"", with: "name = \"t\"\ncolour = 1"), key: "colour",
                    mentions: "unknown key")
    }

    /// toml++ (inside TOMLKit) aborts the process on some control and non-ASCII characters, so
    /// they are refused first (found by `make fuzz`; its inputs are regression seeds too).
    @Test func charactersTOMLForbids() {
        expectError(valid.replacingOccurrences(of: "[sweep]", with: "[s\u{02}weep]"), key: "",
                    mentions: "control character U+0002 at line 7, column 3")
        expectError(valid + "\n# a comment with a bell \u{07}", key: "", mentions: "U+0007 at line 10")
        expectError("name = \"t\"\r[primary]", key: "", mentions: "U+000D at line 1, column 11")
        expectError(valid.replacingOccurrences(of: "[sweep]", with: "[s\u{FFFD}eep]"), key: "",
                    mentions: "character U+FFFD at line 7, column 3 (outside a string")
        expectError(valid.replacingOccurrences(of: "[sweep]", with: "[\u{FFFD}weep]"), key: "",
                    mentions: "table header starting with U+FFFD at line 7, column 1")
        expectError(valid + "\nnote = \"\u{0}\"", key: "", mentions: "U+0000 at line 10, column 9")
        expectError(valid.replacingOccurrences(of: "[sweep]", with: "[=weep]"), key: "",
                    mentions: "table header starting with U+003D at line 7, column 1")
        expectError(valid + "\n[[ .x]]", key: "", mentions: "table header starting with U+002E at line 10")
        expectError(valid + "\n[\n[x]", key: "", mentions: "table header starting with U+000A at line 10")
        expectError(valid.replacingOccurrences(of: "gammas = [1, 2]", with: "gammas = [1, # c\n }, 2]"), key: "",
                    mentions: "array value starting with U+007D at line 9, column 2")
        expectError(valid + "\nx = [[1], [ }]]", key: "", mentions: "U+007D at line 10, column 13")
        // Tabs, CRLF line ends, non-ASCII in strings and comments, escapes and multi-line
        // strings are TOML.
        let fine = (valid + "\nmatrix = [\n[1, 2],\n  [3], {a = 1}, ]\nt = {b = [1]}\n[[ \"quoted\".x ]]\n[ a . b ]")
            .replacingOccurrences(of: "\n", with: "\r\n")
            .replacingOccurrences(of: "kind =", with: "kind\t=")
            .replacingOccurrences(of: "[sweep]",
                                  with: "[sweep] # Größe \u{1F600}\nprompt = \"\"\"Déjà\n\\\"vu\"\"\"")
        // (The scenario's own checks refuse the extra keys; the TOML must pass.)
        do { _ = try Scenario.parse(fine, file: "fine.toml") } catch where "\(error)".contains("not valid TOML") {
            Issue.record("valid TOML refused: \(error)")
        } catch {
            #expect("\(error)".contains("unknown key"), "\(error)")
        }
    }

    @Test func wrongType() {
        expectError(valid.replacingOccurrences(of: "gammas = [1, 2]", with: "gammas = \"1, 2\""), key: "sweep.gammas",
                    mentions: "array of integers")
        expectError(valid.replacingOccurrences(of: "gammas = [1, 2]", with: "gammas = [1, \"two\"]"),
                    key: "sweep.gammas[1]", mentions: "expected integers")
        expectError(valid + "\ntokens = 2.5", key: "sweep.tokens", mentions: "expected an integer")
    }

    @Test func emptySweep() {
        expectError(valid.replacingOccurrences(of: "gammas = [1, 2]", with: "gammas = []"), key: "sweep.gammas",
                    mentions: "must not be empty")
        expectError(valid.replacingOccurrences(of: "alphas = [0.5]", with: "alphas = []"), key: "sweep.alphas",
                    mentions: "must not be empty")
    }

    /// `[profile] passes`: back-to-back passes per primary sample, 1...1000.
    @Test func profilePasses() throws {
        let three = try Scenario.parse(valid + "\n[profile]\npasses = 3", file: "ok.toml")
        #expect(three.profile.passes == 3)
        expectError(valid + "\n[profile]\npasses = 0", key: "profile.passes", mentions: "1...1000, got 0")
    }

    @Test func gammaZero() {
        expectError(valid.replacingOccurrences(of: "gammas = [1, 2]", with: "gammas = [0, 2]"), key: "sweep.gammas[0]",
                    mentions: "1...64, got 0")
    }

    @Test func alphaOutsideUnitInterval() {
        expectError(valid.replacingOccurrences(of: "alphas = [0.5]", with: "alphas = [0.5, 1.5]"),
                    key: "sweep.alphas[1]", mentions: "[0.0, 1.0], got 1.5")
        expectError(valid.replacingOccurrences(of: "alphas = [0.5]", with: "alphas = [-0.1]"), key: "sweep.alphas[0]",
                    mentions: "got -0.1")
    }

    /// `oracle_sampling`: stratified by default, independent on request, anything else an error.
    @Test func oracleSampling() throws {
        #expect(try Scenario.parse(valid, file: "ok.toml").sweep.oracleSampling == .stratified)
        let independent = valid + "\noracle_sampling = \"independent\""
        #expect(try Scenario.parse(independent, file: "ok.toml").sweep.oracleSampling == .independent)
        expectError(valid + "\noracle_sampling = \"iid\"", key: "sweep.oracle_sampling", mentions: "independent")
    }

    /// `weights` per model: default f32, a named format, or an error listing the choices.
    @Test func weightFormats() throws {
        #expect(try Scenario.parse(valid, file: "ok.toml").primary.weights == .f32)
        let quantized = try Scenario.parse(valid.replacingOccurrences(
            of: "preset = \"tiny-secondary\"", with: "preset = \"tiny-secondary\"\nweights = \"q8_0\""),
            file: "ok.toml")
        #expect(quantized.secondaries[0].weights == .q8_0)
        expectError(valid.replacingOccurrences(of: "preset = \"tiny-primary\"",
                                               with: "preset = \"tiny-primary\"\nweights = \"q5_k\""),
                    key: "primary.weights", mentions: "expected one of \"f32\", \"stored\"")
    }

    @Test func missingCheckpoint() {
        expectError(valid.replacingOccurrences(of: "preset = \"tiny-primary\"",
                                               with: "checkpoint = \"no/such/model.safetensors\""),
                    key: "primary.checkpoint", mentions: "does not exist")
    }

    @Test func otherMistakes() {
        expectError(valid.replacingOccurrences(of: "preset = \"tiny-primary\"", with: "preset = \"p999\""),
                    key: "primary.preset", mentions: "expected one of")
        expectError(valid + "\nsecondaries = [\"big\"]", key: "sweep.secondaries[0]",
                    mentions: "no secondary named \"big\"")
        expectError(valid.replacingOccurrences(of: "kind = \"tandem\"", with: "kind = \"plain\""),
                    key: "sweep.secondaries", mentions: "no secondary it can use")
        expectError(valid.replacingOccurrences(of: "[sweep]", with: "[sweep]\nstrategies = [\"primary\"]"),
                    key: "sweep.strategies[0]", mentions: "expected one of")
        expectError("name = \"t\"\n[primary\n", key: "", mentions: "not valid TOML")
    }
}
