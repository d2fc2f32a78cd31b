import Foundation
import TritonPackKit

/// The S3 repository an `s3://` argument names, or nil for a local path.
func s3Store(_ argument: String, lockTimeout: Double) throws -> S3ModelStore? {
    guard S3Location.isS3(argument) else { return nil }
    return try S3ModelStore(
        argument, lockTimeout: lockTimeout, onWait: { printError($0) }, onProgress: { printError("s3: \($0)") })
}

/// The repository and model an `s3://.../<model>` argument names, or nil for a local path.
func s3Model(_ argument: String, lockTimeout: Double) throws -> (store: S3ModelStore, model: String)? {
    guard S3Location.isS3(argument) else { return nil }
    let (repository, model) = try S3Location(parsing: argument).splittingModel()
    guard let store = try s3Store(repository.url, lockTimeout: lockTimeout) else { return nil }
    return (store, model)
}
