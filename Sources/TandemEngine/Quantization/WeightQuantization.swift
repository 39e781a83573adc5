/// How a `Transformer` holds its matrices (the q/k/v, output, gate/up, down projections and the
/// output head; embeddings and norms stay F32).
public enum WeightQuantization: Sendable {
    /// F32, as `ModelWeights` holds them (the packed skinny kernel and OpenBLAS).
    case none
    /// Each matrix quantized at load to this GGML type (Q8_0, Q4_0 or Q4_1) with ggml's reference
    /// rounding; a matrix whose input width is not a multiple of 32 stays F32.
    case quantize(GGMLType)
    /// The matrices as a model file stores them, by engine tensor name (`ParameterTable` names;
    /// `ParameterTable.head` for the output head, or `ParameterTable.embedding` when the head is
    /// tied to it). The views
    /// need only outlive the `Transformer` initializer (the matrices are repacked). A matrix
    /// missing here or in a type `QuantizedMatrix` cannot hold stays F32.
    case stored([String: QuantizedTensor])

    /// The quantized matrix for engine tensors `names` stacked along the output axis, with
    /// `canonical` (their F32 form, [outputs x inputs]); nil when they stay F32.
    func matrix(_ names: [String], canonical: UnsafePointer<Float>, outputs: Int, inputs: Int) -> QuantizedMatrix? {
        switch self {
        case .none:
            return nil
        case .quantize(let type):
            guard QuantizedMatrix.supported.contains(type), inputs % 32 == 0 else { return nil }
            return QuantizedMatrix(quantizing: canonical, rows: outputs, columns: inputs, type: type)
        case .stored(let tensors):
            let parts = names.compactMap { tensors[$0] }
            guard parts.count == names.count, QuantizedMatrix.canHold(parts),
                  parts.reduce(0, { $0 + $1.rows }) == outputs, parts[0].columns == inputs else { return nil }
            return QuantizedMatrix(parts: parts)
        }
    }
}

extension QuantizedTensor: @unchecked Sendable {}
