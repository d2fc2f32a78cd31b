import CSystemShims
import Foundation

/// Changes to one model's versions, each a transaction under the repository lock, each recorded
/// in the model's history.
public struct VersionOperations: Sendable {
    public var model: ModelVersions
    public var lockTimeout: Double
    public var onWait: @Sendable (String) -> Void

    public init(model: ModelVersions, lockTimeout: Double = 60, onWait: @escaping @Sendable (String) -> Void = { _ in }) {
        self.model = model
        self.lockTimeout = lockTimeout
        self.onWait = onWait
    }

    private func locked<T>(_ body: () throws -> T) throws -> T {
        try model.requireModel()
        let lock = try RepositoryLock(repository: model.repository, timeout: lockTimeout, onWait: onWait)
        defer { withExtendedLifetime(lock) {} }
        let staging = StagingArea.choose(for: model.repository, model: model.name)
        staging.removeStaleStages()
        staging.removeIfEmpty()
        return try body()
    }

    /// Sets `version_policy`, refusing a policy that would serve no existing version.
    @discardableResult
    public func setPolicy(_ spec: VersionPolicySpec, operation: String = "policy") throws -> [Int64] {
        try locked { try writePolicy(spec.message, operation: operation, detail: nil) }
    }

    private func writePolicy(_ policy: Inference_ModelVersionPolicy, operation: String, detail: String?) throws -> [Int64] {
        let available = try model.available()
        let served = VersionPolicyEvaluation.served(policy, available: available)
        guard !served.isEmpty else {
            throw TritonPackError.refused(
                model.configPath.path,
                "version policy '\(VersionPolicyEvaluation.describe(policy))' would serve none of the versions on disk (\(available.map(String.init).joined(separator: ", "))); Triton would refuse the model")
        }
        let text = try String(contentsOf: model.configPath, encoding: .utf8)
        _ = try model.config()
        var only = Inference_ModelConfig()
        only.versionPolicy = policy
        let edited = try ConfigTextEditor.replacing(field: "version_policy", in: text, with: only.pbtxt)
        try POSIXFiles.writeAtomically(Data(edited.utf8), to: model.configPath.path)
        try ModelHistory.append(
            .init(operation: operation, versions: served, detail: detail ?? VersionPolicyEvaluation.describe(policy)),
            to: model.directory)
        return served
    }

    /// Removes versions that the policy does not serve, keeping the `keep` newest too. All
    /// removals are one atomic swap of the model folder (RENAME_EXCHANGE with a staged copy whose
    /// files are hard links), so a polling server or a kill sees all of them or none.
    @discardableResult
    public func prune(keep: Int, dryRun: Bool = false) throws -> [Int64] {
        guard keep >= 0 else { throw TritonPackError.usage("--keep must be >= 0") }
        return try locked {
            let available = try model.available()
            let served = Set(VersionPolicyEvaluation.served(try model.config().versionPolicy, available: available))
            let kept = served.union(available.suffix(keep))
            let victims = available.filter { !kept.contains($0) }
            if victims.isEmpty || dryRun { return victims }
            let staging = StagingArea.choose(for: model.repository, model: model.name)
            let stage = try staging.makeStage(model: model.name)
            defer {
                POSIXFiles.removeTree(stage.path)
                staging.removeIfEmpty()
            }
            let replacement = stage.appendingPathComponent(model.name)
            try HardLinkTree.copy(model.directory, to: replacement, skipping: Set(victims.map(String.init)))
            // The history is appended to, so the staged one must be a copy, not a link to the live one.
            let history = replacement.appendingPathComponent(ModelHistory.fileName)
            if POSIXFiles.exists(history.path) {
                unlink(history.path)
                try POSIXFiles.write(
                    try Data(contentsOf: model.directory.appendingPathComponent(ModelHistory.fileName)), to: history.path)
            }
            var digests: [String: String] = [:]
            for version in victims {
                digests[String(version)] = (try? Manifest.read(from: model.directory.appendingPathComponent(String(version))))?.digest
            }
            let entry = ModelHistory.Entry(operation: "prune", versions: victims, digests: digests, detail: "kept \(kept.sorted())")
            try ModelHistory.append(entry, to: replacement)
            guard tp_rename_exchange(replacement.path, model.directory.path) == 0 else {
                throw TritonPackError.io(model.directory.path, "cannot swap in the pruned model folder: \(POSIXFiles.errnoMessage())")
            }
            try POSIXFiles.fsync(path: model.repository.root.path)
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

    /// Serves `version` (default: the newest version below the newest one served) again by pinning
    /// the policy to it. The bad version stays on disk, unserved, for inspection; setting the
    /// policy back undoes the rollback.
    public func rollback(to version: Int64? = nil) throws -> RollbackResult {
        try locked {
            let available = try model.available()
            let config = try model.config()
            let before = VersionPolicyEvaluation.served(config.versionPolicy, available: available)
            let target: Int64
            if let version {
                guard available.contains(version) else {
                    throw TritonPackError.refused(
                        model.directory.appendingPathComponent(String(version)).path,
                        "version \(version) is not on disk (available: \(available.map(String.init).joined(separator: ", ")))")
                }
                target = version
            } else {
                guard let newest = before.max(), let previous = available.filter({ $0 < newest }).max() else {
                    throw TritonPackError.refused(
                        model.directory.path, "no version older than the one served (\(before.map(String.init).joined(separator: ", "))) to roll back to")
                }
                target = previous
            }
            var policy = Inference_ModelVersionPolicy()
            policy.specific.versions = [target]
            let served = try writePolicy(
                policy, operation: "rollback",
                detail: "was \(VersionPolicyEvaluation.describe(config.versionPolicy)) serving \(before)")
            return RollbackResult(previouslyServed: before, served: served)
        }
    }
}

/// A copy of a folder tree whose files are hard links to the original's.
enum HardLinkTree {
    static func copy(_ source: URL, to destination: URL, skipping topLevel: Set<String> = []) throws {
        try POSIXFiles.makeDirectory(destination.path)
        for entry in try POSIXFiles.entries(of: source.path) where !topLevel.contains(entry) {
            try copyEntry(source.appendingPathComponent(entry), to: destination.appendingPathComponent(entry))
        }
        try POSIXFiles.fsync(path: destination.path)
    }

    private static func copyEntry(_ source: URL, to destination: URL) throws {
        var info = stat()
        guard lstat(source.path, &info) == 0 else { throw TritonPackError.io(source.path, POSIXFiles.errnoMessage()) }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            try POSIXFiles.makeDirectory(destination.path, mode: info.st_mode & 0o7777)
            for entry in try POSIXFiles.entries(of: source.path) {
                try copyEntry(source.appendingPathComponent(entry), to: destination.appendingPathComponent(entry))
            }
        case S_IFLNK:
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: source.path)
            try FileManager.default.createSymbolicLink(atPath: destination.path, withDestinationPath: target)
        default:
            guard link(source.path, destination.path) == 0 else {
                throw TritonPackError.io(destination.path, "cannot hard-link \(source.path): \(POSIXFiles.errnoMessage())")
            }
        }
    }
}
