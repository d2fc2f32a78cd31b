import ArgumentParser
import Foundation
import TritonPackKit

struct LintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Validate a model repository (or one model folder) the way Triton loads it.",
        discussion: """
            Exit 0 when there is no error (with --strict, no warning either), 1 when there is, 2 for a usage problem. \
            Diagnostics name file:line:column (relative to the linted path), Triton's wording, and the rule id \
            (see docs/lint-rules.md or `tritonpack rules`).

            Rules can be chosen with --select/--ignore (rule ids, repeated or comma-separated) or in a \
            tritonpack.json in the linted folder (or the repository above a model folder):
              {"lint": {"select": ["io-config"], "ignore": ["oneflow-instances"], "strict": false}}
            Flags replace the file's values.

            Examples:
              tritonpack lint model_repository
              tritonpack lint model_repository/resnet --gpus 1 --strict
              tritonpack lint model_repository --format sarif > lint.sarif
              tritonpack lint model_repository --format junit > lint.xml
              tritonpack lint model_repository --ignore oneflow-instances,duplicate-io-name
            """)

    @Argument(help: "A model repository or a model folder.", completion: .directory, transform: nonEmptyPath)
    var path: String

    @Option(help: "text, json, sarif, junit or github (GitHub Actions annotations).")
    var format: LintFormat = .text

    @Option(help: "Report only these rules (ids; repeatable or comma-separated).")
    var select: [String] = []

    @Option(help: "Do not report these rules (ids; repeatable or comma-separated).")
    var ignore: [String] = []

    @Option(
        help: "A tritonpack.json to read instead of the one in the linted folder.", completion: .file(extensions: ["json"]),
        transform: nonEmptyPath)
    var configFile: String?

    @OptionGroup var output: OutputOptions

    @Option(help: "GPUs of the target server (ids 0..N-1); 0 = a CPU-only server. Unset: GPU availability is not checked.")
    var gpus: Int?

    @Flag(
        help:
            "Lint as for a server started with --disable-auto-complete-config (configs must be complete; OneFlow Serving does this)."
    )
    var disableAutoCompleteConfig = false

    @Option(help: "The target's backend directory; default: the backends Triton's images ship.")
    var backendDirectory: String?

    @Option(help: "The target's --model-config-name.")
    var modelConfigName: String?

    @Option(
        help:
            "The target's repository-agent directory (--repoagent-directory); default: the agents Triton's images ship (checksum)."
    )
    var repoagentDirectory: String?

    @Flag(help: "Exit 1 on warnings too.")
    var strict = false

    @Flag(help: "Accept a repository without any model folder (exit 0) instead of refusing it.")
    var allowEmpty = false

    func validate() throws {
        if let gpus, gpus < 0 { throw ValidationError("--gpus must be >= 0") }
        let selection = RuleSelection(
            select: RuleSelection.identifiers(select), ignore: RuleSelection.identifiers(ignore))
        do {
            try selection.validate(source: "--select/--ignore")
        } catch let error as TritonPackError {
            throw ValidationError(error.message)
        }
    }

    /// The settings from tritonpack.json with the flags on top.
    func configuration() throws -> LintConfiguration {
        try LintConfiguration.load(for: URL(fileURLWithPath: path), explicit: configFile.map { URL(fileURLWithPath: $0) })
            .overridden(
                select: select.isEmpty ? nil : RuleSelection.identifiers(select),
                ignore: ignore.isEmpty ? nil : RuleSelection.identifiers(ignore), strict: strict)
    }

    func run() async throws {
        try await reportingFailures(command: "lint", json: format == .json) { try await lint() }
    }

    private func lint() async throws {
        let configuration = try configuration()
        if let file = configuration.file { output.verboseDetail("configuration: \(file)") }
        let options = LintOptions(
            gpus: gpus, autoComplete: !disableAutoCompleteConfig,
            backendDirectory: backendDirectory.map { URL(fileURLWithPath: $0) }, modelConfigName: modelConfigName,
            repoAgentDirectory: repoagentDirectory.map { URL(fileURLWithPath: $0) })
        // An `s3://` repository is linted in a local copy of its served versions; the report names the URL.
        var report = try await withReadableFolder(path) { folder, copied in
            Linter(options: options).lint(
                named: copied ? folder.path : path, shownAs: copied ? path : nil, allowEmpty: allowEmpty)
        }
        report = configuration.selection.apply(to: report)
        let failed = report.errorCount > 0 || (configuration.strict && report.warningCount > 0)
        let reporter = format.reporter(ok: !failed, colors: output.color.enabled(), errorsOnly: output.quiet)
        print(try reporter.render(report), terminator: "")
        if let seconds = report.seconds { output.verboseDetail(String(format: "linted in %.3f s", seconds)) }
        if failed { throw ReportedFailure(status: .refused) }
    }
}

extension LintFormat: ExpressibleByArgument {}

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Print the lint rule reference (Markdown) generated from the rules' metadata, or one rule's.",
        discussion: """
            Examples:
              tritonpack rules                  # every rule (docs/lint-rules.md is this output)
              tritonpack rules io-config        # one rule: severity, Triton's wording, examples
              tritonpack rules --list           # the rule ids, one per line
            """)

    @Argument(help: "A rule id (as lint prints in brackets).")
    var rule: String?

    @Flag(help: "Print only the rule ids with their severity and name.")
    var list = false

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let rule, RuleRegistry.rule(rule) == nil {
            throw ValidationError("unknown rule '\(rule)'; `tritonpack rules --list` lists the rule ids")
        }
    }

    func run() throws {
        if list {
            for rule in RuleRegistry.all {
                print("\(rule.description.identifier)  \(rule.description.severity.rawValue)  \(rule.description.name)")
            }
        } else if let rule, let found = RuleRegistry.rule(rule) {
            print(RuleReference.entry(found.description), terminator: "")
        } else {
            print(RuleReference.markdown(), terminator: "")
        }
    }
}
