import Foundation

/// A Triton model repository: one folder per model, one numbered folder per version, in a store
/// (a local folder, or object storage).
public struct ModelRepository: Sendable {
    public static let configFileName = "config.pbtxt"
    public static let lockFileName = ".tritonpack.lock"

    public var store: any RepositoryStore

    public init(store: any RepositoryStore) { self.store = store }

    /// A repository in a local folder.
    public init(root: URL, durable: Bool = true) { store = LocalRepositoryStore(root: root, durable: durable) }

    /// A repository as users name it: a folder, or `s3://host:port/bucket/prefix` (`onProgress`
    /// hears what the object store does beyond the change itself, such as cleaning up).
    public static func named(_ location: String, onProgress: @escaping @Sendable (String) -> Void = { _ in }) throws
        -> ModelRepository
    {
        guard S3Location.isS3(location) else { return ModelRepository(root: URL(fileURLWithPath: location)) }
        return ModelRepository(store: try S3RepositoryStore(location, onProgress: onProgress))
    }

    /// The repository holding a model named as `<repository>/<model>` (a folder or an `s3://`
    /// URL), and the model's name.
    public static func containing(model location: String, onProgress: @escaping @Sendable (String) -> Void = { _ in }) throws
        -> (repository: ModelRepository, model: String)
    {
        guard S3Location.isS3(location) else { return containing(modelFolder: location) }
        let (repository, model) = try S3Location(parsing: location).splittingModel()
        return (try named(repository.url, onProgress: onProgress), model)
    }

    /// The repository holding a model folder named as `<repository>/<model>`, and the model's name.
    public static func containing(modelFolder location: String) -> (repository: ModelRepository, model: String) {
        let folder = URL(fileURLWithPath: location).standardizedFileURL
        return (ModelRepository(root: folder.deletingLastPathComponent()), folder.lastPathComponent)
    }

    /// Runs `body` on a repository on this machine holding `model`'s config and `versions`
    /// (default: those served): this one when it is local, else a temporary copy, removed afterwards.
    public func withLocalCopy<T>(
        of model: String, versions: [Int64]?, _ body: (ModelRepository) async throws -> T
    ) async throws -> T {
        if store.localRoot != nil { return try await body(self) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tritonpack-copy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await store.copyModel(model, versions: versions, into: folder)
        return try await body(ModelRepository(root: folder))
    }

    /// The local folder; for a remote store, its display name (callers needing files fetch them first).
    public var root: URL { store.localRoot ?? URL(fileURLWithPath: store.displayName) }

    public func modelDirectory(_ name: String) -> URL { root.appendingPathComponent(name, isDirectory: true) }

    public func configPath(_ name: String) -> URL {
        modelDirectory(name).appendingPathComponent(Self.configFileName)
    }

    /// The model folder as it is now: its config read and parsed once, its versions listed.
    public func model(_ name: String) async throws -> ModelDirectory {
        try await ModelDirectory.load(name, in: self)
    }

    /// The versions Triton would load from a local model folder.
    public func versions(of name: String) throws -> [Int64] { try ModelDirectory.local(name, in: root).versions }

    /// `3` -> 3; `03`, `3a`, `-1`, `+2`, ` 1` -> nil (Triton skips or misreads those).
    public static func canonicalVersion(_ name: String) -> Int64? {
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        guard name == "0" || !name.hasPrefix("0") else { return nil }
        return Int64(name)
    }

    /// Creates the repository (and a local folder's parents) if it does not exist yet.
    public func create() async throws { try await store.create() }
}
