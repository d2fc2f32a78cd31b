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

/// The S3 client against a real S3 server (Ceph radosgw from Debian, scripts/radosgw.sh).
final class S3ClientTests: XCTestCase {
    func testObjectsRoundTripAndListingPages() async throws {
        let server = try await S3TestServer.shared()
        let bucket = try await server.makeBucket()
        let client = try server.client(server.url(bucket: bucket, prefix: "repo"))
        try await client.checkBucket()
        for index in 0..<5 {
            try await client.put("repo/m/\(index)", data: Data("object \(index)".utf8))
        }
        let listed = try await client.list(prefix: "repo/m/", pageSize: 2)
        XCTAssertEqual(listed.map(\.key), (0..<5).map { "repo/m/\($0)" })
        XCTAssertEqual(listed.first?.size, 8)
        let value1 = try await client.get("repo/m/3")
        XCTAssertEqual(value1, Data("object 3".utf8))
        let value2 = try await client.get("repo/m/none")
        XCTAssertNil(value2)
        let head = try await client.head("repo/m/1")
        XCTAssertEqual(head?.size, 8)
        XCTAssertLessThan(abs(head!.lastModified.timeIntervalSinceNow), 60)
        try await client.delete("repo/m/1")
        let value3 = try await client.head("repo/m/1")
        XCTAssertNil(value3)
    }

    func testConditionalPutsCreateOnceAndReplaceOnlyTheObjectSeen() async throws {
        let server = try await S3TestServer.shared()
        let bucket = try await server.makeBucket()
        let client = try server.client(server.url(bucket: bucket))
        guard case .written(let first) = try await client.put("lock", data: Data("a".utf8), if: .absent) else {
            return XCTFail("the first conditional create failed")
        }
        let second = try await client.put("lock", data: Data("b".utf8), if: .absent)
        XCTAssertEqual(second, .conditionFailed)
        let replaced = try await client.put("lock", data: Data("c".utf8), if: .matching(etag: first))
        guard case .written(let third) = replaced else { return XCTFail("If-Match with the current ETag failed") }
        XCTAssertNotEqual(third, first)
        let stale = try await client.put("lock", data: Data("d".utf8), if: .matching(etag: first))
        XCTAssertEqual(stale, .conditionFailed, "a PUT conditioned on an ETag that is gone replaced the object")
        let value6 = try await client.getWithETag("lock")
        XCTAssertEqual(value6?.data, Data("c".utf8))
        XCTAssertEqual(value6?.etag, third)
    }

    func testLargeFileGoesUpInParallelPartsAndComesBackIdentical() async throws {
        let server = try await S3TestServer.shared()
        let bucket = try await server.makeBucket()
        let client = try server.client(server.url(bucket: bucket))
        let folder = try temporaryDirectory(self)
        let file = folder.appendingPathComponent("big.bin")
        var bytes = [UInt8](repeating: 0, count: 23 << 20)
        for index in stride(from: 0, to: bytes.count, by: 4096) { bytes[index] = UInt8(truncatingIfNeeded: index / 4096) }
        try Data(bytes).write(to: file)
        let digest = SHA256.hash(data: bytes).hexString
        let small = folder.appendingPathComponent("small.txt")
        try Data("small".utf8).write(to: small)
        try await S3Uploader(client: client, partSize: 5 << 20, concurrency: 3).upload([
            S3FileUpload(localPath: file.path, key: "v/big.bin", size: Int64(bytes.count), sha256: digest),
            S3FileUpload(
                localPath: small.path, key: "v/small.txt", size: 5, sha256: SHA256.hash(data: Data("small".utf8)).hexString),
        ])
        let value7 = try await client.head("v/big.bin")?.size
        XCTAssertEqual(value7, Int64(bytes.count))
        let value8 = try await client.head("v/big.bin")?.etag.hasSuffix("-5") ?? false
        XCTAssertTrue(value8, "a multipart ETag names its 5 parts")
        let back = folder.appendingPathComponent("back.bin")
        let downloaded = try await client.download("v/big.bin", to: back.path)
        XCTAssertEqual(downloaded.sha256, digest)
        let value9 = try await client.listMultipartUploads(prefix: "")
        XCTAssertEqual(value9, [])
    }

    func testAFileThatDoesNotMatchItsManifestIsRefusedAndItsUploadAborted() async throws {
        let server = try await S3TestServer.shared()
        let bucket = try await server.makeBucket()
        let client = try server.client(server.url(bucket: bucket))
        let file = try temporaryDirectory(self).appendingPathComponent("big.bin")
        try Data(repeating: 7, count: 12 << 20).write(to: file)
        do {
            try await S3Uploader(client: client, partSize: 5 << 20, concurrency: 2).upload([
                S3FileUpload(localPath: file.path, key: "v/big.bin", size: 12 << 20, sha256: String(repeating: "0", count: 64))
            ])
            XCTFail("uploaded a file that does not match its manifest")
        } catch let error as TritonPackError {
            XCTAssertEqual(error.code, .changedWhileReading, error.description)
        }
        let value10 = try await client.head("v/big.bin")
        XCTAssertNil(value10)
        let value11 = try await client.listMultipartUploads(prefix: "")
        XCTAssertEqual(value11, [])
    }

    func testWrongCredentialsMissingBucketAndUnreachableEndpointEachSayWhat() async throws {
        let server = try await S3TestServer.shared()
        let bucket = try await server.makeBucket()
        let url = server.url(bucket: bucket, prefix: "repo")
        var wrong = server.environment
        wrong["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        let location = try S3Location(parsing: url, environment: wrong)
        do {
            try await S3Client(location: location, environment: wrong).checkBucket()
            XCTFail("wrong secret accepted")
        } catch let error as TritonPackError {
            XCTAssertEqual(error.kind, .io)
            XCTAssertEqual(error.code, .s3CredentialsRefused, error.description)
            XCTAssertEqual(error.file, url)
        }
        do {
            try await server.client(server.url(bucket: "no-such-bucket-\(UUID().uuidString.prefix(6).lowercased())"))
                .checkBucket()
            XCTFail("missing bucket accepted")
        } catch let error as TritonPackError {
            XCTAssertEqual(error.kind, .refused)
            XCTAssertEqual(error.code, .s3BucketMissing, error.description)
        }
        do {
            try await server.client("s3://127.0.0.1:\(freePort())/\(bucket)").checkBucket()
            XCTFail("reached a port nobody listens on")
        } catch let error as TritonPackError {
            XCTAssertEqual(error.kind, .io)
            XCTAssertEqual(error.code, .s3Unreachable, error.description)
        }
    }
}
