import TritonPackModels
import TritonPackRepository

/// What a successful pack should not keep quiet about.
public enum PackWarning: Equatable, Sendable {
    /// A config setting that pack options can ask for.
    public enum Setting: String, Sendable, CaseIterable {
        case instanceGroup = "instance_group"
        case dynamicBatching = "dynamic_batching"
        case xrt
        case versionPolicy = "version_policy"
    }

    /// The config's version policy does not serve the new version: `served` is what it serves.
    case notServed(version: Int64, policy: String, served: [Int64], config: String)
    /// The existing config was kept as it is, and it does not carry these requested settings.
    case settingsNotApplied([Setting], config: String)

    /// The config file the warning concerns.
    public var config: String {
        switch self {
        case .notServed(_, _, _, let config), .settingsNotApplied(_, let config): config
        }
    }

    /// The warnings for `version`, packed with `requested` options, once the model serves with
    /// `served` (the kept config, or the one this pack wrote) and holds `versions`.
    static func judge(
        version: Int64, versions: [Int64], served: Inference_ModelConfig, packed: Inference_ModelConfig,
        requested: ConfigOptions?, configKept: Bool, configPath: String
    ) -> [PackWarning] {
        var found: [PackWarning] = []
        let serving = VersionPolicyEvaluation.served(served.versionPolicy, available: versions)
        if !serving.contains(version) {
            found.append(
                .notServed(
                    version: version, policy: VersionPolicyEvaluation.describe(served.versionPolicy), served: serving,
                    config: configPath))
        }
        guard configKept, let requested else { return found }
        let asked: [(Setting, Bool)] = [
            (.instanceGroup, !requested.instanceGroups.isEmpty && served.instanceGroup != packed.instanceGroup),
            (
                .dynamicBatching,
                (requested.dynamicBatching || !requested.preferredBatchSizes.isEmpty
                    || requested.maxQueueDelayMicroseconds != nil) && served.dynamicBatching != packed.dynamicBatching
            ),
            (.xrt, requested.xrt != nil && served.parameters != packed.parameters),
            (.versionPolicy, requested.versionPolicy != nil && served.versionPolicy != packed.versionPolicy),
        ]
        let ignored = asked.filter(\.1).map(\.0)
        if !ignored.isEmpty { found.append(.settingsNotApplied(ignored, config: configPath)) }
        return found
    }
}
