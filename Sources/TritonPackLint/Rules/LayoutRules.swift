import Foundation
import TritonPackModels

/// L10: Triton must be able to tell the backend.
package struct BackendUndeterminedRule: LintRule {
    public static let description = RuleDescription(
        identifier: "backend-undetermined", name: "Backend cannot be determined", severity: .error, phase: .poll,
        catalog: ["L10"],
        summary:
            "With no backend or platform in the config and no recognised model file in the first version folder, Triton takes the backend from the model name's first '.', and fails without one.",
        tritonMessage:
            "Invalid model name: Could not determine backend for model '{model}' with no backend in model configuration. Expected model name of the form 'model.<backend_name>'.",
        triggering: [
            LintExample(files: ["config.pbtxt": "max_batch_size: 1", "1/weights.bin": ""], fileLevel: ["config.pbtxt"])
        ],
        nonTriggering: [LintExample(files: ["config.pbtxt": "max_batch_size: 1", "1/model.py": ""])])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        if let error = context.model.backendDetectionError { report.report(error) }
    }
}

/// L2: every folder in a repository root is polled as a model, hidden ones too.
package struct HiddenModelDirectoryRule: LintRule {
    public static let description = RuleDescription(
        identifier: "hidden-model-directory", name: "Hidden folder polled as a model", severity: .warning,
        catalog: ["L2"],
        summary:
            "Triton does not skip hidden folders (e.g. .ipynb_checkpoints) in a repository root: each is loaded as a model and usually fails.",
        triggering: [
            LintExample(
                model: ".ipynb_checkpoints", files: ["config.pbtxt": "backend: \"python\"", "1/model.py": ""], fileLevel: [""])
        ],
        nonTriggering: [.config("backend: \"python\"")])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        guard context.model.name.hasPrefix(".") else { return }
        report.report(
            "hidden folder '\(context.model.name)' is polled by Triton as a model; remove it from the repository",
            file: "")
    }
}

/// L6: version folder names Triton skips or misreads.
package struct VersionDirectoryNameRule: LintRule {
    public static let description = RuleDescription(
        identifier: "version-directory-name", name: "Non-canonical version folder", severity: .warning, catalog: ["L6"],
        summary:
            "Version folders must be plain decimal numbers: names with leading zeros or that are not numbers are skipped, and names like '1abc' or '+2' are read as a number whose folder does not exist.",
        tritonMessage: "ignore version directory '{d}' which contains leading zeros in its directory name",
        triggering: [
            .config("backend: \"python\"", extra: ["01/model.py": ""], fileLevel: ["01"]),
            .config("backend: \"python\"", extra: ["latest/model.py": ""], fileLevel: ["latest"]),
            .config("backend: \"python\"", extra: ["2abc/model.py": ""], fileLevel: ["2abc"]),
        ],
        nonTriggering: [.config("backend: \"python\"", extra: ["0/model.py": "", "10/model.py": ""])])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        for (folder, version) in context.model.versionFolders {
            guard let version else {
                report.report("ignore version directory '\(folder)' which fails to convert to integral number", file: folder)
                continue
            }
            if folder.count > 1 && folder.hasPrefix("0") {
                report.report(
                    "ignore version directory '\(folder)' which contains leading zeros in its directory name", file: folder)
            } else if String(version) != folder {
                report.report(
                    "version directory '\(folder)' is read by Triton as version \(version), whose files it then looks for in '\(version)/'",
                    file: folder)
            }
        }
    }
}

/// L7: the version policy must select at least one existing version.
package struct VersionPolicyRule: LintRule {
    public static let description = RuleDescription(
        identifier: "version-policy", name: "Version policy serves nothing", severity: .error, catalog: ["L7"],
        summary:
            "The version policy must select at least one existing version folder (`latest {}` selects none); a `specific` version without a folder is skipped.",
        tritonMessage: "at least one version must be available under the version policy of model '{model}'",
        triggering: [
            LintExample(files: ["config.pbtxt": "backend: \"python\""], fileLevel: ["config.pbtxt"]),
            .config("backend: \"python\"\n↓version_policy { latest {} }"),
            .config("backend: \"python\"\n↓version_policy { specific { ↓versions: [ 3 ] } }"),
        ],
        nonTriggering: [.config("backend: \"python\"\nversion_policy { specific { versions: [ 1 ] } }")])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        if case .specific(let specific)? = model.config.versionPolicy.policyChoice {
            for version in specific.versions where !model.availableVersions.contains(version) {
                report.report(
                    "version \(version) is specified for model '\(model.name)', but the version directory is not present",
                    at: "version_policy.specific.versions", severity: .warning)
            }
        }
        if model.servedVersions.isEmpty {
            report.report(
                "at least one version must be available under the version policy of model '\(model.name)'",
                at: "version_policy")
        }
    }
}

/// L8: the config's name must equal the folder's.
package struct ModelNameMatchesDirectoryRule: LintRule {
    public static let description = RuleDescription(
        identifier: "model-name-mismatch", name: "Config name differs from folder", severity: .error, phase: .poll,
        catalog: ["L8"],
        summary: "If config.pbtxt sets `name`, it must equal the model folder's name.",
        tritonMessage: "unexpected directory name '{dir}' for model '{name}', directory name must equal model name",
        triggering: [.config("↓name: \"other\"\nbackend: \"python\"")],
        nonTriggering: [.config("name: \"m\"\nbackend: \"python\""), .config("backend: \"python\"")])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        guard !model.written.name.isEmpty, model.written.name != model.name else { return }
        report.report(
            "unexpected directory name '\(model.name)' for model '\(model.written.name)', directory name must equal model name",
            at: "name")
    }
}
