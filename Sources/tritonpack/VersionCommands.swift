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

    @Argument(help: "The model folder (<repository>/<model>).", transform: nonEmptyPath)
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

        @Argument(help: "The model folder.", transform: nonEmptyPath)
        var model: String

        @Argument(help: "latest:N, all or specific:V[,V...] (or latest, specific followed by the numbers).")
        var kind: String

        @Argument(help: "N for latest; the versions for specific.")
        var values: [Int64] = []

        @Option(help: "Seconds to wait for another tritonpack writing the same repository.")
        var lockTimeout: Double = 60

        @Option(help: "text or json.")
        var format: OutputFormat = .text

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
            try await reportingFailures(format: format, command: "version policy") {
                let served = try await versionOperations(model, lockTimeout: lockTimeout).setPolicy(try spec())
                switch format {
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

        @Option(help: "Seconds to wait for another tritonpack writing the same repository.")
        var lockTimeout: Double = 60

        @Option(help: "text or json.")
        var format: OutputFormat = .text

        @OptionGroup var output: OutputOptions

        func validate() throws {
            if keep < 0 { throw ValidationError("--keep must be >= 0") }
        }

        func run() async throws {
            try await reportingFailures(format: format, command: "version prune") {
                let removed = try await versionOperations(model, lockTimeout: lockTimeout).prune(keep: keep, dryRun: dryRun)
                switch format {
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

struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Copy one version of a model from one repository to another, behind gates (lint, manifest, signature).",
        discussion: """
            The target's config is kept; a model new to the target gets the source's config. An image pipeline's ensemble (<name>_image from pack --pipeline image, or <name> when that ensemble exists) is promoted as a unit: the same version of the model and its two steps, then the ensemble's config pinning them, in one change.

            Examples:
              tritonpack promote resnet --from staging --to production
              tritonpack promote resnet --from staging --to production --model-version 4 --as 2
              tritonpack promote resnet --from staging --to production --gpus 0 --format json
            """)

    @Argument(help: "The model name.")
    var model: String

    @Option(help: "The source repository (e.g. staging).", transform: nonEmptyPath)
    var from: String

    @Option(help: "The target repository (e.g. production); it must exist.", transform: nonEmptyPath)
    var to: String

    @Option(help: "The source's model version (default: the newest the source serves).", transform: parseModelVersion)
    var modelVersion: Int64?

    @Option(name: .customLong("as"), help: "The version number in the target (default: the same).", transform: parseModelVersion)
    var targetVersion: Int64?

    @Flag(help: "Promote even when inputs or outputs change in a way that breaks the target's clients.")
    var allowBreaking = false

    @Option(help: "GPUs of the target server, for the lint gate.")
    var gpus: Int?

    @Option(help: "Seconds to wait for another tritonpack writing the target repository.")
    var lockTimeout: Double = 60

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if model.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("the model name is empty") }
        if let gpus, gpus < 0 { throw ValidationError("--gpus must be >= 0") }
    }

    func run() async throws {
        Interruption.install()
        try await reportingFailures(format: format, command: "promote") {
            let result: PromotionResult
            do {
                result = try await output.withProgress("promoting", json: format == .json) {
                    try await promote()
                }
            } catch let refusal as TritonPackError where format == .text {
                for problem in refusal.problems where problem.code?.hasPrefix("gate ") == true {
                    print("\(problem.code!): failed (\(problem.message))")
                }
                throw refusal
            }
            switch format {
            case .json:
                try printJSON(JSONReport(ok: true, command: "promote", payload: ResultPayload(result: result)))
            case .text:
                for gate in result.gates { output.detail("gate \(gate.name): \(gate.outcome.rawValue) (\(gate.detail))") }
                print(
                    "promoted \(result.model) version \(result.sourceVersion) to \(result.targetDirectory) (sha256:\(result.digest))"
                )
            }
        }
    }
}

extension PromoteCommand {
    /// Promotes between any two repositories, local or in S3.
    func promote() async throws -> PromotionResult {
        let source = try namedRepository(from)
        if source.store.localRoot != nil, try await ImagePipeline.units(named: model, in: source) != nil {
            let results = try await PipelinePromoter(
                name: model, source: source, target: try namedRepository(to), version: modelVersion,
                targetVersion: targetVersion, allowBreaking: allowBreaking, lintOptions: LintOptions(gpus: gpus),
                lockTimeout: lockTimeout
            ).promote(onWait: { printError($0) })
            for step in results.dropLast() where format == .text {
                print("promoted \(step.model) version \(step.sourceVersion) to \(step.targetDirectory) (sha256:\(step.digest))")
            }
            return results.last!
        }
        return try await Promoter(
            name: model, source: try namedRepository(from), target: try namedRepository(to), version: modelVersion,
            targetVersion: targetVersion, allowBreaking: allowBreaking, lintOptions: LintOptions(gpus: gpus),
            lockTimeout: lockTimeout
        ).promote(onWait: { printError($0) })
    }
}

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Serve the previous (or given) version again by pinning the version policy to it.",
        discussion: """
            The rolled-back version stays on disk, unserved; `tritonpack version policy` undoes the pin.

            Examples:
              tritonpack rollback production/resnet
              tritonpack rollback production/resnet --model-version 2
              tritonpack rollback production/resnet --server http://a:8000 --server http://b:8000

            With --server, the running explicit-mode servers are rolled back too, through the same steps as
            `tritonpack rollout` (checked on each server before traffic moves; the repository last).
            """)

    @Argument(help: "The model folder.", transform: nonEmptyPath)
    var model: String

    @Option(help: "The model version to serve (default: the newest below the newest served).", transform: parseModelVersion)
    var modelVersion: Int64?

    @Option(help: "Seconds to wait for another tritonpack writing the same repository.")
    var lockTimeout: Double = 60

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    @OptionGroup var fleet: FleetOptions

    @OptionGroup var output: OutputOptions

    func run() async throws {
        if !fleet.servers.isEmpty {
            Interruption.install()
            return try await reportingFailures(format: format, command: "rollout") {
                let operations = try versionOperations(model, lockTimeout: lockTimeout)
                let directory = try await operations.repository.model(operations.name)
                try directory.requireModel()
                let version = try VersionOperations.rollbackTarget(directory, explicit: modelVersion)
                guard let root = operations.repository.store.localRoot else {
                    throw TritonPackError.usage("rollback --server needs the repository the servers read as a folder")
                }
                let options = try fleet.options(
                    repository: root.path, model: operations.name, version: version, lockTimeout: lockTimeout)
                try await RolloutPrinter(format: format, output: output).run(Rollout(options: options) { output.warning($0) })
            }
        }
        try await reportingFailures(format: format, command: "rollback") {
            let result = try await versionOperations(model, lockTimeout: lockTimeout).rollback(to: modelVersion)
            switch format {
            case .json:
                try printJSON(JSONReport(ok: true, command: "rollback", payload: ResultPayload(result: result)))
            case .text:
                print(
                    "rolled back: served \(result.previouslyServed.map(String.init).joined(separator: ", ")), now \(result.served.map(String.init).joined(separator: ", "))"
                )
            }
        }
    }
}
