import Foundation
import XCTest

@testable import TritonPackKit

/// The S3 repository store's protocol, checked on a real S3 server.
final class S3ModelStoreTests: XCTestCase {
    func testPromotionsPinVersionsAndTheSwitchIsTheNewestWrite() async throws {
        let server = try await S3TestServer.shared()
        let bucket = try await server.makeBucket()
        let staging = try makeStagingRepository(try temporaryDirectory(self), versions: [1, 2, 3], payloadBytes: 1 << 20)
        let store = try S3ModelStore(server.url(bucket: bucket, prefix: "prod"), environment: server.environment)
        func promote(_ version: Int64) async throws -> PromotionResult {
            try await S3Promoter(name: "identity_fp32", source: ModelRepository(root: staging), target: store, version: version)
                .promote()
        }
        let first = try await promote(1)
        XCTAssertTrue(first.configCopied)
        XCTAssertEqual(first.targetDirectory, server.url(bucket: bucket, prefix: "prod/identity_fp32/1"))
        var state = try await store.state(model: "identity_fp32")
        XCTAssertEqual(state.served, [1])
        XCTAssertTrue(state.configText?.contains("specific") ?? false, state.configText ?? "")

        _ = try await promote(2)
        state = try await store.state(model: "identity_fp32")
        XCTAssertEqual(state.served, [2])
        XCTAssertEqual(state.complete, [1, 2])
        let config = state.objects.first { $0.key.hasSuffix("/config.pbtxt") }!
        let others = state.objects.filter { $0.key != config.key }.map { floor($0.lastModified.timeIntervalSince1970) }
        XCTAssertGreaterThan(
            floor(config.lastModified.timeIntervalSince1970), others.max()!, "the config is strictly the newest object")

        do {
            _ = try await promote(2)
            XCTFail("overwrote version 2")
        } catch let error as TritonPackError {
            XCTAssertTrue(error.message.contains("already exists"), error.description)
        }
        _ = try await promote(3)
        let rolledBack = try await store.rollback(model: "identity_fp32")
        XCTAssertEqual(rolledBack, VersionOperations.RollbackResult(previouslyServed: [3], served: [2]))
        let value1 = try await store.setPolicy(model: "identity_fp32", policy: try VersionPolicySpec(parsing: "latest:2").message)
        XCTAssertEqual(value1, [2, 3])
        let value2 = try await store.prune(model: "identity_fp32", keep: 0)
        XCTAssertEqual(value2, [1])
        state = try await store.state(model: "identity_fp32")
        XCTAssertEqual(state.complete, [2, 3])
        XCTAssertEqual(state.served, [2, 3])
        do {
            try await store.deleteVersions(model: "identity_fp32", versions: [3])
            XCTFail("deleted a served version")
        } catch let error as TritonPackError {
            XCTAssertTrue(error.message.contains("are served"), error.description)
        }

        let download = try temporaryDirectory(self)
        try await store.downloadModel(model: "identity_fp32", to: download)
        try assertVersionsVerify(download.appendingPathComponent("identity_fp32"))
        let value3 = try await store.models()
        XCTAssertEqual(value3, ["identity_fp32"])
        let value4 = try await store.listVersions(model: "identity_fp32", verify: true).map(\.verified)
        XCTAssertEqual(value4, [true, true])
    }

    func testARunCleansUpWhatAnInterruptedRunLeft() async throws {
        let server = try await S3TestServer.shared()
        let bucket = try await server.makeBucket()
        let url = server.url(bucket: bucket, prefix: "prod")
        let staging = try makeStagingRepository(try temporaryDirectory(self), versions: [1, 2])
        let store = try S3ModelStore(url, environment: server.environment)
        _ = try await S3Promoter(name: "identity_fp32", source: ModelRepository(root: staging), target: store, version: 1)
            .promote()
        let client = try server.client(url)
        try await client.put("prod/identity_fp32/2/model.py", data: Data("partial".utf8))
        try await client.put("prod/identity_fp32/7/model.py", data: Data("partial".utf8))
        _ = try await client.createMultipartUpload("prod/identity_fp32/2/weights.bin")
        let result = try await store.publishVersion(
            model: "identity_fp32", version: 2, localFolder: staging.appendingPathComponent("identity_fp32/2"),
            config: try String(contentsOf: staging.appendingPathComponent("identity_fp32/config.pbtxt"), encoding: .utf8))
        XCTAssertEqual(result.removedPartialVersions, [2, 7])
        XCTAssertEqual(result.abortedUploads, 1)
        let value5 = try await client.listMultipartUploads(prefix: "")
        XCTAssertEqual(value5, [])
        let state = try await store.state(model: "identity_fp32")
        XCTAssertEqual(state.versions.keys.sorted(), [1, 2])
        XCTAssertEqual(state.served, [2])
    }

    func testTheLockIsExclusiveAndAnExpiredOneIsTakenOver() async throws {
        let server = try await S3TestServer.shared()
        let bucket = try await server.makeBucket()
        let client = try server.client(server.url(bucket: bucket, prefix: "prod"))
        let held = try await S3RepositoryLock.acquire(client: client, ttl: 30, timeout: 1)
        do {
            _ = try await S3RepositoryLock.acquire(client: client, ttl: 30, timeout: 1)
            XCTFail("two holders")
        } catch let error as TritonPackError {
            XCTAssertTrue(error.message.contains("another tritonpack"), error.description)
            XCTAssertEqual(error.file, server.url(bucket: bucket, prefix: "prod/tritonpack.lock"))
        }
        try await held.confirm()
        await held.release()
        let value6 = try await client.get("prod/tritonpack.lock")
        XCTAssertNil(value6)

        let stale = S3RepositoryLock.Record(
            holder: "gone", host: "elsewhere", pid: 1, expiresAt: Date().timeIntervalSince1970 - 1)
        try await client.put("prod/tritonpack.lock", data: S3RepositoryLock.encode(stale))
        let taken = try await S3RepositoryLock.acquire(client: client, ttl: 30, timeout: 1)
        try await taken.confirm()
        await taken.release()
    }

    func testNamesTritonCannotParseAreRefusedBeforeAnyWrite() async throws {
        let server = try await S3TestServer.shared()
        let bucket = try await server.makeBucket()
        let store = try S3ModelStore(server.url(bucket: bucket), environment: server.environment)
        let folder = try temporaryDirectory(self)
        try Data("x".utf8).write(to: folder.appendingPathComponent("my weights.bin"))
        let manifest = try S3Promoter.manifest(of: folder, model: "m", version: 1)
        do {
            _ = try await store.publishVersion(
                model: "m", version: 1, localFolder: folder, config: "backend: \"python\"", manifest: manifest)
            XCTFail("published a file name Triton cannot read")
        } catch let error as TritonPackError {
            XCTAssertEqual(error.kind, .usage)
            XCTAssertTrue(error.message.contains(S3Location.keySegmentPattern), error.description)
        }
        let value7 = try await allKeys(server, bucket: bucket)
        XCTAssertEqual(value7, [])
    }
}
