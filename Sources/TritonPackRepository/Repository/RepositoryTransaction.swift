import Foundation
import TritonPackModels

/// How long to wait for another writer, and whom to tell that we wait.
public struct LockPolicy: Sendable {
    public var timeout: Double
    public var onWait: @Sendable (String) -> Void

    public init(timeout: Double = 60, onWait: @escaping @Sendable (String) -> Void = { _ in }) {
        self.timeout = timeout
        self.onWait = onWait
    }
}

/// The one way tritonpack writes into a repository. Pack, promote, prune, policy and rollback each
/// describe their change inside `run`; the transaction takes the writer lock, reads the model as it
/// is under that lock, stages new versions out of sight, and publishes everything as one change,
/// recorded in the model's history. A failure or an interruption at any point leaves the
/// repository as it was.
public final class RepositoryTransaction: @unchecked Sendable {
    public let repository: ModelRepository
    /// The model as it was when the lock was taken.
    public let model: ModelDirectory
    private let staging: any StoreTransaction
    public private(set) var change: ModelChange

    private init(repository: ModelRepository, model: ModelDirectory, staging: any StoreTransaction) {
        self.repository = repository
        self.model = model
        self.staging = staging
        change = ModelChange(model: model.name, createsModel: !model.exists)
    }

    /// Runs `body` as one transaction on `model`. With `createRepository`, a missing repository is
    /// created, and removed again if nothing is published.
    public static func run<T>(
        in repository: ModelRepository, model name: String, lock: LockPolicy = LockPolicy(),
        createRepository: Bool = false, _ body: (RepositoryTransaction) async throws -> T
    ) async throws -> T {
        let existed = try await repository.store.exists()
        if !existed {
            guard createRepository else {
                throw TritonPackError.refused(repository.store.displayName, "no such repository")
            }
            try await repository.create()
        }
        var published = false
        do {
            let staging = try await repository.store.begin(model: name, lockTimeout: lock.timeout, onWait: lock.onWait)
            do {
                let transaction = RepositoryTransaction(
                    repository: repository, model: try await repository.model(name), staging: staging)
                let result = try await body(transaction)
                try Interruption.check()
                if !transaction.change.isEmpty {
                    published = true
                    try await staging.publish(transaction.change)
                }
                await staging.finish()
                return result
            } catch {
                await staging.finish()
                throw error
            }
        } catch {
            if !existed && !published { await repository.store.removeIfUnused() }
            throw error
        }
    }

    /// Stages `files` as a new version with its manifest (built from the files' SHA-256, computed
    /// while they are copied). An existing version is never replaced.
    public func addVersion(
        _ number: Int64, files: [PlacedFile], link: Bool = false, manifest: @escaping @Sendable ([Manifest.Entry]) -> Manifest
    ) async throws -> (manifest: Manifest, staged: StagedVersion) {
        guard number >= 0 else { throw TritonPackError.usage("version \(number) is negative; versions are numbers >= 0") }
        if model.versions.contains(number) || change.addedVersions.contains(number) {
            throw TritonPackError.refused(
                model.version(number).displayPath,
                "version \(number) of '\(model.name)' already exists; versions are never overwritten", code: .versionExists)
        }
        let record = ManifestBox()
        let staged = try await staging.stageVersion(number, files: files, link: link, pendingConfig: change.config) { digests in
            let entries = try files.map { file in
                guard let digest = digests[file.destination] else {
                    throw TritonPackError.io(file.source.path, "was not copied")
                }
                return Manifest.Entry(path: file.destination, size: file.size, sha256: digest)
            }
            let built = manifest(entries)
            record.value = built
            return try built.encoded()
        }
        change.addedVersions.append(number)
        return (record.value!, staged)
    }

    /// Stages a file for the model folder itself (see `StoreTransaction.stageModelFile`) and returns
    /// its SHA-256; nil when the model already has a file of that name, which is kept.
    public func addModelFile(_ file: PlacedFile, link: Bool = false) async throws -> String? {
        guard !file.destination.contains("/"), ModelNaming.canonicalVersion(file.destination) == nil,
            file.destination != ModelRepository.configFileName
        else {
            throw TritonPackError.usage("'\(file.destination)' cannot be a file of the model folder")
        }
        if model.modelFiles.contains(file.destination) || change.addedModelFiles.contains(file.destination) { return nil }
        let digest = try await staging.stageModelFile(file, link: link)
        change.addedModelFiles.append(file.destination)
        return digest
    }

    /// Replaces the model's config.pbtxt (or writes the first one); set it before adding versions,
    /// so that a store which shows a new model's config first shows this one.
    public func setConfig(_ text: Data) {
        change.config = text
    }

    /// Removes versions, in the same publication as the rest of the change.
    public func removeVersions(_ numbers: [Int64]) {
        change.removedVersions += numbers.filter { model.versions.contains($0) && !change.removedVersions.contains($0) }
    }

    /// What the model's history records for this change.
    public func record(_ operation: String, versions: [Int64], digests: [String: String] = [:], detail: String? = nil) {
        change.history = ModelHistory.Entry(operation: operation, versions: versions, digests: digests, detail: detail)
    }

    /// The versions on disk once this change is published.
    public var versionsAfter: [Int64] {
        Set(model.versions).subtracting(change.removedVersions).union(change.addedVersions).sorted()
    }
}

/// Carries the manifest built inside the store's staging callback back to the transaction.
private final class ManifestBox: @unchecked Sendable {
    var value: Manifest?
}
