import ArgumentParser
import Foundation
import TritonPackKit

struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Validate a model repository (or one model folder) the way Triton loads it.",
        discussion: """
            Exit 0 when there is no error (with --strict, no warning either), 1 when there is, 2 for a usage problem.
            Diagnostics name file:line:column (relative to the linted path), Triton's wording, and the rule id
            (see docs/lint-rules.md or `tritonpack rules`).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, sarif }

    @Argument(help: "A model repository or a model folder.")
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

    func validate() throws {
        if let gpus, gpus < 0 { throw ValidationError("--gpus must be >= 0") }
    }

    func run() throws {
        let options = LintOptions(
            gpus: gpus, autoComplete: !disableAutoCompleteConfig,
            backendDirectory: backendDirectory.map { URL(fileURLWithPath: $0) }, modelConfigName: modelConfigName,
            repoAgentDirectory: repoagentDirectory.map { URL(fileURLWithPath: $0) })
        let report = Linter(options: options).lint(path: URL(fileURLWithPath: path))
        switch format {
        case .text: print(LintReporter.text(report), terminator: "")
        case .json: print(try LintReporter.json(report), terminator: "")
        case .sarif: print(try LintReporter.sarif(report), terminator: "")
        }
        if report.errorCount > 0 || (strict && report.warningCount > 0) {
            throw ReportedFailure(status: .refused)
        }
    }
}

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Print the lint rule reference (Markdown) generated from the rules' metadata.")

    func run() throws {
        print(LintReporter.ruleReference(), terminator: "")
    }
}
