import Crypto
import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// A local staging repository holding the Python identity model in versions `versions`, each
/// version with a manifest and, when `payloadBytes` > 0, a data file of that size.
func makeStagingRepository(_ root: URL, versions: [Int64], payloadBytes: Int = 0) throws -> URL {
    let sampleModel = packageRoot.appendingPathComponent("samples/python/identity_fp32")
    let model = root.appendingPathComponent("identity_fp32")
    try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
    try FileManager.default.copyItem(
        at: sampleModel.appendingPathComponent("config.pbtxt"), to: model.appendingPathComponent("config.pbtxt"))
    for version in versions {
        let folder = model.appendingPathComponent(String(version))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: sampleModel.appendingPathComponent("1/model.py"), to: folder.appendingPathComponent("model.py"))
        if payloadBytes > 0 {
            try writePayload(
                folder.appendingPathComponent("weights.bin"), bytes: payloadBytes, seed: UInt8(truncatingIfNeeded: version))
        }
        let manifest = try hashedManifest(of: folder, model: "identity_fp32", version: version)
        try manifest.encoded().write(to: folder.appendingPathComponent(Manifest.fileName))
    }
    return root
}

/// A manifest for a version folder that has none, hashing every file in it.
func hashedManifest(of folder: URL, model: String, version: Int64) throws -> Manifest {
    var paths: [String] = []
    if let enumerator = FileManager.default.enumerator(atPath: folder.path) {
        for case let relative as String in enumerator
        where relative != Manifest.fileName && POSIXFiles.isRegularFile(folder.appendingPathComponent(relative).path) {
            paths.append(relative)
        }
    }
    let digests = try FileCopier().hashFiles(paths.map { folder.appendingPathComponent($0).path })
    let files = paths.sorted().map { relative in
        let path = folder.appendingPathComponent(relative).path
        return Manifest.Entry(path: relative, size: POSIXFiles.fileSize(path) ?? 0, sha256: digests[path] ?? "")
    }
    return Manifest(
        model: model, version: version, source: .init(kind: "promoted", location: folder),
        signature: Signature(inputs: [], outputs: []), files: files)
}

/// An S3 repository of the test server.
func s3Repository(_ server: S3TestServer, _ url: String) throws -> (store: S3RepositoryStore, repository: ModelRepository) {
    let store = try S3RepositoryStore(url, environment: server.environment)
    return (store, ModelRepository(store: store))
}

/// A file of `bytes` bytes, different for each seed, written 4 MiB at a time.
func writePayload(_ url: URL, bytes: Int, seed: UInt8) throws {
    FileManager.default.createFile(atPath: url.path, contents: nil)
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }
    var block = [UInt8](repeating: seed, count: 4 << 20)
    var written = 0
    var counter: UInt32 = 0
    while written < bytes {
        counter += 1
        withUnsafeBytes(of: counter) { for (index, byte) in $0.enumerated() { block[index] = byte } }
        let count = min(block.count, bytes - written)
        try handle.write(contentsOf: Data(block[0..<count]))
        written += count
    }
}

/// The tritonpack CLI with the S3 server's environment.
func tritonpackS3(_ server: S3TestServer, _ arguments: [String], extra: [String: String] = [:]) async throws -> ProcessOutcome {
    var environment = server.environment
    for (name, value) in extra { environment[name] = value }
    let (status, stdout, stderr) = try await SpawnedProcess.run(tritonpackExecutable, arguments, separating: environment)
    return ProcessOutcome(status: status, stdout: stdout, stderr: stderr)
}

/// Every key in the bucket.
func allKeys(_ server: S3TestServer, bucket: String) async throws -> [String] {
    try await server.client(server.url(bucket: bucket)).list(prefix: "").map(\.key)
}

/// tritonpack started in the background with the S3 server's environment, its output in `log`.
func spawnTritonpackS3(_ server: S3TestServer, _ arguments: [String], log: URL, extra: [String: String] = [:]) throws
    -> SpawnedProcess
{
    var environment = server.environment
    for (name, value) in extra { environment[name] = value }
    return try SpawnedProcess(tritonpackExecutable, arguments, environment: environment, output: log)
}
