import ArgumentParser
import Foundation
import TritonPackKit

struct VersionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "versions",
        abstract: "List a model's versions: manifest digest, signature, and whether the version policy serves each.",
        discussion: """
            The model's history (what tritonpack did to it) is in the repository's tritonpack-history.jsonl.

            Examples:
              tritonpack versions model_repository/resnet
              tritonpack versions model_repository/resnet --verify
              tritonpack versions model_repository/resnet --verify --format json
            """)

    @Argument(help: "The model folder (<repository>/<model>).", completion: .directory, transform: nonEmptyPath)
    var model: String

    @Flag(help: "Check every file against its manifest.")
    var verify = false

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingFailures(format: format, command: "versions") {
            let (repository, name) = try namedModel(model)
            let versions = try await repository.model(name)
            let list = try await output.withProgress("verifying", json: format == .json) {
                try await versions.list(verify: verify)
            }
            let history = try await ModelHistory.read(model: name, in: repository)
            try report(name, policy: try versions.config().versionPolicy, list: list, history: history) {
                versions.version($0).displayPath
            }
        }
    }

    /// The versions of a model, in either store, as text or JSON; an error when one does not match its manifest.
    private func report(
        _ name: String, policy: Inference_ModelVersionPolicy, list: [VersionInfo], history: [ModelHistory.Entry],
        versionPath: (Int64) -> String
    ) throws {
        let policy = VersionPolicyEvaluation.describe(policy)
        let modified = list.filter { $0.verified == false }
        switch format {
        case .json:
            struct Output: Encodable {
                var model: String
                var policy: String
                var versions: [VersionInfo]
            }
            let errors = modified.map { info in
                ReportedProblem(
                    file: versionPath(info.version),
                    message: "does not match its manifest: \((info.problems ?? []).joined(separator: "; "))")
            }
            try printJSON(
                JSONReport(
                    ok: modified.isEmpty, command: "versions", errors: errors,
                    payload: Output(model: name, policy: policy, versions: list)))
        case .text:
            print("\(name): version_policy \(policy)")
            for info in list where !output.quiet || info.verified == false {
                var line = "  \(info.version)\(info.served ? "  served " : "  -      ")"
                line += info.digest.map { " sha256:\($0.prefix(16))" } ?? " (no manifest)"
                if let verified = info.verified { line += verified ? " verified" : " MODIFIED" }
                if let signature = info.signature { line += "  \(signature)" }
                print(line)
                for problem in info.problems ?? [] { print("      \(problem)") }
            }
            for entry in history {
                output.verboseDetail(
                    "history: \(entry.time) \(entry.operation) \(entry.versions.map(String.init).joined(separator: ", "))\(entry.detail.map { " (\($0))" } ?? "")"
                )
            }
        }
        if !modified.isEmpty {
            printError(
                "error: version(s) \(modified.map { String($0.version) }.joined(separator: ", ")) of \(name) do not match their manifest"
            )
            throw ReportedFailure(status: .refused)
        }
    }
}
