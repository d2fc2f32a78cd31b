import Foundation
import Glibc
import TritonPackModels
import TritonPackRepository

/// What linting a path found.
public struct LintReport: Codable, Sendable {
    public var path: String
    public var models: [String]
    public var diagnostics: [Diagnostic]
    /// Seconds the whole lint took, and each linted model (loading and rules).
    public var seconds: Double?
    public var modelSeconds: [String: Double]?

    public init(
        path: String, models: [String], diagnostics: [Diagnostic], seconds: Double? = nil, modelSeconds: [String: Double]? = nil
    ) {
        self.path = path
        self.models = models
        self.diagnostics = diagnostics
        self.seconds = seconds
        self.modelSeconds = modelSeconds
    }

    public var errorCount: Int { diagnostics.filter { $0.severity == .error }.count }
    public var warningCount: Int { diagnostics.filter { $0.severity == .warning }.count }
}

/// Validates a model repository (or one model folder) the way Triton loads it.
public struct Linter: Sendable {
    public var options: LintOptions

    public init(options: LintOptions = LintOptions()) { self.options = options }

    public func lint(path: URL) -> LintReport {
        let start = Date()
        var report = lintUntimed(path: path)
        report.seconds = -start.timeIntervalSinceNow
        return report
    }

    private func lintUntimed(path: URL) -> LintReport {
        let root = path.standardizedFileURL
        guard POSIXFiles.isDirectory(root.path) else {
            let diagnostic = Diagnostic(
                severity: .error, rule: "repository-path", message: "repository path is not a valid directory",
                model: nil, file: root.path)
            return LintReport(path: root.path, models: [], diagnostics: [diagnostic])
        }
        let repositoryRoot: URL
        let targets: [String]
        var displayPaths: [String: String] = [:]
        if Self.looksLikeModelDirectory(root) {
            repositoryRoot = root.deletingLastPathComponent()
            targets = [root.lastPathComponent]
            displayPaths[root.lastPathComponent] = ""
        } else {
            repositoryRoot = root
            targets = ((try? POSIXFiles.entries(of: root.path)) ?? []).filter {
                POSIXFiles.isDirectory(root.appendingPathComponent($0, isDirectory: false).path)
            }
        }
        // Every model of the repository is loaded: ensembles refer to their neighbours.
        let names = ((try? POSIXFiles.entries(of: repositoryRoot.path)) ?? []).filter {
            POSIXFiles.isDirectory(repositoryRoot.appendingPathComponent($0, isDirectory: false).path)
        }
        var repository: [String: ModelUnderLint] = [:]
        var seconds: [String: Double] = [:]
        for name in names {
            let loadStart = Date()
            defer { seconds[name] = -loadStart.timeIntervalSinceNow }
            repository[name] = ModelLoader.load(
                name: name, directory: repositoryRoot.appendingPathComponent(name, isDirectory: true),
                displayPath: displayPaths[name] ?? name, options: options)
        }
        var diagnostics: [Diagnostic] = []
        for name in targets {
            guard let model = repository[name] else { continue }
            let rulesStart = Date()
            let context = LintContext(model: model, repository: repository, options: options)
            diagnostics += Self.run(RuleRegistry.ordered(autoComplete: options.autoComplete), on: context)
            seconds[name, default: 0] += -rulesStart.timeIntervalSinceNow
        }
        let linted = Set(targets)
        return LintReport(
            path: root.path, models: targets, diagnostics: diagnostics, modelSeconds: seconds.filter { linted.contains($0.key) })
    }

    /// What Triton's load would say of model `name` of the local repository `root` were its config
    /// `configText` (a candidate written nowhere, such as one of tune's).
    public func lint(model name: String, in root: URL, configText: [UInt8]) -> [Diagnostic] {
        let model = ModelLoader.load(
            name: name, directory: root.appendingPathComponent(name), displayPath: name, options: options, configText: configText)
        let context = LintContext(model: model, repository: [name: model], options: options)
        return Self.run(RuleRegistry.ordered(autoComplete: options.autoComplete), on: context)
    }

    /// A folder with a config file or a numeric subfolder is a model, not a repository.
    package static func looksLikeModelDirectory(_ url: URL) -> Bool {
        let entries = (try? POSIXFiles.entries(of: url.path)) ?? []
        return entries.contains(ModelRepository.configFileName)
            || entries.contains {
                ModelNaming.canonicalVersion($0) != nil && POSIXFiles.isDirectory(url.appendingPathComponent($0).path)
            }
    }

    package static func run(_ rules: [any LintRule], on context: LintContext) -> [Diagnostic] {
        var sink = DiagnosticSink(model: context.model)
        let broken = !context.model.isUsable
        for rule in rules {
            let description = rule.description
            if broken && description.identifier != ConfigSyntaxRule.description.identifier { continue }
            if context.model.backendDetectionError != nil
                && ![
                    ConfigSyntaxRule.description.identifier, BackendUndeterminedRule.description.identifier,
                    HiddenModelDirectoryRule.description.identifier, RepositoryAgentRule.description.identifier,
                    MissingConfigRule.description.identifier,
                ].contains(description.identifier)
            {
                continue
            }
            sink.rule = description.identifier
            sink.severity = description.severity
            rule.check(context, &sink)
        }
        return sink.diagnostics
    }

    /// How a composing model fails, as an ensemble that depends on it sees the failure.
    package struct ModelFailure {
        package var message: String
        package var rule: String
        /// Failed while polling: the ensemble then reports the model as not available.
        package var atPoll: Bool
    }

    /// The first error Triton would fail a (composing) model with, if any.
    package static func firstFailure(of model: ModelUnderLint, context: LintContext) -> ModelFailure? {
        let rules = RuleRegistry.ordered(autoComplete: context.options.autoComplete).filter {
            $0.description.identifier != EnsembleDependencyRule.description.identifier
        }
        let inner = LintContext(model: model, repository: context.repository, options: context.options)
        guard let error = run(rules, on: inner).first(where: { $0.severity == .error }) else { return nil }
        return ModelFailure(
            message: error.message, rule: error.rule,
            atPoll: RuleRegistry.rule(error.rule)?.description.phase.atPoll(autoComplete: context.options.autoComplete) ?? false)
    }

    /// The message Triton would fail a (composing) model with, if any.
    package static func firstError(of model: ModelUnderLint, context: LintContext) -> String? {
        firstFailure(of: model, context: context)?.message
    }
}
