import Foundation
import Glibc

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
    static func looksLikeModelDirectory(_ url: URL) -> Bool {
        let entries = (try? POSIXFiles.entries(of: url.path)) ?? []
        return entries.contains(ModelRepository.configFileName)
            || entries.contains {
                ModelRepository.canonicalVersion($0) != nil && POSIXFiles.isDirectory(url.appendingPathComponent($0).path)
            }
    }

    static func run(_ rules: [any LintRule], on context: LintContext) -> [Diagnostic] {
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
    struct ModelFailure {
        var message: String
        var rule: String
        /// Failed while polling: the ensemble then reports the model as not available.
        var atPoll: Bool
    }

    /// The first error Triton would fail a (composing) model with, if any.
    static func firstFailure(of model: ModelUnderLint, context: LintContext) -> ModelFailure? {
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
    static func firstError(of model: ModelUnderLint, context: LintContext) -> String? {
        firstFailure(of: model, context: context)?.message
    }
}

/// Reads one model folder: its entries, config file, parse, and Triton's normalization.
enum ModelLoader {
    /// `configText`, when given, stands for the config file's contents.
    static func load(name: String, directory: URL, displayPath: String, options: LintOptions, configText: [UInt8]? = nil)
        -> ModelUnderLint
    {
        var entries = (try? POSIXFiles.entries(of: directory.path)) ?? []
        var configFile: String?
        if configText != nil {
            configFile = ModelRepository.configFileName
            if !entries.contains(ModelRepository.configFileName) { entries.append(ModelRepository.configFileName) }
        } else if let custom = options.modelConfigName,
            POSIXFiles.exists(directory.appendingPathComponent("configs/\(custom).pbtxt", isDirectory: false).path)
        {
            configFile = "configs/\(custom).pbtxt"
        } else if entries.contains(ModelRepository.configFileName) {
            configFile = ModelRepository.configFileName
        }
        var model = ModelUnderLint(
            name: name, directory: directory, displayPath: displayPath, entries: entries, configFile: configFile,
            configText: nil, document: nil, syntaxError: nil, readError: nil, written: Inference_ModelConfig(),
            config: Inference_ModelConfig(), backendDetectionError: nil)
        if let configFile {
            let path = directory.appendingPathComponent(configFile, isDirectory: false).path
            switch configText.map({ ReadResult.success($0) }) ?? readRegularFile(path) {
            case .success(let bytes):
                model.configText = bytes
                do {
                    let document = try Inference_ModelConfig.parse(bytes: bytes)
                    if let error = Triton251Proto.unknownField(in: document, text: bytes) {
                        model.syntaxError = error
                    } else {
                        model.document = document
                        model.written = document.message
                    }
                } catch let error as TextProtoSyntaxError {
                    model.syntaxError = error
                } catch {
                    model.readError = "failed to read text proto from \(path): \(error)"
                }
            case .failure(let message):
                model.readError = message
            }
        }
        model.subdirectories = entries.filter {
            POSIXFiles.isDirectory(directory.appendingPathComponent($0, isDirectory: false).path)
        }
        var config = model.written
        model.backendDetectionError = BackendDetection.complete(&config, modelName: name, directory: directory)
        ConfigNormalization.normalize(&config)
        model.config = config
        model.isOneFlowPython =
            config.backend == "python"
            && model.servedVersions.contains { version in
                let folder = directory.appendingPathComponent(String(version), isDirectory: true)
                return POSIXFiles.isRegularFile(folder.appendingPathComponent("model.py", isDirectory: false).path)
                    && POSIXFiles.isRegularFile(
                        folder.appendingPathComponent(
                            "\(OneFlowBackend.modelFolder)/\(OneFlowSavedGraph.graphFileName)", isDirectory: false
                        ).path)
            }
        return model
    }

    enum ReadResult {
        case success([UInt8])
        case failure(String)
    }

    /// Reads a file without blocking on FIFOs or following it into devices.
    static func readRegularFile(_ path: String) -> ReadResult {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .failure("failed to open text file for read \(path): \(POSIXFiles.errnoMessage())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            return .failure("failed to open text file for read \(path): not a regular file")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .failure("failed to read text proto from \(path): \(POSIXFiles.errnoMessage())")
            }
            if count == 0 { break }
            offset += count
        }
        return .success(Array(bytes[0..<offset]))
    }
}

/// Fields of the project's model_config.proto (Triton common, 2026) that the model_config.proto
/// built into Triton 2.51 (r24.10) does not have: 2.51's parser refuses them as unknown fields
/// ("failed to read text proto"; seen on the 2.51 server for exactly these two of the fields
/// tried, every other field of the proto loading).
enum Triton251Proto {
    static let newerFields: [(path: String, message: String, field: String)] = [
        ("model_metrics", "inference.ModelConfig", "model_metrics"),
        ("ensemble_scheduling.max_inflight_requests", "inference.ModelEnsembling", "max_inflight_requests"),
    ]

    /// The first such field in the text, as libprotobuf's parser would report it: at the token
    /// after the field name (seen: `model_metrics {` on line 10 is reported as 10:15).
    static func unknownField(in document: TextProtoDocument<Inference_ModelConfig>, text: [UInt8]) -> TextProtoSyntaxError? {
        let found = newerFields.compactMap { field in document.positions[field.path].map { (field, $0) } }
        guard let (field, position) = found.min(by: { ($0.1.line, $0.1.column) < ($1.1.line, $1.1.column) }) else {
            return nil
        }
        return TextProtoSyntaxError(
            message: "Message type \"\(field.message)\" has no field named \"\(field.field)\".",
            position: tokenAfterName(at: position, in: text))
    }

    /// The position of the first token after the identifier that starts at `position` (1-based).
    static func tokenAfterName(at position: SourcePosition, in text: [UInt8]) -> SourcePosition {
        var line = 1
        var index = 0
        while index < text.count && line < position.line {
            if text[index] == UInt8(ascii: "\n") { line += 1 }
            index += 1
        }
        var column = 1
        index += position.column - 1
        column = position.column
        func isName(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
        }
        while index < text.count && isName(text[index]) {
            index += 1
            column += 1
        }
        while index < text.count {
            switch text[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                column += 1
            case UInt8(ascii: "\n"):
                line += 1
                column = 0
            case UInt8(ascii: "#"):
                while index + 1 < text.count && text[index + 1] != UInt8(ascii: "\n") { index += 1 }
            default:
                return SourcePosition(line: line, column: column)
            }
            index += 1
        }
        return SourcePosition(line: line, column: column)
    }
}
