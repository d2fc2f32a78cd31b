import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// The S3 repository store behind the same `Promoter` and `VersionOperations` as a local folder,
/// checked on a real S3 server: versions pinned, the switch the newest write, cleanup of what
/// interrupted writers left, the lock.
final class S3RepositoryStoreTests: XCTestCase {
    func testPromotionsPinVersionsAndTheSwitchIsTheNewestWrite() async throws {
        let server = try await S3TestServer.shared()
        let bucket = try await server.makeBucket()
        let staging = try makeStagingRepository(try temporaryDirectory(self), versions: [1, 2, 3], payloadBytes: 1 << 20)
        let (store, repository) = try s3Repository(server, server.url(bucket: bucket, prefix: "prod"))
        let operations = VersionOperations(repository: repository, name: "identity_fp32")
        func promote(_ version: Int64) async throws -> PromotionResult {
            try await Promoter(
                name: "identity_fp32", source: ModelRepository(root: staging), target: repository, version: version
            )
            .promote()
        }
        let first = try await promote(1)
        XCTAssertTrue(first.configCopied)
        XCTAssertEqual(first.targetDirectory, server.url(bucket: bucket, prefix: "prod/identity_fp32/1"))
        var state = try await store.state(model: "identity_fp32")
        XCTAssertEqual(state.served, [1])
        XCTAssertTrue(state.configText?.contains("specific") ?? false, state.configText ?? "")
        XCTAssertTrue(
            state.configText?.contains("\(S3PinnedConfig.marker)version_policy { latest { num_versions: 1 } }") ?? false,
            state.configText ?? "")

        _ = try await promote(2)
        state = try await store.state(model: "identity_fp32")
        XCTAssertEqual(state.served, [2], "the intended policy, latest 1, serves the new version")
        XCTAssertEqual(state.complete, [1, 2])
        let config = state.objects.first { $0.key.hasSuffix("/config.pbtxt") }!
        let others = state.objects.filter { $0.key != config.key }.map { floor($0.lastModified.timeIntervalSince1970) }
        XCTAssertGreaterThan(
            floor(config.lastModified.timeIntervalSince1970), others.max()!, "the config is strictly the newest object")

        do {
            _ = try await promote(2)
            XCTFail("overwrote version 2")
        } catch let error as TritonPackError {
            XCTAssertEqual(error.code, .versionExists, error.description)
        }
        _ = try await promote(3)
        let rolledBack = try await operations.rollback()
        XCTAssertEqual(rolledBack, VersionOperations.RollbackResult(previouslyServed: [3], served: [2]))
        let value1 = try await operations.setPolicy(try VersionPolicySpec(parsing: "latest:2"))
        XCTAssertEqual(value1, [2, 3])
        let value2 = try await operations.prune(keep: 0)
        XCTAssertEqual(value2, [1])
        state = try await store.state(model: "identity_fp32")
        XCTAssertEqual(state.complete, [2, 3])
        XCTAssertEqual(state.served, [2, 3])
        let history = try await ModelHistory.read(model: "identity_fp32", in: repository)
        XCTAssertEqual(history.map(\.operation), ["promote", "promote", "promote", "rollback", "policy", "prune"])
        XCTAssertEqual(history.last?.versions, [1])

        // Promoting out of S3 copies the policy the user meant, not the pin.
        let local = try temporaryDirectory(self).appendingPathComponent("local")
        try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
        let back = try await Promoter(name: "identity_fp32", source: repository, target: ModelRepository(root: local)).promote()
        XCTAssertEqual(back.sourceVersion, 3)
        let copied = try ModelDirectory.local("identity_fp32", in: local)
        XCTAssertEqual(try copied.config().versionPolicy, try VersionPolicySpec(parsing: "latest:2").message)
        XCTAssertFalse(String(decoding: copied.configText ?? Data(), as: UTF8.self).contains("tritonpack"))
        try assertVersionsVerify(local.appendingPathComponent("identity_fp32"))

        let value3 = try await store.models()
        XCTAssertEqual(value3, ["identity_fp32"])
        let value4 = try await repository.model("identity_fp32").list(verify: true).map(\.verified)
        XCTAssertEqual(value4, [true, true])
    }

    func testAWriterFirstRemovesWhatAnInterruptedOneLeft() async throws {
        let server = try await S3TestServer.shared()
        let bucket = try await server.makeBucket()
        let url = server.url(bucket: bucket, prefix: "prod")
        let staging = try makeStagingRepository(try temporaryDirectory(self), versions: [1, 2, 4])
        let (store, repository) = try s3Repository(server, url)
        func promote(_ version: Int64) async throws {
            _ = try await Promoter(
                name: "identity_fp32", source: ModelRepository(root: staging), target: repository, version: version
            ).promote()
        }
        try await promote(1)
        try await promote(4)
        _ = try await VersionOperations(repository: repository, name: "identity_fp32").rollback(to: 1)
        let client = try server.client(url)
        try await client.put("prod/identity_fp32/2/model.py", data: Data("partial".utf8))
        try await client.put("prod/identity_fp32/7/model.py", data: Data("partial".utf8))
        _ = try await client.createMultipartUpload("prod/identity_fp32/2/weights.bin")
        // A complete version a dead writer was staging: removed too, unlike version 4, which a
        // rollback left unserved on purpose.
        for key in ["model.py", Manifest.fileName] {
            try await client.put("prod/identity_fp32/5/\(key)", data: try await client.get("prod/identity_fp32/4/\(key)")!)
        }
        try await client.put(
            "prod/\(S3RepositoryStore.stagingObjectName)",
            data: try JSONEncoder().encode(S3StagingRecord(versions: [.init(model: "identity_fp32", version: 5)])))
        var state = try await store.state(model: "identity_fp32")
        XCTAssertEqual(state.versions.keys.sorted(), [1, 2, 4, 5, 7])

        try await promote(2)
        let value5 = try await client.listMultipartUploads(prefix: "")
        XCTAssertEqual(value5, [])
        state = try await store.state(model: "identity_fp32")
        XCTAssertEqual(state.versions.keys.sorted(), [1, 2, 4])
        XCTAssertEqual(state.served, [1], "the rollback's pin stays, as in a local repository")
        let value6 = try await client.get("prod/\(S3RepositoryStore.stagingObjectName)")
        XCTAssertNil(value6)
    }

    func testAFailedStageRemovesItsObjectsAndANewModelsFirstConfig() async throws {
        let server = try await S3TestServer.shared()
        let bucket = try await server.makeBucket()
        let (_, repository) = try s3Repository(server, server.url(bucket: bucket, prefix: "prod"))
        let staging = try makeStagingRepository(try temporaryDirectory(self), versions: [1])
        let model = staging.appendingPathComponent("identity_fp32/1/model.py")
        do {
            _ = try await RepositoryTransaction.run(in: repository, model: "identity_fp32") { transaction in
                transaction.setConfig(try Data(contentsOf: staging.appendingPathComponent("identity_fp32/config.pbtxt")))
                _ = try await transaction.addVersion(
                    1, files: [PlacedFile(source: model, destination: "model.py", size: POSIXFiles.fileSize(model.path)!)]
                ) {
                    Manifest(
                        model: "identity_fp32", version: 1, source: .init(kind: "test", path: "x"),
                        signature: .init(inputs: [], outputs: []), files: $0)
                }
                throw TritonPackError.refused(nil, "changed my mind")
            }
            XCTFail("the transaction did not fail")
        } catch let error as TritonPackError {
            XCTAssertEqual(error.message, "changed my mind")
        }
        let value7 = try await allKeys(server, bucket: bucket)
        XCTAssertEqual(value7, [])
    }

    func testTheLockIsExclusiveAndAnAbandonedOneIsTakenOverByOneWriter() async throws {
        let server = try await S3TestServer.shared()
        let bucket = try await server.makeBucket()
        let client = try server.client(server.url(bucket: bucket, prefix: "prod"))
        let held = try await S3RepositoryLock.acquire(client: client, ttl: 30, timeout: 1)
        do {
            _ = try await S3RepositoryLock.acquire(client: client, ttl: 30, timeout: 1)
            XCTFail("two holders")
        } catch let error as TritonPackError {
            XCTAssertEqual(error.code, .lockTimeout, error.description)
            XCTAssertEqual(error.file, server.url(bucket: bucket, prefix: "prod/tritonpack.lock"))
        }
        try await held.confirm()
        await held.release()
        let value6 = try await client.get("prod/tritonpack.lock")
        XCTAssertNil(value6)

        let stale = S3RepositoryLock.Record(
            holder: "gone", host: "elsewhere", pid: 1, expiresAt: Date().timeIntervalSince1970 - 1)
        try await client.put("prod/tritonpack.lock", data: S3RepositoryLock.encode(stale))
        // Several writers see the same dead lock at once: exactly one takes it over.
        let outcomes = await withTaskGroup(of: S3RepositoryLock?.self) { group in
            for _ in 0..<4 { group.addTask { try? await S3RepositoryLock.acquire(client: client, ttl: 30, timeout: 1) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let holders = outcomes.compactMap { $0 }
        XCTAssertEqual(holders.count, 1, "\(holders.count) writers took over one abandoned lock")
        try await holders.first?.confirm()
        await holders.first?.release()
    }

    func testNamesTritonCannotParseAreRefusedBeforeAnyWrite() async throws {
        let server = try await S3TestServer.shared()
        let bucket = try await server.makeBucket()
        let (_, repository) = try s3Repository(server, server.url(bucket: bucket))
        let staging = try makeStagingRepository(try temporaryDirectory(self), versions: [1])
        try Data("x".utf8).write(to: staging.appendingPathComponent("identity_fp32/1/my weights.bin"))
        try FileManager.default.removeItem(at: staging.appendingPathComponent("identity_fp32/1/\(Manifest.fileName)"))
        do {
            _ = try await Promoter(name: "identity_fp32", source: ModelRepository(root: staging), target: repository).promote()
            XCTFail("published a file name Triton cannot read")
        } catch let error as TritonPackError {
            XCTAssertEqual(error.kind, .usage)
            XCTAssertEqual(error.code, .s3InvalidPath, error.description)
        }
        let value7 = try await allKeys(server, bucket: bucket)
        XCTAssertEqual(value7, [])
    }
}
