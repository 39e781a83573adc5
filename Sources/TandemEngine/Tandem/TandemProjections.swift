/// Which primary residual streams each secondary layer reads.
public enum TandemLayerMap: String, CaseIterable, Sendable, Codable {
    /// Secondary layer j reads the primary stream after round((j + 1) * L_L / L_S) layers, so
    /// the last secondary layer sees the primary's final state (the default).
    case output
    /// The paper's figure pairing: the input of primary layer floor(j * L_L / L_S).
    case input
    /// The concatenation of the outputs of every primary layer of secondary layer j's group,
    /// layers floor(j L_L / L_S) ..< floor((j + 1) L_L / L_S) (k = L_L / L_S of them when L_S
    /// divides L_L), through one projection [d_S, k d_L]: the other reading of FF_Tandem.
    case group

    /// The primary residual points (number of primary layers applied) secondary layer `j`
    /// reads, in concatenation order; one point for `output` and `input`.
    public func primaryPoints(secondaryLayer j: Int, secondaryLayers: Int, primaryLayers: Int) -> [Int] {
        switch self {
        case .output: return [(2 * (j + 1) * primaryLayers + secondaryLayers) / (2 * secondaryLayers)]
        case .input: return [j * primaryLayers / secondaryLayers]
        case .group:
            let first = j * primaryLayers / secondaryLayers, end = (j + 1) * primaryLayers / secondaryLayers
            // A secondary deeper than its primary: the group is empty, read the last layer before it.
            return end > first ? Array((first + 1)...end) : [max(end, 1)]
        }
    }

    /// `primaryPoints` of every secondary layer.
    public func primaryPoints(secondaryLayers: Int, primaryLayers: Int) -> [[Int]] {
        (0..<secondaryLayers).map {
            primaryPoints(secondaryLayer: $0, secondaryLayers: secondaryLayers, primaryLayers: primaryLayers)
        }
    }
}

/// The projections P_j (k_j d_L -> d_S) of a tandem secondary, in one allocation described by
/// a name -> shape table like every parameter set. k_j is the number of primary points layer j
/// reads (1 except for the `group` map).
public final class ProjectionWeights: @unchecked Sendable {
    public let secondaryLayers: Int, secondaryWidth: Int, primaryWidth: Int
    /// k_j: primary residual points concatenated into layer j's projection input.
    public let pointCounts: [Int]
    public let storage: UnsafeMutablePointer<Float>
    /// (name, shape, offset) of every tensor: `tandem.layers.{j}.projection.weight`, [d_S, k_j d_L].
    public let specs: [ParameterSpec]
    public let count: Int

    /// Projections for `layerMap` between a secondary and a primary of the given shapes.
    public convenience init(secondary: ModelConfig, primary: ModelConfig, layerMap: TandemLayerMap) {
        let points = layerMap.primaryPoints(secondaryLayers: secondary.layerCount, primaryLayers: primary.layerCount)
        self.init(secondaryLayers: secondary.layerCount, secondaryWidth: secondary.width,
                  primaryWidth: primary.width, pointCounts: points.map(\.count))
    }

    public init(secondaryLayers: Int, secondaryWidth: Int, primaryWidth: Int, pointCounts: [Int]? = nil) {
        self.secondaryLayers = secondaryLayers
        self.secondaryWidth = secondaryWidth
        self.primaryWidth = primaryWidth
        let counts = pointCounts ?? Array(repeating: 1, count: secondaryLayers)
        precondition(counts.count == secondaryLayers && counts.allSatisfy { $0 >= 1 }, "bad point counts \(counts)")
        self.pointCounts = counts
        var specs: [ParameterSpec] = [], offset = 0
        for (layer, k) in counts.enumerated() {
            specs.append(ParameterSpec(name: Self.name(layer), shape: [secondaryWidth, k * primaryWidth],
                                       offset: offset))
            offset += secondaryWidth * k * primaryWidth
        }
        self.specs = specs
        count = offset
        storage = .allocate(capacity: max(offset, 1))
        storage.initialize(repeating: 0, count: max(offset, 1))
    }

    deinit { storage.deallocate() }

    public static func name(_ layer: Int) -> String { "tandem.layers.\(layer).projection.weight" }

    /// Input width of layer j's projection (k_j d_L).
    public func inputWidth(_ layer: Int) -> Int { pointCounts[layer] * primaryWidth }

    public func projection(_ layer: Int) -> UnsafeMutablePointer<Float> { storage + specs[layer].offset }

    /// Seeded uniform weights with standard deviation 1/sqrt(k_j d_L).
    public func randomize(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        for (layer, spec) in specs.enumerated() {
            let halfWidth = (3.0 / Float(inputWidth(layer))).squareRoot()
            for i in 0..<spec.count { storage[spec.offset + i] = (2 * generator.nextUnitFloat() - 1) * halfWidth }
        }
    }
}
