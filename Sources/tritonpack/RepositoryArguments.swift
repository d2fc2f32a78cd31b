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

/// A folder on this machine holding what `path` names: the path itself, or for an `s3://`
/// repository (or model) a temporary copy of its served versions (every complete version with
/// `allVersions`), which the caller removes.
func readableFolder(_ path: String, allVersions: Bool = false) async throws -> (folder: URL, remove: Bool) {
    guard S3Location.isS3(path) else { return (URL(fileURLWithPath: path), false) }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tritonpack-read-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    do {
        return (try await S3RepositoryStore.downloadForReading(path, into: folder, allVersions: allVersions), true)
    } catch {
        try? FileManager.default.removeItem(at: folder)
        throw error
    }
}
