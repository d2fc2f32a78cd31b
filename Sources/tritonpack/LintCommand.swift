import ArgumentParser
import Foundation
import TritonPackKit

struct LintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Validate a model repository (or one model folder) the way Triton loads it.",
        discussion: """
            Exit 0 when there is no error (with --strict, no warning either), 1 when there is, 2 for a usage problem.
            Diagnostics name file:line:column (relative to the linted path), Triton's wording, and the rule id
            (see docs/lint-rules.md or `tritonpack rules`).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, sarif }

    @Argument(help: "A model repository or a model folder.", transform: nonEmptyPath)
    var path: String

    @Option(help: "text, json or sarif.")
    var format: Format = .text

    @Option(help: "GPUs of the target server (ids 0..N-1); 0 = a CPU-only server. Unset: GPU availability is not checked.")
    var gpus: Int?

    @Flag(help: "Lint as for a server started with --disable-auto-complete-config (configs must be complete; OneFlow Serving does this).")
    var disableAutoCompleteConfig = false

    @Option(help: "The target's backend directory; default: the backends Triton's images ship.")
    var backendDirectory: String?

    @Option(help: "The target's --model-config-name.")
    var modelConfigName: String?

    @Option(help: "The target's repository-agent directory (--repoagent-directory); default: the agents Triton's images ship (checksum).")
    var repoagentDirectory: String?

    @Flag(help: "Exit 1 on warnings too.")
    var strict = false

    @Flag(help: "Accept a repository without any model folder (exit 0) instead of refusing it.")
    var allowEmpty = false

    func validate() throws {
        if let gpus, gpus < 0 { throw ValidationError("--gpus must be >= 0") }
    }

    /// What to lint instead, when `path` is a model file or a folder inside a model.
    func misplacedPath() -> String? {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let parent = url.deletingLastPathComponent()
        if POSIXFiles.isRegularFile(url.path) && url.lastPathComponent == "config.pbtxt" {
            return "is a model's config; lint the model folder \(parent.path) or the repository above it"
        }
        if POSIXFiles.isRegularFile(url.path) {
            return "is a file; lint takes a model repository or one model folder (<repository>/<model>, holding config.pbtxt and version folders). To check a model file, pack it first: tritonpack pack \(path) --repo REPOSITORY"
        }
        let insideVersion = Int64(url.lastPathComponent) != nil
            && POSIXFiles.isRegularFile(parent.appendingPathComponent("config.pbtxt").path)
        let isModelFile = POSIXFiles.isRegularFile(url.appendingPathComponent("model.mlir").path)
            || POSIXFiles.isRegularFile(url.appendingPathComponent("model.onnx").path)
        if insideVersion || isModelFile {
            let model = insideVersion ? parent : parent.deletingLastPathComponent()
            return "is inside a model folder, not a repository; lint the model folder \(model.path) or the repository \(model.deletingLastPathComponent().path)"
        }
        return nil
    }

    func run() async throws {
        var lintPath = URL(fileURLWithPath: path)
        var downloaded: URL?
        defer { if let downloaded { try? FileManager.default.removeItem(at: downloaded) } }
        if S3Location.isS3(path) {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tritonpack-s3-lint-\(UUID().uuidString)")
            downloaded = folder
            do {
                lintPath = try await S3ModelStore.downloadForReading(path, into: folder)
            } catch let error as TritonPackError {
                printError("error: \(error.description)")
                throw ReportedFailure(status: ExitStatus(error.kind))
            }
        }
        let options = LintOptions(
            gpus: gpus, autoComplete: !disableAutoCompleteConfig,
            backendDirectory: backendDirectory.map { URL(fileURLWithPath: $0) }, modelConfigName: modelConfigName,
            repoAgentDirectory: repoagentDirectory.map { URL(fileURLWithPath: $0) })
        var report = Linter(options: options).lint(path: lintPath)
        if downloaded != nil { report.path = path }
        if downloaded == nil, let misplaced = misplacedPath() {
            report.models = []
            report.diagnostics = [
                Diagnostic(severity: .error, rule: "repository-path", message: misplaced, model: nil, file: report.path)
            ]
        }
        if report.models.isEmpty && report.errorCount == 0 && !allowEmpty {
            report.diagnostics.append(
                Diagnostic(
                    severity: .error, rule: "repository-path",
                    message: "contains no model folder: Triton would serve nothing. Lint the repository (the folder that holds <model>/config.pbtxt), or pass --allow-empty if an empty repository is expected",
                    model: nil, file: report.path))
        }
        let failed = report.errorCount > 0 || (strict && report.warningCount > 0)
        switch format {
        case .text: print(LintReporter.text(report), terminator: "")
        case .json: print(try LintReporter.json(report, ok: !failed), terminator: "")
        case .sarif: print(try LintReporter.sarif(report), terminator: "")
        }
        if failed { throw ReportedFailure(status: .refused) }
    }
}

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Print the lint rule reference (Markdown) generated from the rules' metadata.")

    func run() throws {
        print(LintReporter.ruleReference(), terminator: "")
    }
}
