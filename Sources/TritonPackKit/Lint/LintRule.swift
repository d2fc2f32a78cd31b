/// A model directory written out for a rule's example: files by path relative to the model
/// directory (`config.pbtxt`, `1/model.py`), plus any other models of the same repository.
public struct LintExample: Sendable {
    public var model: String
    public var files: [String: String]
    /// Files whose content is not text (ONNX models), by path relative to the model directory.
    public var binaryFiles: [String: [UInt8]]
    public var otherModels: [String: [String: String]]
    /// Linter options the example needs (e.g. the target's GPU count).
    public var gpus: Int?
    /// false: the example is linted as for a server started with `--disable-auto-complete-config`.
    public var autoComplete: Bool

    public init(
        model: String = "m", files: [String: String], binaryFiles: [String: [UInt8]] = [:],
        otherModels: [String: [String: String]] = [:], gpus: Int? = nil, autoComplete: Bool = true
    ) {
        self.model = model
        self.files = files
        self.binaryFiles = binaryFiles
        self.otherModels = otherModels
        self.gpus = gpus
        self.autoComplete = autoComplete
    }

    /// A model whose config is `config` with a Python-backend version folder `1/model.py`.
    public static func config(
        _ config: String, model: String = "m", gpus: Int? = nil, extra: [String: String] = [:], autoComplete: Bool = true
    ) -> LintExample {
        var files = ["config.pbtxt": config, "1/model.py": "# example\n"]
        files.merge(extra) { $1 }
        return LintExample(model: model, files: files, gpus: gpus, autoComplete: autoComplete)
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

    public init(
        identifier: String, name: String, severity: Severity, catalog: [String] = [], summary: String,
        tritonMessage: String? = nil, triggering: [LintExample], nonTriggering: [LintExample], tritonSource: [String] = []
    ) {
        self.tritonSource = tritonSource
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
