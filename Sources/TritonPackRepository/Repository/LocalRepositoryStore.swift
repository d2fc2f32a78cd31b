import CSystemShims
import Foundation
import Glibc
import TritonPackModels

/// A repository in a local folder. Writers are serialized by an flock on a file in the root;
/// versions are staged beside the repository (`StagingArea`) and published by rename, or, when a
/// change touches more than one thing in a model folder, by exchanging the whole folder with a
/// staged one whose unchanged files are hard links (RENAME_EXCHANGE): either way a polling server
/// sees one change.
public struct LocalRepositoryStore: RepositoryStore {
    public var root: URL
    /// fsync every file and folder before publishing. Off only for throw-away repositories.
    public var durable: Bool

    public init(root: URL, durable: Bool = true) {
        self.root = root.standardizedFileURL
        self.durable = durable
    }

    public var displayName: String { root.path }
    public var localRoot: URL? { root }

    public func displayPath(_ relativePath: String) -> String {
        relativePath.isEmpty ? root.path : root.appendingPathComponent(relativePath).path
    }

    public func exists() async throws -> Bool {
        guard POSIXFiles.exists(root.path) else { return false }
        guard POSIXFiles.isDirectory(root.path) else {
            throw TritonPackError.refused(root.path, "exists but is not a directory; a repository is a folder")
        }
        return true
    }

    public func create() async throws {
        if try await exists() { return }
        do {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        } catch {
            throw TritonPackError(.io, "cannot create repository", at: SourceLocation(root.path), cause: error as NSError)
        }
    }

    public func removeIfUnused() async {
        unlink(root.appendingPathComponent(ModelRepository.lockFileName).path)
        rmdir(root.path)
    }

    public func entries(ofModel model: String) async throws -> [StoreEntry] { try entriesNow(ofModel: model) }

    package func entriesNow(ofModel model: String) throws -> [StoreEntry] {
        let directory = root.appendingPathComponent(model).path
        guard POSIXFiles.isDirectory(directory) else { return [] }
        return try POSIXFiles.entries(of: directory).map {
            StoreEntry(name: $0, isDirectory: POSIXFiles.isDirectory(directory + "/" + $0))
        }
    }

    public func read(_ relativePath: String) async throws -> Data? { try readNow(relativePath) }

    package func readNow(_ relativePath: String) throws -> Data? {
        let path = displayPath(relativePath)
        guard POSIXFiles.exists(path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TritonPackError.system(path, "cannot read")
        }
        return data
    }

    public func files(ofModel model: String, version: Int64) async throws -> [String: Int64] {
        let folder = root.appendingPathComponent("\(model)/\(version)")
        var found: [String: Int64] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: folder.path) else { return [:] }
        for case let relative as String in enumerator {
            let path = folder.appendingPathComponent(relative).path
            if POSIXFiles.isRegularFile(path) { found[relative] = POSIXFiles.fileSize(path) ?? 0 }
        }
        return found
    }

    public func sha256(model: String, version: Int64, paths: [String]) async throws -> [String: String] {
        let folder = root.appendingPathComponent("\(model)/\(version)")
        let present = paths.filter { POSIXFiles.isRegularFile(folder.appendingPathComponent($0).path) }
        let digests = try FileCopier().hashFiles(present.map { folder.appendingPathComponent($0).path })
        return Dictionary(uniqueKeysWithValues: present.map { ($0, digests[folder.appendingPathComponent($0).path]!) })
    }

    public func models() async throws -> [String] {
        try POSIXFiles.entries(of: root.path).filter {
            POSIXFiles.isRegularFile(root.appendingPathComponent("\($0)/\(ModelRepository.configFileName)").path)
        }
    }

    public func copyModel(_ model: String, versions: CopiedVersions, configAsServed: Bool, into repository: URL) async throws {
        let source = try ModelDirectory.local(model, in: root)
        try source.requireModel()
        let target = repository.appendingPathComponent(model)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        if let config = source.configText { try config.write(to: target.appendingPathComponent(ModelRepository.configFileName)) }
        for name in source.modelFiles {
            let from = source.directory.appendingPathComponent(name)
            let to = target.appendingPathComponent(name)
            if Glibc.link(from.path, to.path) != 0 { try FileManager.default.copyItem(at: from, to: to) }
        }
        let copied: [Int64] =
            switch versions {
            case .served: try source.served()
            case .all: source.versions
            case .listed(let numbers): numbers
            }
        for version in copied {
            try FileManager.default.copyItem(
                at: source.directory.appendingPathComponent(String(version)), to: target.appendingPathComponent(String(version)))
        }
    }

    /// A tree of hard links to `folder` (copies across filesystems is not needed: the candidate's
    /// files come from this repository).
    public func placeFolder(_ folder: URL, as name: String) async throws {
        try ModelName.validate(name)
        let target = root.appendingPathComponent(name)
        if POSIXFiles.exists(target.path) { POSIXFiles.removeTree(target.path) }
        try HardLinkTree.copy(folder, to: target)
    }

    public func removeFolder(_ name: String) async {
        guard (try? ModelName.validate(name)) != nil else { return }
        POSIXFiles.removeTree(root.appendingPathComponent(name).path)
    }

    public func begin(model: String, lockTimeout: Double, onWait: @escaping @Sendable (String) -> Void) async throws
        -> any StoreTransaction
    {
        let lock = try RepositoryLock(root: root, timeout: lockTimeout, onWait: onWait)
        let staging = StagingArea.choose(for: root, model: model)
        staging.removeStaleStages()
        let stage: URL
        do {
            stage = try staging.makeStage(model: model)
        } catch {
            staging.removeIfEmpty()
            throw error
        }
        return LocalStoreTransaction(store: self, model: model, lock: lock, staging: staging, stage: stage)
    }
}

/// One transaction on a local repository: a stage folder holding the new versions until publication.
package final class LocalStoreTransaction: StoreTransaction, @unchecked Sendable {
    package let store: LocalRepositoryStore
    package let model: String
    private var lock: RepositoryLock?
    package let staging: StagingArea
    package let stage: URL

    package init(store: LocalRepositoryStore, model: String, lock: RepositoryLock, staging: StagingArea, stage: URL) {
        self.store = store
        self.model = model
        self.lock = lock
        self.staging = staging
        self.stage = stage
    }

    private var modelDirectory: URL { store.root.appendingPathComponent(model, isDirectory: true) }
    private func stagedVersion(_ version: Int64) -> URL { stage.appendingPathComponent("versions/\(version)") }
    private func stagedModelFile(_ name: String) -> URL { stage.appendingPathComponent("model-files/\(name)") }

    package func stageModelFile(_ file: PlacedFile, link: Bool) async throws -> String {
        let target = stagedModelFile(file.destination)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let copied = try FileCopier(mode: link ? .hardLink : .copy, syncFiles: store.durable).run([
            FileCopyJob(source: file.source.path, destination: target.path, size: file.size)
        ])
        guard let digest = copied.digests[target.path] else { throw TritonPackError.io(file.source.path, "was not copied") }
        return digest
    }

    package func stageVersion(
        _ version: Int64, files: [PlacedFile], link: Bool, pendingConfig: Data?,
        manifest: @Sendable ([String: String]) throws -> Data
    ) async throws -> StagedVersion {
        let folder = stagedVersion(version)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let directories = Set(files.map { ($0.destination as NSString).deletingLastPathComponent })
        for directory in directories.sorted() where !directory.isEmpty {
            try FileManager.default.createDirectory(
                at: folder.appendingPathComponent(directory), withIntermediateDirectories: true)
        }
        let jobs = files.map {
            FileCopyJob(source: $0.source.path, destination: folder.appendingPathComponent($0.destination).path, size: $0.size)
        }
        let copied = try FileCopier(mode: link ? .hardLink : .copy, syncFiles: store.durable).run(jobs)
        var digests: [String: String] = [:]
        for file in files { digests[file.destination] = copied.digests[folder.appendingPathComponent(file.destination).path] }
        try POSIXFiles.write(try manifest(digests), to: folder.appendingPathComponent(Manifest.fileName).path)
        if store.durable { try Self.syncDirectories(under: folder) }
        return StagedVersion(version: version, digests: digests, copiedInsteadOfLinked: copied.copiedInsteadOfLinked)
    }

    package func publish(_ change: ModelChange) async throws {
        try Interruption.check()
        if change.createsModel {
            try publishNewModel(change)
        } else if change.removedVersions.isEmpty && change.addedVersions.isEmpty && change.addedModelFiles.isEmpty,
            let config = change.config
        {
            // The temporary file is staged in the repository root (a file there is no model): in the
            // model folder it would let a polling server load the old config once more.
            try POSIXFiles.writeAtomically(
                config, to: modelDirectory.appendingPathComponent(ModelRepository.configFileName).path, stagingIn: store.root.path
            )
        } else if change.removedVersions.isEmpty && change.config == nil && change.addedVersions.count == 1
            && change.addedModelFiles.isEmpty
        {
            let version = change.addedVersions[0]
            try POSIXFiles.rename(stagedVersion(version).path, to: modelDirectory.appendingPathComponent(String(version)).path)
            try POSIXFiles.fsync(path: modelDirectory.path)
        } else if !change.isEmpty {
            try exchangeModelFolder(change)
        }
        if let history = change.history { try ModelHistory.append(history, to: modelDirectory) }
    }

    /// A model folder assembled in the stage (config and versions), renamed into the repository.
    private func publishNewModel(_ change: ModelChange) throws {
        let folder = stage.appendingPathComponent("model")
        try POSIXFiles.makeDirectory(folder.path)
        try placeStaged(change, in: folder)
        if store.durable { try POSIXFiles.fsync(path: folder.path) }
        try POSIXFiles.rename(folder.path, to: modelDirectory.path)
        try POSIXFiles.fsync(path: store.root.path)
    }

    /// A copy of the live model folder (hard links) with the change applied, swapped in atomically.
    private func exchangeModelFolder(_ change: ModelChange) throws {
        let replacement = stage.appendingPathComponent("model")
        let skipped = Set(
            change.removedVersions.map(String.init) + (change.config == nil ? [] : [ModelRepository.configFileName]))
        try HardLinkTree.copy(modelDirectory, to: replacement, skipping: skipped)
        try placeStaged(change, in: replacement)
        try POSIXFiles.fsync(path: replacement.path)
        try Interruption.check()
        guard tp_rename_exchange(replacement.path, modelDirectory.path) == 0 else {
            throw TritonPackError.system(modelDirectory.path, "cannot swap in the changed model folder")
        }
        try POSIXFiles.fsync(path: store.root.path)
    }

    /// Moves the staged versions and model files into `folder` and writes the new config there.
    private func placeStaged(_ change: ModelChange, in folder: URL) throws {
        for version in change.addedVersions {
            try POSIXFiles.rename(stagedVersion(version).path, to: folder.appendingPathComponent(String(version)).path)
        }
        for name in change.addedModelFiles {
            try POSIXFiles.rename(stagedModelFile(name).path, to: folder.appendingPathComponent(name).path)
        }
        if let config = change.config {
            try POSIXFiles.write(config, to: folder.appendingPathComponent(ModelRepository.configFileName).path)
        }
    }

    package func finish() async {
        POSIXFiles.removeTree(stage.path)
        staging.removeIfEmpty()
        lock = nil
    }

    package static func syncDirectories(under root: URL) throws {
        var directories = [root.path]
        if let enumerator = FileManager.default.enumerator(atPath: root.path) {
            for case let relative as String in enumerator {
                let path = root.appendingPathComponent(relative).path
                if POSIXFiles.isDirectory(path) { directories.append(path) }
            }
        }
        for directory in directories { try POSIXFiles.fsync(path: directory) }
    }
}

/// A copy of a folder tree whose files are hard links to the original's.
package enum HardLinkTree {
    package static func copy(_ source: URL, to destination: URL, skipping topLevel: Set<String> = []) throws {
        try POSIXFiles.makeDirectory(destination.path)
        for entry in try POSIXFiles.entries(of: source.path) where !topLevel.contains(entry) {
            try copyEntry(source.appendingPathComponent(entry), to: destination.appendingPathComponent(entry))
        }
        try POSIXFiles.fsync(path: destination.path)
    }

    private static func copyEntry(_ source: URL, to destination: URL) throws {
        var info = stat()
        guard lstat(source.path, &info) == 0 else { throw TritonPackError.system(source.path, "cannot read") }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            try POSIXFiles.makeDirectory(destination.path, mode: info.st_mode & 0o7777)
            for entry in try POSIXFiles.entries(of: source.path) {
                try copyEntry(source.appendingPathComponent(entry), to: destination.appendingPathComponent(entry))
            }
        case S_IFLNK:
            guard let target = POSIXFiles.linkTarget(source.path), symlink(target, destination.path) == 0 else {
                throw TritonPackError.system(destination.path, "cannot copy the symbolic link \(source.path)")
            }
        default:
            guard link(source.path, destination.path) == 0 else {
                throw TritonPackError.system(destination.path, "cannot hard-link \(source.path)")
            }
        }
    }
}
