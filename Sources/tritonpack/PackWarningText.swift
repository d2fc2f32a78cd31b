import TritonPackKit

extension PackWarning {
    /// The warning as pack prints it, with the command or option that changes the outcome.
    func advice(modelDirectory: String) -> String {
        switch self {
        case .notServed(let version, let policy, let served, _):
            let serving = served.isEmpty ? "nothing" : served.map(String.init).joined(separator: ", ")
            return
                "version \(version) will not be served: version_policy \(policy) serves \(serving); change it with `tritonpack version policy \(modelDirectory) latest:1`"
        case .settingsNotApplied(let settings, _):
            return
                "kept the existing config, which does not carry \(settings.map(\.flag).joined(separator: ", ")); pass --update-config to apply the options"
        }
    }
}

extension PackWarning.Setting {
    /// The pack option that asks for the setting.
    var flag: String {
        switch self {
        case .instanceGroup: "--instance-group"
        case .dynamicBatching: "--dynamic-batching"
        case .xrt: "--xrt"
        case .versionPolicy: "--version-policy"
        }
    }
}
