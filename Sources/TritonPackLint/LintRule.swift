/// When Triton meets a rule's condition while it loads a model.
public enum LintPhase: Sendable {
    /// While polling the model folder (InitializeModelInfo: parse, repository agents,
    /// AutoCompleteBackendFields, NormalizeModelConfig, ValidateModelConfig, the name check): a
    /// model failing here never enters the dependency graph.
    case poll
    /// ValidateModelIOConfig: at poll time without auto-complete; with it, in Model::Init, after
    /// the instance groups.
    case inputOutput
    /// At poll time only without auto-complete (with it, a backend may derive the config).
    case pollWithoutAutoComplete
    /// While loading a version: backend, instance groups, model files, warmup.
    case versionLoad

    package func atPoll(autoComplete: Bool) -> Bool {
        switch self {
        case .poll: true
        case .inputOutput, .pollWithoutAutoComplete: !autoComplete
        case .versionLoad: false
        }
    }
}

/// What a rule is, for users (the rule reference) and for the tests (its examples).
public struct RuleDescription: Sendable {
    public var identifier: String
    public var name: String
    public var severity: Severity
    /// The rule-catalog entries it implements (e.g. `R30-R35`), empty for tritonpack's own rules.
    public var catalog: [String]
    public var summary: String
    /// Triton's wording where Triton has a matching check; `{model}`-style placeholders.
    public var tritonMessage: String?
    public var triggering: [LintExample]
    public var nonTriggering: [LintExample]
    /// Where in Triton's (or a backend's) source the reproduced behaviour comes from.
    public var tritonSource: [String]
    public var phase: LintPhase

    public init(
        identifier: String, name: String, severity: Severity, phase: LintPhase = .versionLoad, catalog: [String] = [],
        summary: String, tritonMessage: String? = nil, triggering: [LintExample], nonTriggering: [LintExample],
        tritonSource: [String] = []
    ) {
        self.tritonSource = tritonSource
        self.phase = phase
        self.identifier = identifier
        self.name = name
        self.severity = severity
        self.catalog = catalog
        self.summary = summary
        self.tritonMessage = tritonMessage
        self.triggering = triggering
        self.nonTriggering = nonTriggering
    }
}

/// A check over one model (with the repository around it for cross-model rules).
public protocol LintRule: Sendable {
    static var description: RuleDescription { get }
    init()
    func check(_ context: LintContext, _ report: inout DiagnosticSink)
}

extension LintRule {
    public var description: RuleDescription { Self.description }
}
