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

    /// The repository holding a model folder named as `<repository>/<model>`, and the model's name.
    public static func containing(modelFolder location: String) -> (repository: ModelRepository, model: String) {
        let folder = URL(fileURLWithPath: location).standardizedFileURL
        return (ModelRepository(root: folder.deletingLastPathComponent()), folder.lastPathComponent)
    }

    /// Runs `body` on a repository on this machine holding `models` with their configs and
    /// `versions`: this one when it is local, else a temporary copy, removed afterwards. The copy's
    /// configs are those the server reads with `configAsServed`, else those a copy elsewhere starts from.
    public func withLocalCopy<T>(
        of models: [String], versions: CopiedVersions = .served, configAsServed: Bool = false,
        _ body: (ModelRepository) async throws -> T
    ) async throws -> T {
        if store.localRoot != nil { return try await body(self) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tritonpack-copy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for model in models {
            try await store.copyModel(model, versions: versions, configAsServed: configAsServed, into: folder)
        }
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

    /// Creates the repository (and a local folder's parents) if it does not exist yet.
    public func create() async throws { try await store.create() }
}
