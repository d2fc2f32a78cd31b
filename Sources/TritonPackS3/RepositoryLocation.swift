import Foundation
import TritonPackModels
import TritonPackRepository

/// Repositories named as users name them, local or `s3://`: the S3 store joins the repository
/// layer here, from outside it.
extension ModelRepository {
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
}

extension ModelRepository {
    /// Runs `body` on a folder on this machine holding what `location` names, a repository or one
    /// model folder: a local path as it is; for an `s3://` URL a temporary local copy of the served
    /// versions (every complete one with `allVersions`), its configs as the server reads them.
    /// `body` learns whether it reads a copy.
    public static func withReadableFolder<T>(
        _ location: String, allVersions: Bool = false, onProgress: @escaping @Sendable (String) -> Void = { _ in },
        _ body: (_ folder: URL, _ copied: Bool) async throws -> T
    ) async throws -> T {
        guard S3Location.isS3(location) else { return try await body(URL(fileURLWithPath: location), false) }
        let versions: CopiedVersions = allVersions ? .all : .served
        let repository = try named(location, onProgress: onProgress)
        let models = try await repository.store.models()
        if !models.isEmpty {
            return try await repository.withLocalCopy(of: models, versions: versions, configAsServed: true) {
                try await body($0.root, true)
            }
        }
        if let (parent, model) = try? containing(model: location, onProgress: onProgress),
            try await parent.store.read("\(model)/\(configFileName)") != nil
        {
            return try await parent.withLocalCopy(of: [model], versions: versions, configAsServed: true) {
                try await body($0.modelDirectory(model), true)
            }
        }
        return try await repository.withLocalCopy(of: [], configAsServed: true) { try await body($0.root, true) }
    }
}
