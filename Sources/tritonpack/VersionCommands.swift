import ArgumentParser
import Foundation
import TritonPackKit

/// The version operations on a model folder, saying so when another writer holds the lock.
func versionOperations(_ model: String, lockTimeout: Double) -> VersionOperations {
    VersionOperations(
        model: ModelVersions(modelDirectory: URL(fileURLWithPath: model)), lockTimeout: lockTimeout,
        onWait: { printError($0) })
}

struct VersionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "versions",
        abstract: "List a model's versions: manifest digest, signature, and whether the version policy serves each.")

    @Argument(help: "The model folder (<repository>/<model>).")
    var model: String

    @Flag(help: "Check every file against its manifest.")
    var verify = false

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    func run() throws {
        try reportingFailures(format: format) {
            let versions = ModelVersions(modelDirectory: URL(fileURLWithPath: model))
            let list = try versions.list(verify: verify)
            let policy = VersionPolicyEvaluation.describe(try versions.config().versionPolicy)
            switch format {
            case .json:
                struct Output: Encodable {
                    var ok = true
                    var model: String
                    var policy: String
                    var versions: [VersionInfo]
                }
                try printJSON(Output(model: versions.name, policy: policy, versions: list))
            case .text:
                print("\(versions.name): version_policy \(policy)")
                for info in list {
                    var line = "  \(info.version)\(info.served ? "  served " : "  -      ")"
                    line += info.digest.map { " sha256:\($0.prefix(16))" } ?? " (no manifest)"
                    if let verified = info.verified { line += verified ? " verified" : " MODIFIED" }
                    if let signature = info.signature { line += "  \(signature)" }
                    print(line)
                    for problem in info.problems ?? [] { print("      \(problem)") }
                }
            }
            if list.contains(where: { $0.verified == false }) { throw ReportedFailure(status: .refused) }
        }
    }
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Change a model's version policy or prune its versions.",
        subcommands: [PolicyCommand.self, PruneCommand.self])

    struct PolicyCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "policy",
            abstract: "Set version_policy: latest N | all | specific V...; a policy that would serve nothing is refused.")

        @Argument(help: "The model folder.")
        var model: String

        @Argument(help: "latest, all or specific.")
        var kind: String

        @Argument(help: "N for latest; the versions for specific.")
        var values: [Int64] = []

        @Option(help: "Seconds to wait for another tritonpack writing the same repository.")
        var lockTimeout: Double = 60

        func run() throws {
            let spec: VersionPolicySpec
            switch (kind, values.count) {
            case ("latest", 1): spec = try VersionPolicySpec(parsing: "latest:\(values[0])")
            case ("all", 0): spec = .all
            case ("specific", 1...): spec = try VersionPolicySpec(parsing: "specific:\(values.map(String.init).joined(separator: ","))")
            default: throw TritonPackError.usage("expected: latest N | all | specific V [V...]")
            }
            let operations = versionOperations(model, lockTimeout: lockTimeout)
            let served = try operations.setPolicy(spec)
            print("version_policy set; serving \(served.map(String.init).joined(separator: ", "))")
        }
    }

    struct PruneCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune", abstract: "Remove versions the policy does not serve, keeping the N newest, in one atomic swap.")

        @Argument(help: "The model folder.")
        var model: String

        @Option(help: "Newest versions to keep even when not served.")
        var keep: Int

        @Flag(help: "Only say what would be removed.")
        var dryRun = false

        @Option(help: "Seconds to wait for another tritonpack writing the same repository.")
        var lockTimeout: Double = 60

        func run() throws {
            let operations = versionOperations(model, lockTimeout: lockTimeout)
            let removed = try operations.prune(keep: keep, dryRun: dryRun)
            let list = removed.map(String.init).joined(separator: ", ")
            print(removed.isEmpty ? "nothing to prune" : "\(dryRun ? "would remove" : "removed") version(s) \(list)")
        }
    }
}

struct PromoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Copy one version of a model from one repository to another, behind gates (lint, manifest, signature).",
        discussion: "The target's config is kept; a model new to the target gets the source's config.")

    @Argument(help: "The model name.")
    var model: String

    @Option(help: "The source repository (e.g. staging).")
    var from: String

    @Option(help: "The target repository (e.g. production); it must exist.")
    var to: String

    @Option(help: "The source version (default: the newest the source serves).")
    var version: Int64?

    @Option(name: .customLong("as"), help: "The version number in the target (default: the same).")
    var targetVersion: Int64?

    @Flag(help: "Promote even when inputs or outputs change in a way that breaks the target's clients.")
    var allowBreaking = false

    @Option(help: "GPUs of the target server, for the lint gate.")
    var gpus: Int?

    @Option(help: "Seconds to wait for another tritonpack writing the target repository.")
    var lockTimeout: Double = 60

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    func run() throws {
        let promoter = Promoter(
            name: model, source: ModelRepository(root: URL(fileURLWithPath: from)),
            target: ModelRepository(root: URL(fileURLWithPath: to)), version: version, targetVersion: targetVersion,
            allowBreaking: allowBreaking, lintOptions: LintOptions(gpus: gpus), lockTimeout: lockTimeout)
        do {
            try reportingFailures(format: format) {
                let result = try promoter.promote(onWait: { printError($0) })
                switch format {
                case .json:
                    struct Output: Encodable {
                        var ok = true
                        var result: PromotionResult
                    }
                    try printJSON(Output(result: result))
                case .text:
                    for gate in result.gates { print("gate \(gate.name): \(gate.outcome.rawValue) (\(gate.detail))") }
                    print("promoted \(result.model) version \(result.sourceVersion) to \(result.targetDirectory) (sha256:\(result.digest))")
                }
            }
        } catch let refused as PromotionRefused {
            if format == .json {
                struct Output: Encodable {
                    var ok = false
                    var gates: [PromotionGate]
                }
                try printJSON(Output(gates: refused.gates))
            } else {
                for gate in refused.gates { print("gate \(gate.name): \(gate.outcome.rawValue) (\(gate.detail))") }
            }
            printError("error: promotion refused\n\(refused.description)")
            throw ReportedFailure(status: .refused)
        }
    }
}

struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Serve the previous (or given) version again by pinning the version policy to it.",
        discussion: "The rolled-back version stays on disk, unserved; `tritonpack version policy` undoes the pin.")

    @Argument(help: "The model folder.")
    var model: String

    @Option(help: "The version to serve (default: the newest below the newest served).")
    var to: Int64?

    @Option(help: "Seconds to wait for another tritonpack writing the same repository.")
    var lockTimeout: Double = 60

    func run() throws {
        let operations = versionOperations(model, lockTimeout: lockTimeout)
        let result = try operations.rollback(to: to)
        print(
            "rolled back: served \(result.previouslyServed.map(String.init).joined(separator: ", ")), now \(result.served.map(String.init).joined(separator: ", "))")
    }
}
