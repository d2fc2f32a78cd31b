import Foundation
import TritonPackKit

/// The repository a command names (a folder or an `s3://` URL); the object store's own steps,
/// such as cleaning up after an interrupted writer, are told on stderr.
func namedRepository(_ location: String) throws -> ModelRepository {
    try ModelRepository.named(location, onProgress: { printError("s3: \($0)") })
}

/// The repository and model a `<repository>/<model>` argument names, in either store.
func namedModel(_ location: String) throws -> (repository: ModelRepository, model: String) {
    try ModelRepository.containing(model: location, onProgress: { printError("s3: \($0)") })
}

/// Runs `body` on a folder on this machine holding what `path` names: the path itself, or for an
/// `s3://` repository (or model) a temporary copy of its served versions (every complete version
/// with `allVersions`); `body` learns whether it reads a copy.
func withReadableFolder<T>(_ path: String, allVersions: Bool = false, _ body: (URL, Bool) async throws -> T)
    async throws -> T
{
    try await ModelRepository.withReadableFolder(
        path, allVersions: allVersions, onProgress: { printError("s3: \($0)") }, body)
}
