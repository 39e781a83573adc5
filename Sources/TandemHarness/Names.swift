import TandemEngine

/// The strategies of the paper, by their CLI and scenario names.
public enum StrategyKind: String, CaseIterable, Sendable {
    case primary, secondary, tandem, speed
    case tandemSpeed = "tandem-speed"

    public var needsTandem: Bool { self == .tandem || self == .tandemSpeed }
    public var isSpeculative: Bool { self == .speed || self == .tandemSpeed }
}

/// Block policies, by name.
public enum PolicyKind: String, CaseIterable, Sendable {
    case fixed, confidence, heuristic, router
}

/// Model presets with seeded random weights.
public enum ModelPreset: String, CaseIterable, Sendable {
    /// The reference primary of PLATFORM.md (155 MB of fp32 weights, more than L3).
    case p150
    /// A secondary of 4 layers, width 256 (about 3.4 M parameters, fits in L2/L3).
    case s10
    /// A smaller secondary: 2 layers, width 128.
    case s2
    /// Tiny models for tests and smoke runs.
    case tinyPrimary = "tiny-primary"
    case tinySecondary = "tiny-secondary"

    public var config: ModelConfig {
        switch self {
        case .p150: return .p150
        case .s10: return ModelConfig(vocabularySize: 256, width: 256, layerCount: 4, headCount: 4,
                                      keyValueHeadCount: 4, feedForwardWidth: 704, maxContext: 2048)
        case .s2: return ModelConfig(vocabularySize: 256, width: 128, layerCount: 2, headCount: 2,
                                     keyValueHeadCount: 2, feedForwardWidth: 352, maxContext: 2048)
        case .tinyPrimary: return ModelConfig(vocabularySize: 256, width: 64, layerCount: 4, headCount: 4,
                                              keyValueHeadCount: 2, feedForwardWidth: 128, maxContext: 1024)
        case .tinySecondary: return ModelConfig(vocabularySize: 256, width: 32, layerCount: 2, headCount: 2,
                                                keyValueHeadCount: 1, feedForwardWidth: 64, maxContext: 1024)
        }
    }
}
