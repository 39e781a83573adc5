import Foundation
import TandemEngine

/// Conversions between the training allocation and the engine's checkpoint types.
extension TrainingBlueprint {
    /// The engine-side checkpoint of `parameters`: a plain model or a tandem secondary.
    public func checkpoint(_ parameters: UnsafePointer<Float>) throws -> SecondaryCheckpoint {
        let weights = try ModelWeights(config: config)
        weights.storage.update(from: parameters, count: modelCount)
        guard let tandem else { return SecondaryCheckpoint(weights: weights, projections: nil) }
        let projections = ProjectionWeights(secondaryLayers: config.layerCount, secondaryWidth: config.width,
                                            primaryWidth: tandem.primaryWidth, pointCounts: tandem.points.map(\.count))
        projections.storage.update(from: parameters + modelCount, count: projections.count)
        return SecondaryCheckpoint(weights: weights, projections: projections, layerMap: tandem.layerMap,
                                   primaryLayers: tandem.primaryLayers)
    }

    /// Copies a loaded checkpoint into `parameters`; it must have this blueprint's shapes.
    public func load(_ checkpoint: SecondaryCheckpoint, into parameters: UnsafeMutablePointer<Float>,
                     path: String) throws {
        guard checkpoint.weights.config == config else {
            throw CheckpointError(path: path, message: "config \(checkpoint.weights.config) differs from \(config)")
        }
        parameters.update(from: checkpoint.weights.storage, count: modelCount)
        if let tandem {
            guard let projections = checkpoint.projections, checkpoint.layerMap == tandem.layerMap,
                  projections.count == count - modelCount else {
                throw CheckpointError(path: path,
                                      message: "expected tandem projections for layer map '\(tandem.layerMap)'")
            }
            (parameters + modelCount).update(from: projections.storage, count: projections.count)
        }
    }
}

/// A resumable training state: parameters, AdamW moments and the next step, in one
/// safetensors file (tensors `parameters`, `adam.m`, `adam.v`; `__metadata__` holds the step,
/// the model config and a fingerprint of the training plan, checked on resume).
struct TrainingState {
    static let parametersName = "parameters", firstMomentName = "adam.m", secondMomentName = "adam.v"

    static func save(path: String, parameters: Buffer<Float>, optimizer: AdamW, step: Int,
                     fingerprint: String, config: ModelConfig) throws {
        func view(_ buffer: Buffer<Float>) -> UnsafeBufferPointer<Float> {
            UnsafeBufferPointer(start: buffer.pointer, count: buffer.count)
        }
        var metadata = config.metadata
        metadata["training.step"] = String(step)
        metadata["training.fingerprint"] = fingerprint
        try Safetensors.write([(name: parametersName, shape: [parameters.count], values: view(parameters)),
                               (name: firstMomentName, shape: [parameters.count], values: view(optimizer.firstMoment)),
                               (name: secondMomentName, shape: [parameters.count],
                                values: view(optimizer.secondMoment))],
                              metadata: metadata, to: path)
    }

    /// Loads a state into `parameters` and `optimizer`; returns the step to continue from.
    static func load(path: String, parameters: Buffer<Float>, optimizer: AdamW, fingerprint: String) throws -> Int {
        let (tensors, metadata) = try Safetensors.read(path: path)
        func fail(_ message: String) -> CheckpointError { CheckpointError(path: path, message: message) }
        guard metadata["training.fingerprint"] == fingerprint else {
            throw fail("was written by a different training plan (\(metadata["training.fingerprint"] ?? "none")), "
                       + "this one is \(fingerprint); delete it to start over")
        }
        guard let step = metadata["training.step"].flatMap(Int.init), step >= 0 else {
            throw fail("training.step missing or malformed")
        }
        for (name, buffer) in [(parametersName, parameters), (firstMomentName, optimizer.firstMoment),
                               (secondMomentName, optimizer.secondMoment)] {
            guard let tensor = tensors[name], tensor.shape == [buffer.count] else {
                throw fail("tensor '\(name)' missing or not of shape [\(buffer.count)]")
            }
            tensor.values.withUnsafeBufferPointer { buffer.pointer.update(from: $0.baseAddress!, count: buffer.count) }
        }
        return step
    }
}
