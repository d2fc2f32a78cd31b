/// Every built-in rule, in the order Triton meets the conditions when it loads a model with
/// `--disable-auto-complete-config`: parse, detection, ValidateModelConfig, ValidateModelIOConfig,
/// the name check, ensemble dependencies, versions, backend, instance groups, the backend's model
/// setup, backend instance checks, labels, warmup, sequence state. tritonpack's own warnings come
/// last.
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
        BatchOutputTargetRule(),
        BatchIOSupportRule(),
        ModelFileRule(),
        ONNXRuntimeModelRule(),
        ONNXCheckerSkippedRule(),
        OneFlowTensorNamesRule(),
        OneFlowDataTypeRule(),
        OneFlowGraphRule(),
        OneFlowPythonEnvironmentRule(),
        LabelFileRule(),
        WarmupRule(),
        DecoupledWarmupRule(),
        SequenceStateRule(),
        DuplicateIONameRule(),
        OneFlowInstancesRule(),
        OneFlowOutputNumberingRule(),
    ]

    /// The rules in Triton's order for the given mode: with auto-complete on, Triton validates
    /// inputs and outputs in Model::Init (which is also where a model without config is refused),
    /// after the instance groups and the backend's TRITONBACKEND_ModelInitialize, rather than at
    /// poll time.
    package static let orderedWithAutoComplete: [any LintRule] = {
        let io = all.filter { $0.description.phase == .inputOutput }
        var rest = all.filter { $0.description.phase != .inputOutput && !($0 is MissingConfigRule) }
        let after = rest.firstIndex { $0 is BatchOutputTargetRule }! + 1
        rest.insert(contentsOf: [MissingConfigRule()] + io, at: after)
        return rest
    }()

    public static func ordered(autoComplete: Bool) -> [any LintRule] {
        autoComplete ? orderedWithAutoComplete : all
    }

    public static func rule(_ identifier: String) -> (any LintRule)? {
        all.first { $0.description.identifier == identifier }
    }
}
