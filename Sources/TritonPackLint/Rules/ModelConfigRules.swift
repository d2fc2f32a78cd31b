import Foundation

/// R2, R3, R5: platform and backend must agree.
package struct PlatformBackendRule: LintRule {
    public static let description = RuleDescription(
        identifier: "platform-backend", name: "Platform and backend", severity: .error, phase: .poll,
        catalog: ["R2", "R3", "R4", "R5"],
        summary:
            "A config needs a backend (or the ensemble platform); for the TensorFlow, TensorRT, ONNX Runtime and PyTorch backends, the platform must be one of theirs. Platform `libtorch` is accepted by detection but fails here.",
        tritonMessage: "unexpected 'platform' and 'backend' pair, got:{platform}, {backend}",
        triggering: [
            .config("↓platform: \"onnxruntim\"\nbackend: \"onnxruntime\""),
            .config("platform: \"ensemble\"\n↓backend: \"python\""),
            .config("↓platform: \"libtorch\"", extra: ["1/model.pt": ""]),
        ],
        nonTriggering: [
            .config("platform: \"onnxruntime_onnx\"", extra: ["1/model.onnx": ""]), .config("backend: \"python\""),
            // A TensorFlow platform alone is completed to backend "tensorflow".
            LintExample(files: ["config.pbtxt": "platform: \"tensorflow_savedmodel\"", "1/model.savedmodel/saved_model.pb": ""]),
            LintExample(files: ["config.pbtxt": "platform: \"tensorflow_graphdef\"", "1/model.graphdef": ""]),
        ],
        tritonSource: [
            "core src/model_config_utils.cc ValidateModelConfig, GetBackendType/GetBackendTypeFromPlatform",
            "core src/model_config_utils.cc AutoCompleteBackendFields (a TensorFlow platform fills an empty backend and default_model_filename)",
        ])

    package static let platformBackends: [String: String] = [
        "tensorflow_graphdef": "tensorflow", "tensorflow_savedmodel": "tensorflow", "tensorrt_plan": "tensorrt",
        "onnxruntime_onnx": "onnxruntime", "pytorch_libtorch": "pytorch", "torch_aoti": "pytorch",
    ]

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let config = context.model.config
        let name = config.name
        if config.backend.isEmpty && config.platform != "ensemble" {
            report.report("unexpected platform type '\(config.platform)' for \(name)", at: "platform")
            return
        }
        if !config.backend.isEmpty && config.platform == "ensemble" {
            report.report(
                "Ensemble model '\(name)' must have platform type 'ensemble' and empty backend type", at: "backend")
            return
        }
        if ["tensorflow", "tensorrt", "onnxruntime", "pytorch"].contains(config.backend),
            Self.platformBackends[config.platform] != config.backend
        {
            report.report(
                "unexpected 'platform' and 'backend' pair, got:\(config.platform), \(config.backend)", at: "platform")
        }
    }
}

/// R6
package struct MaxBatchSizeRule: LintRule {
    public static let description = RuleDescription(
        identifier: "max-batch-size-negative", name: "Negative max_batch_size", severity: .error, phase: .poll, catalog: ["R6"],
        summary: "max_batch_size must be >= 0.",
        tritonMessage: "'max_batch_size' must be non-negative value for {model}",
        triggering: [.config("backend: \"python\"\n↓max_batch_size: -1")],
        nonTriggering: [.config("backend: \"python\"\nmax_batch_size: 0")])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        guard context.model.config.maxBatchSize < 0 else { return }
        report.report("'max_batch_size' must be non-negative value for \(context.model.config.name)", at: "max_batch_size")
    }
}

/// R8-R13: dynamic batching sizes, priorities and queue policies.
package struct DynamicBatchingRule: LintRule {
    public static let description = RuleDescription(
        identifier: "dynamic-batching", name: "Dynamic batching settings", severity: .error, phase: .poll,
        catalog: ["R8", "R9", "R10", "R11", "R12", "R13"],
        summary: "Preferred batch sizes must be in 1..max_batch_size; priority levels and queue policies must be consistent.",
        tritonMessage: "dynamic batching preferred size must be <= max batch size for {model}",
        triggering: [
            .config("backend: \"python\"\nmax_batch_size: 4\ndynamic_batching { ↓preferred_batch_size: [ 8 ] }"),
            .config("backend: \"python\"\ndynamic_batching { ↓preferred_batch_size: [ 1 ] }"),
            .config("backend: \"python\"\nmax_batch_size: 4\ndynamic_batching { priority_levels: 3 ↓default_priority_level: 0 }"),
            .config(
                "backend: \"python\"\nmax_batch_size: 4\ndynamic_batching { ↓preserve_ordering: true priority_levels: 2 default_priority_level: 1 }"
            ),
        ],
        nonTriggering: [
            .config(
                "backend: \"python\"\nmax_batch_size: 8\ndynamic_batching { preferred_batch_size: [ 4, 8 ] priority_levels: 2 default_priority_level: 2 }"
            )
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let config = context.model.config
        guard case .dynamicBatching(let batching)? = config.schedulingChoice else { return }
        let name = config.name
        let field = "dynamic_batching"
        if batching.preferredBatchSize.contains(where: { $0 <= 0 }) {
            report.report("dynamic batching preferred size must be positive for \(name)", at: "\(field).preferred_batch_size")
            return
        }
        if batching.preferredBatchSize.contains(where: { $0 > config.maxBatchSize }) {
            report.report(
                "dynamic batching preferred size must be <= max batch size for \(name)", at: "\(field).preferred_batch_size")
            return
        }
        let levels = batching.priorityLevels
        if levels != 0 && (batching.defaultPriorityLevel == 0 || batching.defaultPriorityLevel > levels) {
            report.report(
                "default priority level must be in range [1, \(levels)] for \(name)", at: "\(field).default_priority_level")
            return
        }
        if levels != 0 && batching.priorityQueuePolicy.keys.contains(where: { $0 == 0 || $0 > levels }) {
            report.report(
                "priority queue policy must have priority level in range [1, \(levels)] for \(name)",
                at: "\(field).priority_queue_policy")
            return
        }
        if batching.preserveOrdering {
            if levels > 1 {
                report.report(
                    "Only one priority level is allowed when 'preserve_ordering' is true for \(name)",
                    at: "\(field).preserve_ordering")
                return
            }
            let policies = [batching.defaultQueuePolicy] + Array(batching.priorityQueuePolicy.values)
            if policies.contains(where: { $0.defaultTimeoutMicroseconds != 0 && $0.timeoutAction == .delay }) {
                report.report(
                    "Queue policy can not have DELAY as timeout action when 'preserve_ordering' is true for \(name)",
                    at: "\(field).preserve_ordering")
            }
        }
    }
}

/// R14, R27: the response cache does not work with sequence batching or decoupled models.
package struct ResponseCacheRule: LintRule {
    public static let description = RuleDescription(
        identifier: "response-cache", name: "Response cache conflicts", severity: .error, phase: .poll, catalog: ["R14", "R27"],
        summary: "The response cache cannot be enabled for models with the sequence batcher or a decoupled transaction policy.",
        tritonMessage:
            "Response Cache does not currently support model {model} with sequence batching scheduler. Please disable the response cache.",
        triggering: [.config("backend: \"python\"\nsequence_batching {}\n↓response_cache { enable: true }")],
        nonTriggering: [.config("backend: \"python\"\nresponse_cache { enable: true }")])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let config = context.model.config
        guard config.responseCache.enable else { return }
        if case .sequenceBatching? = config.schedulingChoice {
            report.report(
                "Response Cache does not currently support model \(config.name) with sequence batching scheduler. Please disable the response cache.",
                at: "response_cache")
        } else if config.modelTransactionPolicy.decoupled {
            report.report(
                "Response Cache does not currently support model \(config.name) with 'decoupled' transaction policy. Please disable the response cache.",
                at: "response_cache")
        }
    }
}

/// R26, R56: ensemble_scheduling exactly when the platform is `ensemble`.
package struct EnsemblePlatformRule: LintRule {
    public static let description = RuleDescription(
        identifier: "ensemble-platform", name: "Ensemble scheduling and platform", severity: .error, phase: .poll,
        catalog: ["R26", "R56"],
        summary: "ensemble_scheduling belongs to platform `ensemble` only, and an ensemble needs it.",
        tritonMessage: "ensemble scheduling cannot be set for model '{model}' whose platform is not ensemble",
        triggering: [
            .config("backend: \"python\"\n↓ensemble_scheduling { step [ { model_name: \"x\" } ] }"),
            .config("↓platform: \"ensemble\""),
        ],
        nonTriggering: [.config("backend: \"python\"")])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let config = context.model.config
        let hasEnsemble: Bool
        if case .ensembleScheduling? = config.schedulingChoice { hasEnsemble = true } else { hasEnsemble = false }
        if hasEnsemble && config.platform != "ensemble" {
            report.report(
                "ensemble scheduling cannot be set for model '\(config.name)' whose platform is not ensemble",
                at: "ensemble_scheduling")
        } else if !hasEnsemble && config.platform == "ensemble" {
            report.report(
                "ensemble scheduling must be set for ensemble \(config.name) whose platform is ensemble", at: "platform")
        }
    }
}
