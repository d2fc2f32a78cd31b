import Foundation
import TritonPackModels

/// One name directly inside a model folder: a version folder, `config.pbtxt`, or anything else.
public struct StoreEntry: Equatable, Sendable {
    public var name: String
    public var isDirectory: Bool

    public init(name: String, isDirectory: Bool) {
        self.name = name
        self.isDirectory = isDirectory
    }
}

/// Which versions a local copy of a model holds.
public enum CopiedVersions: Equatable, Sendable {
    /// Those the model's version policy serves.
    case served
    /// Every complete version.
    case all
    case listed([Int64])
}

/// Where a repository's files live: a local folder today, an object store next. Commands read a
/// repository through `ModelRepository` and write only through `RepositoryTransaction`, so a second
/// store needs no change to them.
public protocol RepositoryStore: Sendable {
    /// How the user named the repository: a folder path or a URL.
    var displayName: String { get }
    /// The repository's folder when its files are on this machine, else nil (they are fetched first).
    var localRoot: URL? { get }

    /// How a file in the repository is named in messages: `<repository>/<relative path>`.
    func displayPath(_ relativePath: String) -> String
    func exists() async throws -> Bool
    func create() async throws
    /// Removes the repository again if it holds nothing but what tritonpack itself made (after a
    /// first write into a new repository failed).
    func removeIfUnused() async
    /// What the model folder holds at its top level; empty when the model does not exist.
    func entries(ofModel model: String) async throws -> [StoreEntry]
    /// The bytes of a file (`<model>/config.pbtxt`, `<model>/3/tritonpack-manifest.json`), nil when absent.
    func read(_ relativePath: String) async throws -> Data?
    /// Every file of a version, relative to the version folder, with its size.
    func files(ofModel model: String, version: Int64) async throws -> [String: Int64]
    /// SHA-256 of the listed files of a version, keyed by relative path; missing files are absent.
    func sha256(model: String, version: Int64, paths: [String]) async throws -> [String: String]
    /// The models of the repository: the folders that hold a config.pbtxt.
    func models() async throws -> [String]
    /// Copies the model's config and `versions` into `<repository>/<model>` on this machine: the
    /// config as the server reads it with `configAsServed`, else as a copy elsewhere starts from
    /// (a store may pin the served versions in the config it serves).
    func copyModel(_ model: String, versions: CopiedVersions, configAsServed: Bool, into repository: URL) async throws
    /// Places the local folder `folder` as the model folder `name`, outside any transaction: a
    /// rollout's candidate, which only explicit-mode servers told to load it ever load, and which
    /// `removeFolder` takes away again.
    func placeFolder(_ folder: URL, as name: String) async throws
    func removeFolder(_ name: String) async
    /// Takes the repository's writer lock, clears what interrupted writers left, and opens a place
    /// to stage new versions of `model`.
    func begin(model: String, lockTimeout: Double, onWait: @escaping @Sendable (String) -> Void) async throws
        -> any StoreTransaction
}

/// A store's half of one transaction: staged versions nobody sees yet, then one publication.
public protocol StoreTransaction: AnyObject, Sendable {
    /// Places `files` as version `version`, out of sight, and returns each file's SHA-256 keyed by
    /// destination; `manifest` is then written beside them. `pendingConfig` is the config the
    /// transaction will publish, if it sets one.
    func stageVersion(
        _ version: Int64, files: [PlacedFile], link: Bool, pendingConfig: Data?,
        manifest: @Sendable ([String: String]) throws -> Data
    ) async throws -> StagedVersion
    /// Places `file` directly in the model folder (beside config.pbtxt, where Triton loads no
    /// version), out of sight until published, and returns its SHA-256. For files the config
    /// names, such as the Python backend's execution environment, kept once per model.
    func stageModelFile(_ file: PlacedFile, link: Bool) async throws -> String
    /// Makes the change visible: as one switch where the store allows it, and never a state in
    /// which a polling server can load a partial version.
    func publish(_ change: ModelChange) async throws
    /// Releases the lock and removes whatever was staged and not published.
    func finish() async
}

public struct StagedVersion: Sendable {
    public var version: Int64
    /// SHA-256 per destination path (relative to the version folder).
    public var digests: [String: String]
    /// Files copied where hard links were asked for but impossible.
    public var copiedInsteadOfLinked: Int

    package init(version: Int64, digests: [String: String], copiedInsteadOfLinked: Int) {
        self.version = version
        self.digests = digests
        self.copiedInsteadOfLinked = copiedInsteadOfLinked
    }
}

/// Everything one transaction changes in one model.
public struct ModelChange: Sendable {
    public var model: String
    /// True when the model folder does not exist yet.
    public var createsModel: Bool
    /// Versions staged with `stageVersion`, in order.
    public var addedVersions: [Int64] = []
    /// The new `config.pbtxt`, or nil to keep the current one.
    public var config: Data?
    public var removedVersions: [Int64] = []
    /// Files staged with `stageModelFile`, by name in the model folder.
    public var addedModelFiles: [String] = []
    /// What goes into the model's history once published.
    public var history: ModelHistory.Entry?

    public init(model: String, createsModel: Bool) {
        self.model = model
        self.createsModel = createsModel
    }

    public var isEmpty: Bool {
        addedVersions.isEmpty && config == nil && removedVersions.isEmpty && addedModelFiles.isEmpty
    }
}
