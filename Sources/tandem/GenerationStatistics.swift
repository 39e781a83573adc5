import Foundation
import TandemEngine

/// The statistics block of `tandem generate`, as text (llama.cpp style) and JSON.
struct GenerationStatistics {
    let telemetry: DecodingTelemetry
    let decoding: DecodingOptions
    let seed: UInt64

    var text: String {
        let t = telemetry
        var lines: [String] = []
        lines.append("strategy = \(t.strategy), policy = \(decoding.policy.rawValue), gamma = \(decoding.gamma), "
                     + "gamma_max = \(decoding.gammaMax), temperature = \(decoding.temperature), "
                     + "top_k = \(decoding.topK), top_p = \(decoding.topP), seed = \(seed)"
                     + "\(decoding.oracleAlpha.map { ", oracle_alpha = \($0)" } ?? "")")
        lines.append("n_prompt = \(t.promptTokens), n_predict = \(t.generatedTokens), n_rounds = \(t.rounds)")
        if decoding.strategy.isSpeculative {
            lines.append(String(format: "n_drafted = %d, n_accept = %d, accept = %.3f%%", t.drafted, t.accepted,
                                100 * (t.acceptanceRate ?? 0)))
            lines.append(String(format: "mean accepted length (incl. primary token) = %.3f", t.meanAcceptedLength ?? 0))
            let positions = t.acceptanceByPosition.enumerated().map { k, rate in
                String(format: "%d: %.1f%% (%d/%d)", k + 1, 100 * rate, t.acceptedByPosition[k], t.judgedByPosition[k])
            }
            if !positions.isEmpty {
                lines.append("accept by position (given earlier accepted): " + positions.joined(separator: ", "))
            }
        }
        lines.append(String(format: "prefill: %d tokens in %.2f ms (%.1f tokens/s)", t.promptTokens,
                            Double(t.prefillNanoseconds) / 1e6, t.prefillTokensPerSecond))
        lines.append(String(format: "decode: %d tokens in %.2f ms (%.2f tokens/s; the first of the %d tokens "
                                + "comes from the prefill)",
                            t.decodeTokens, Double(t.decodeNanoseconds) / 1e6, t.tokensPerSecond, t.generatedTokens))
        let phases = Phase.allCases.compactMap { phase in
            t.phaseNanoseconds[phase].map { String(format: "%@ %.2f ms", phase.name, Double($0) / 1e6) }
        }
        lines.append("time by phase: " + phases.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    func json() throws -> Data {
        let t = telemetry
        let object: [String: Any] = [
            "strategy": t.strategy, "policy": decoding.policy.rawValue, "gamma": decoding.gamma,
            "gamma_max": decoding.gammaMax,
            "temperature": decoding.temperature, "top_k": decoding.topK, "top_p": decoding.topP, "seed": seed,
            "oracle_alpha": decoding.oracleAlpha ?? NSNull(),
            "n_prompt": t.promptTokens, "n_predict": t.generatedTokens, "n_rounds": t.rounds,
            "n_drafted": t.drafted, "n_accept": t.accepted, "accept_rate": t.acceptanceRate ?? NSNull(),
            "mean_accepted_length": t.meanAcceptedLength ?? NSNull(),
            "accepted_length_histogram": t.acceptedLengthHistogram,
            "drafted_by_position": t.draftedByPosition, "judged_by_position": t.judgedByPosition,
            "accepted_by_position": t.acceptedByPosition, "accept_rate_by_position": t.acceptanceByPosition,
            "prefill_ns": t.prefillNanoseconds, "decode_ns": t.decodeNanoseconds,
            "tokens_per_second": t.tokensPerSecond, "prefill_tokens_per_second": t.prefillTokensPerSecond,
            "phase_ns": Dictionary(uniqueKeysWithValues: t.phaseNanoseconds.map { ($0.key.name, $0.value) }),
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}
