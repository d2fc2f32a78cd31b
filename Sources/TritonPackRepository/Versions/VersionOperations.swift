import Foundation
import TritonPackModels

/// Changes to one model's versions, each one `RepositoryTransaction`, each recorded in the model's
/// history.
public struct VersionOperations: Sendable {
    public var repository: ModelRepository
    public var name: String
    public var lock: LockPolicy

    public init(repository: ModelRepository, name: String, lock: LockPolicy = LockPolicy()) {
        self.repository = repository
        self.name = name
        self.lock = lock
    }

    private func transaction<T>(_ body: (RepositoryTransaction) async throws -> T) async throws -> T {
        try await repository.model(name).requireModel()
        return try await RepositoryTransaction.run(in: repository, model: name, lock: lock) { transaction in
            try transaction.model.requireModel()
            return try await body(transaction)
        }
    }

    /// Sets `version_policy`, refusing a policy that would serve no existing version.
    @discardableResult
    public func setPolicy(_ spec: VersionPolicySpec) async throws -> [Int64] {
        try await transaction { try Self.writePolicy(spec.message, in: $0, operation: "policy", detail: nil) }
    }

    /// Replaces only the `version_policy` field of the config text, keeping everything else as written.
    private static func writePolicy(
        _ policy: Inference_ModelVersionPolicy, in transaction: RepositoryTransaction, operation: String, detail: String?
    ) throws -> [Int64] {
        let model = transaction.model
        _ = try model.config()
        let served = VersionPolicyEvaluation.served(policy, available: model.versions)
        guard !served.isEmpty else {
            throw TritonPackError.refused(
                model.configPath,
                "version policy '\(VersionPolicyEvaluation.describe(policy))' would serve none of the versions on disk (\(model.versions.isEmpty ? "there is none" : model.versions.map(String.init).joined(separator: ", "))); Triton would refuse the model"
            )
        }
        let text = String(decoding: model.configText ?? Data(), as: UTF8.self)
        var only = Inference_ModelConfig()
        only.versionPolicy = policy
        let edited = try ConfigTextEditor.replacing(field: "version_policy", in: text, with: only.pbtxt)
        transaction.setConfig(Data(edited.utf8))
        transaction.record(operation, versions: served, detail: detail ?? VersionPolicyEvaluation.describe(policy))
        return served
    }

    /// Removes versions that the policy does not serve, keeping the `keep` newest too, all in one
    /// publication, so a polling server or a kill sees all of the removals or none.
    @discardableResult
    public func prune(keep: Int, dryRun: Bool = false) async throws -> [Int64] {
        guard keep >= 0 else { throw TritonPackError.usage("--keep must be >= 0") }
        return try await transaction { transaction in
            let model = transaction.model
            let kept = Set(try model.served()).union(model.versions.suffix(keep))
            let victims = model.versions.filter { !kept.contains($0) }
            if victims.isEmpty || dryRun { return victims }
            var digests: [String: String] = [:]
            for version in victims { digests[String(version)] = try? await model.version(version).manifest().digest }
            transaction.removeVersions(victims)
            transaction.record("prune", versions: victims, digests: digests, detail: "kept \(kept.sorted())")
            return victims
        }
    }

    public struct RollbackResult: Codable, Sendable, Equatable {
        public var previouslyServed: [Int64]
        public var served: [Int64]

        public init(previouslyServed: [Int64], served: [Int64]) {
            self.previouslyServed = previouslyServed
            self.served = served
        }
    }

    /// The version a rollback serves: `explicit` when it is on disk, else the newest version below
    /// the newest one the config serves.
    public static func rollbackTarget(_ model: ModelDirectory, explicit version: Int64?) throws -> Int64 {
        if let version {
            guard model.versions.contains(version) else {
                throw TritonPackError.refused(
                    model.version(version).displayPath,
                    "version \(version) is not on disk (available: \(model.versions.map(String.init).joined(separator: ", ")))")
            }
            return version
        }
        let before = try model.served()
        guard let newest = before.max(), let previous = model.versions.filter({ $0 < newest }).max() else {
            throw TritonPackError.refused(
                model.displayPath,
                "no version older than the one served (\(before.map(String.init).joined(separator: ", "))) to roll back to")
        }
        return previous
    }

    /// Serves `version` (default: the newest version below the newest one served) again by pinning
    /// the policy to it. The bad version stays, unserved, for inspection; setting the policy back
    /// undoes the rollback.
    public func rollback(to version: Int64? = nil) async throws -> RollbackResult {
        try await transaction { transaction in
            let model = transaction.model
            let config = try model.config()
            let before = try model.served()
            let target = try Self.rollbackTarget(model, explicit: version)
            var policy = Inference_ModelVersionPolicy()
            policy.specific.versions = [target]
            let served = try Self.writePolicy(
                policy, in: transaction, operation: "rollback",
                detail: "was \(VersionPolicyEvaluation.describe(config.versionPolicy)) serving \(before)")
            return RollbackResult(previouslyServed: before, served: served)
        }
    }
}
