import ArgumentParser
import Foundation
import TritonPackKit

/// The version operations on a model (`<repository>/<model>`, a folder or an `s3://` URL), saying
/// so when another writer holds the lock.
func versionOperations(_ model: String, lockTimeout: Double) throws -> VersionOperations {
    let (repository, name) = try namedModel(model)
    return VersionOperations(
        repository: repository, name: name, lock: LockPolicy(timeout: lockTimeout, onWait: { printError($0) }))
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Change a model's version policy or prune its versions.",
        discussion: """
            Examples:
              tritonpack version policy model_repository/resnet latest:2
              tritonpack version prune model_repository/resnet --keep 3 --dry-run
            """,
        subcommands: [PolicyCommand.self, PruneCommand.self])

    func run() throws {
        throw ValidationError(
            "say what to do: `tritonpack version policy MODEL ...` or `tritonpack version prune MODEL --keep N`")
    }

    struct PolicyCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "policy",
            abstract:
                "Set version_policy: latest:N | all | specific:V[,V...] (as --version-policy takes it; `latest N` and `specific V V` work too); a policy that would serve nothing is refused.",
            discussion: """
                Examples:
                  tritonpack version policy model_repository/resnet latest:2
                  tritonpack version policy model_repository/resnet specific 1 3
                  tritonpack version policy model_repository/resnet all --format json
                """)

        @Argument(help: "The model folder.", completion: .directory, transform: nonEmptyPath)
        var model: String

        @Argument(help: "latest:N, all or specific:V[,V...] (or latest, specific followed by the numbers).")
        var kind: String

        @Argument(help: "N for latest; the versions for specific.")
        var values: [Int64] = []

        @OptionGroup var writer: WriterOptions

        @OptionGroup var output: OutputOptions

        func validate() throws {
            _ = try spec()
        }

        /// The policy in `--version-policy` syntax, also accepted as separate words.
        func spec() throws -> VersionPolicySpec {
            let text = values.isEmpty ? kind : "\(kind):\(values.map(String.init).joined(separator: ","))"
            do {
                return try VersionPolicySpec(parsing: text)
            } catch {
                throw ValidationError(
                    "'\(([kind] + values.map(String.init)).joined(separator: " "))' is not a version policy; expected latest:N, all or specific:V[,V...]"
                )
            }
        }

        func run() async throws {
            try await reportingFailures(format: writer.format, command: "version policy") {
                let served = try await versionOperations(model, lockTimeout: writer.lockTimeout).setPolicy(try spec())
                switch writer.format {
                case .json:
                    struct Output: Encodable { var served: [Int64] }
                    try printJSON(JSONReport(ok: true, command: "version policy", payload: Output(served: served)))
                case .text:
                    print("version_policy set; serving \(served.map(String.init).joined(separator: ", "))")
                }
            }
        }
    }

    struct PruneCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune",
            abstract: "Remove versions the policy does not serve, keeping the N newest, in one atomic swap.",
            discussion: """
                Examples:
                  tritonpack version prune model_repository/resnet --keep 3 --dry-run
                  tritonpack version prune model_repository/resnet --keep 0
                """)

        @Argument(help: "The model folder.", transform: nonEmptyPath)
        var model: String

        @Option(help: "Newest versions to keep even when not served.")
        var keep: Int

        @Flag(help: "Only say what would be removed.")
        var dryRun = false

        @OptionGroup var writer: WriterOptions

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if keep < 0 { throw ValidationError("--keep must be >= 0") }
        }

        func run() async throws {
            try await reportingFailures(format: writer.format, command: "version prune") {
                let removed = try await versionOperations(model, lockTimeout: writer.lockTimeout).prune(
                    keep: keep, dryRun: dryRun)
                switch writer.format {
                case .json:
                    struct Output: Encodable {
                        var removed: [Int64]
                        var dryRun: Bool
                    }
                    try printJSON(
                        JSONReport(ok: true, command: "version prune", payload: Output(removed: removed, dryRun: dryRun)))
                case .text:
                    let list = removed.map(String.init).joined(separator: ", ")
                    print(removed.isEmpty ? "nothing to prune" : "\(dryRun ? "would remove" : "removed") version(s) \(list)")
                }
            }
        }
    }
}
