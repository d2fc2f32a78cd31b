import ArgumentParser
import Foundation
import TritonPackKit

/// The version operations on a model folder, saying so when another writer holds the lock.
func versionOperations(_ model: String, lockTimeout: Double) -> VersionOperations {
    VersionOperations(
        model: ModelVersions(modelDirectory: URL(fileURLWithPath: model)), lockTimeout: lockTimeout,
        onWait: { printError($0) })
}

struct VersionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "versions",
        abstract: "List a model's versions: manifest digest, signature, and whether the version policy serves each.")

    @Argument(help: "The model folder (<repository>/<model>).", transform: nonEmptyPath)
    var model: String

    @Flag(help: "Check every file against its manifest.")
    var verify = false

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    /// The model's name, folder (or s3:// URL), policy and versions.
    func listing() async throws -> (name: String, directory: String, policy: String, list: [VersionInfo]) {
        if let (store, name) = try s3Model(model, lockTimeout: 60) {
            let list = try await store.listVersions(model: name, verify: verify)
            let config = try await store.state(model: name).config
            return (name, store.location.display(name), VersionPolicyEvaluation.describe(config?.versionPolicy ?? .init()), list)
        }
        let versions = ModelVersions(modelDirectory: URL(fileURLWithPath: model))
        let list = try versions.list(verify: verify)
        return (versions.name, versions.directory.path, VersionPolicyEvaluation.describe(try versions.config().versionPolicy), list)
    }

    func run() async throws {
        try await reportingAsyncFailures(format: format, command: "versions") {
            let (name, directory, policy, list) = try await listing()
            let modified = list.filter { $0.verified == false }
            switch format {
            case .json:
                struct Output: Encodable {
                    var model: String
                    var policy: String
                    var versions: [VersionInfo]
                }
                let errors = modified.map { info in
                    Problem(
                        file: directory + "/" + String(info.version),
                        message: "does not match its manifest: \((info.problems ?? []).joined(separator: "; "))")
                }
                try printJSON(
                    JSONReport(
                        ok: modified.isEmpty, command: "versions", errors: errors,
                        payload: Output(model: name, policy: policy, versions: list)))
            case .text:
                print("\(name): version_policy \(policy)")
                for info in list {
                    var line = "  \(info.version)\(info.served ? "  served " : "  -      ")"
                    line += info.digest.map { " sha256:\($0.prefix(16))" } ?? " (no manifest)"
                    if let verified = info.verified { line += verified ? " verified" : " MODIFIED" }
                    if let signature = info.signature { line += "  \(signature)" }
                    print(line)
                    for problem in info.problems ?? [] { print("      \(problem)") }
                }
            }
            if !modified.isEmpty {
                printError("error: version(s) \(modified.map { String($0.version) }.joined(separator: ", ")) of \(name) do not match their manifest")
                throw ReportedFailure(status: .refused)
            }
        }
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Change a model's version policy or prune its versions.",
        subcommands: [PolicyCommand.self, PruneCommand.self])

    func run() throws {
        throw ValidationError("say what to do: `tritonpack version policy MODEL ...` or `tritonpack version prune MODEL --keep N`")
    }

    struct PolicyCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "policy",
            abstract: "Set version_policy: latest:N | all | specific:V[,V...] (as --version-policy takes it; `latest N` and `specific V V` work too); a policy that would serve nothing is refused.")

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

        func validate() throws {
            _ = try spec()
        }

        /// The policy in `--version-policy` syntax, also accepted as separate words.
        func spec() throws -> VersionPolicySpec {
            let text = values.isEmpty ? kind : "\(kind):\(values.map(String.init).joined(separator: ","))"
            do {
                return try VersionPolicySpec(parsing: text)
            } catch {
                throw ValidationError("'\(([kind] + values.map(String.init)).joined(separator: " "))' is not a version policy; expected latest:N, all or specific:V[,V...]")
            }
        }

        func run() async throws {
            try await reportingAsyncFailures(format: format, command: "version policy") {
                let served: [Int64]
                if let (store, name) = try s3Model(model, lockTimeout: lockTimeout) {
                    served = try await store.setPolicy(model: name, policy: try spec().message)
                } else {
                    served = try versionOperations(model, lockTimeout: lockTimeout).setPolicy(try spec())
                }
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
            commandName: "prune", abstract: "Remove versions the policy does not serve, keeping the N newest, in one atomic swap.")

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

        func validate() throws {
            if keep < 0 { throw ValidationError("--keep must be >= 0") }
        }

        func run() async throws {
            try await reportingAsyncFailures(format: format, command: "version prune") {
                let removed: [Int64]
                if let (store, name) = try s3Model(model, lockTimeout: lockTimeout) {
                    removed = try await store.prune(model: name, keep: keep, dryRun: dryRun)
                } else {
                    removed = try versionOperations(model, lockTimeout: lockTimeout).prune(keep: keep, dryRun: dryRun)
                }
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
            The target's config is kept; a model new to the target gets the source's config. Either repository may be \
            s3://host:port/bucket/prefix (or s3://bucket/prefix with TRITONPACK_S3_ENDPOINT): into S3 the version is \
            uploaded and verified, then one config write pinning it switches a polling Triton over.
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

    func validate() throws {
        if model.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("the model name is empty") }
        if let gpus, gpus < 0 { throw ValidationError("--gpus must be >= 0") }
    }

    /// Promotes, downloading the source first when it is in S3.
    func promote() async throws -> PromotionResult {
        var source = ModelRepository(root: URL(fileURLWithPath: from))
        var downloaded: URL?
        defer { if let downloaded { try? FileManager.default.removeItem(at: downloaded) } }
        if let store = try s3Store(from, lockTimeout: lockTimeout) {
            guard from != to else { throw TritonPackError.usage("--from and --to name the same repository") }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tritonpack-s3-source-\(UUID().uuidString)")
            downloaded = folder
            try await store.downloadModel(model: model, to: folder, versions: modelVersion.map { [$0] })
            source = ModelRepository(root: folder)
        }
        if let target = try s3Store(to, lockTimeout: lockTimeout) {
            return try await S3Promoter(
                name: model, source: source, target: target, version: modelVersion, targetVersion: targetVersion,
                allowBreaking: allowBreaking, lintOptions: LintOptions(gpus: gpus)
            ).promote()
        }
        return try Promoter(
            name: model, source: source, target: ModelRepository(root: URL(fileURLWithPath: to)), version: modelVersion,
            targetVersion: targetVersion, allowBreaking: allowBreaking, lintOptions: LintOptions(gpus: gpus), lockTimeout: lockTimeout
        ).promote(onWait: { printError($0) })
    }

    func run() async throws {
        Interruption.install()
        do {
            try await reportingAsyncFailures(format: format, command: "promote") {
                let result = try await promote()
                switch format {
                case .json:
                    try printJSON(JSONReport(ok: true, command: "promote", payload: ResultPayload(result: result)))
                case .text:
                    for gate in result.gates { print("gate \(gate.name): \(gate.outcome.rawValue) (\(gate.detail))") }
                    print("promoted \(result.model) version \(result.sourceVersion) to \(result.targetDirectory) (sha256:\(result.digest))")
                }
            }
        } catch let refused as PromotionRefused {
            if format == .json {
                struct Output: Encodable { var gates: [PromotionGate] }
                let errors = refused.gates.filter { $0.outcome == .failed }.map {
                    Problem(message: "gate \($0.name) failed: \($0.detail)")
                }
                try printJSON(JSONReport(ok: false, command: "promote", errors: errors, payload: Output(gates: refused.gates)))
            } else {
                for gate in refused.gates { print("gate \(gate.name): \(gate.outcome.rawValue) (\(gate.detail))") }
            }
            printError("error: promotion refused\n\(refused.description)")
            throw ReportedFailure(status: .refused)
        }
    }
}

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Serve the previous (or given) version again by pinning the version policy to it.",
        discussion: "The rolled-back version stays on disk, unserved; `tritonpack version policy` undoes the pin.")

    @Argument(help: "The model folder.", transform: nonEmptyPath)
    var model: String

    @Option(help: "The model version to serve (default: the newest below the newest served).", transform: parseModelVersion)
    var modelVersion: Int64?

    @Option(help: "Seconds to wait for another tritonpack writing the same repository.")
    var lockTimeout: Double = 60

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    func run() async throws {
        try await reportingAsyncFailures(format: format, command: "rollback") {
            let result: VersionOperations.RollbackResult
            if let (store, name) = try s3Model(model, lockTimeout: lockTimeout) {
                result = try await store.rollback(model: name, to: modelVersion)
            } else {
                result = try versionOperations(model, lockTimeout: lockTimeout).rollback(to: modelVersion)
            }
            switch format {
            case .json:
                try printJSON(JSONReport(ok: true, command: "rollback", payload: ResultPayload(result: result)))
            case .text:
                print(
                    "rolled back: served \(result.previouslyServed.map(String.init).joined(separator: ", ")), now \(result.served.map(String.init).joined(separator: ", "))")
            }
        }
    }
}
