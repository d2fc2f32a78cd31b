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
