import Foundation
import TritonPackModels
import TritonPackRepository

public struct LintOptions: Sendable {
    /// The target server's GPU count (ids 0..<n); nil when unknown, which skips GPU availability checks.
    public var gpus: Int?
    /// Whether the server runs with auto-complete (Triton's default) or `--disable-auto-complete-config`.
    public var autoComplete: Bool
    /// The target's backend directory; nil means "the backends Triton ships".
    public var backendDirectory: URL?
    /// `--model-config-name` of the target server.
    public var modelConfigName: String?
    /// The target's `--repoagent-directory`; nil means "the repository agents Triton's images ship".
    public var repoAgentDirectory: URL?

    public init(
        gpus: Int? = nil, autoComplete: Bool = true, backendDirectory: URL? = nil, modelConfigName: String? = nil,
        repoAgentDirectory: URL? = nil
    ) {
        self.gpus = gpus
        self.autoComplete = autoComplete
        self.backendDirectory = backendDirectory
        self.modelConfigName = modelConfigName
        self.repoAgentDirectory = repoAgentDirectory
    }
}

/// One model directory as the linter sees it: its files, its config as written and as Triton
/// normalizes it before validating.
public struct ModelUnderLint: Sendable {
    public var name: String
    public var directory: URL
    /// The model directory relative to the linted path ("" when the model itself was linted).
    public var displayPath: String
    /// Entries of the model directory, sorted byte-wise as Triton's std::set.
    public var entries: [String]
    /// The config file relative to the model directory, when one exists.
    public var configFile: String?
    public var configText: [UInt8]?
    public var document: TextProtoDocument<Inference_ModelConfig>?
    public var syntaxError: TextProtoSyntaxError?
    /// A config file that exists but cannot be read.
    public var readError: String?
    /// The config as written (empty when absent or unparsable).
    public var written: Inference_ModelConfig
    /// After Triton's AutoCompleteBackendFields and NormalizeModelConfig.
    public var config: Inference_ModelConfig
    /// Set when Triton cannot determine a backend (custom-backend naming).
    public var backendDetectionError: String?
    /// The entries that are folders, read once when the model is loaded (every rule asks).
    public var subdirectories: [String] = []
    /// A Python-backend model running a saved graph with OneFlow's runtime (see
    /// `LintContext.isOneFlowPython`), found once when the model is loaded.
    public var isOneFlowPython = false

    public var isEnsemble: Bool { config.platform == "ensemble" }
    public var isUsable: Bool { document != nil || (configFile == nil && readError == nil) }

    /// A path relative to the model directory, made relative to the linted path.
    public func display(_ relative: String) -> String {
        if relative.isEmpty { return displayPath.isEmpty ? "." : displayPath }
        return displayPath.isEmpty ? relative : "\(displayPath)/\(relative)"
    }

    /// Version folders as Triton's VersionsToLoad reads them (std::stoll semantics).
    public var versionFolders: [(folder: String, version: Int64?)] {
        subdirectories.filter { !["warmup", "initial_state", "configs"].contains($0) }.map {
            ($0, TritonVersionName.parse($0))
        }
    }

    /// The versions Triton loads: folders whose name parses and has no leading zero.
    public var availableVersions: [Int64] {
        versionFolders.compactMap { folder, version in
            guard let version, !(folder.count > 1 && folder.hasPrefix("0")) else { return nil }
            return version
        }.sorted()
    }

    /// The versions the (normalized) version policy selects among the available ones.
    public var servedVersions: [Int64] {
        VersionPolicyEvaluation.served(config.versionPolicy, available: availableVersions)
    }
}

/// How `std::stoll` reads a version folder name: leading spaces, a sign, digits, then anything.
public enum TritonVersionName {
    public static func parse(_ name: String) -> Int64? {
        var characters = Substring(name)
        while let first = characters.first, first == " " || first == "\t" || first == "\n" { characters.removeFirst() }
        var sign: Int64 = 1
        if let first = characters.first, first == "+" || first == "-" {
            if first == "-" { sign = -1 }
            characters.removeFirst()
        }
        let digits = characters.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let value = Int64(digits) else { return nil }
        return sign * value
    }
}

/// Everything a rule may look at.
public struct LintContext: Sendable {
    public var model: ModelUnderLint
    public var repository: [String: ModelUnderLint]
    public var options: LintOptions
}

/// Collects a rule's findings for one model, placing each in the config file or another file.
public struct DiagnosticSink: Sendable {
    public private(set) var diagnostics: [Diagnostic] = []
    package var rule = ""
    package var severity = Severity.error
    package let model: ModelUnderLint

    package init(model: ModelUnderLint) { self.model = model }

    /// Reports at a config field (e.g. `input[0].dims`), or at the config file when the field has no position.
    public mutating func report(_ message: String, at field: String? = nil, severity: Severity? = nil) {
        let position = field.flatMap(position(of:))
        let file = model.configFile.map(model.display)
        diagnostics.append(
            Diagnostic(
                severity: severity ?? self.severity, rule: rule, message: message, model: model.name,
                file: file ?? model.display(""), line: position?.line, column: position?.column))
    }

    /// Where `field` was written; a repeated field (`instance_group`, `input[0].dims`) is written
    /// where its first element is (the document records elements, not the list).
    private func position(of field: String) -> SourcePosition? {
        guard let document = model.document else { return nil }
        return document.positions[field] ?? document.positions[field + "[0]"] ?? document.position(of: field)
    }

    /// Reports at a file relative to the model directory.
    public mutating func report(_ message: String, file: String, line: Int? = nil, column: Int? = nil, severity: Severity? = nil)
    {
        diagnostics.append(
            Diagnostic(
                severity: severity ?? self.severity, rule: rule, message: message, model: model.name,
                file: model.display(file), line: line, column: column))
    }
}
