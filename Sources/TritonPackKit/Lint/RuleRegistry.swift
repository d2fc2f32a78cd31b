/// Every built-in rule, in the order Triton meets the conditions when it loads a model with
/// `--disable-auto-complete-config`: parse, detection, ValidateModelConfig, ValidateModelIOConfig,
/// the name check, ensemble dependencies, versions, backend, instance groups, backend instance
/// checks, labels, warmup, sequence state. tritonpack's own warnings come last.
public enum RuleRegistry {
    public static let all: [any LintRule] = [
        ConfigSyntaxRule(),
        MissingConfigRule(),
        RepositoryAgentRule(),
        BackendUndeterminedRule(),
        HiddenModelDirectoryRule(),
        PlatformBackendRule(),
        MaxBatchSizeRule(),
        DynamicBatchingRule(),
        ResponseCacheRule(),
        SequenceControlRule(),
        SequenceStrategyRule(),
        EnsemblePlatformRule(),
        EnsembleStructureRule(),
        IOConfigRule(),
        BatchInputRule(),
        BatchOutputRule(),
        ModelNameMatchesDirectoryRule(),
        EnsembleDependencyRule(),
        VersionDirectoryNameRule(),
        VersionPolicyRule(),
        BackendLibraryRule(),
        InstanceGroupRule(),
        BatchIOSupportRule(),
        ModelFileRule(),
        ONNXRuntimeModelRule(),
        ONNXCheckerSkippedRule(),
        OneFlowTensorNamesRule(),
        OneFlowDataTypeRule(),
        OneFlowGraphRule(),
        LabelFileRule(),
        WarmupRule(),
        SequenceStateRule(),
        DuplicateIONameRule(),
        OneFlowInstancesRule(),
        OneFlowOutputNumberingRule(),
    ]

    /// Rules that validate inputs and outputs: with auto-complete on, Triton checks them in
    /// Model::Init, after the instance groups rather than at poll time.
    static let ioRules: Set<String> = ["io-config", "batch-input", "batch-output"]

    /// The rules in Triton's order for the given mode.
    public static func ordered(autoComplete: Bool) -> [any LintRule] {
        guard autoComplete else { return all }
        let io = all.filter { ioRules.contains($0.description.identifier) }
        var rest = all.filter { !ioRules.contains($0.description.identifier) }
        let after = rest.firstIndex { $0.description.identifier == "instance-group" }! + 1
        rest.insert(contentsOf: io, at: after)
        return rest
    }

    public static func rule(_ identifier: String) -> (any LintRule)? {
        all.first { $0.description.identifier == identifier }
    }
}
