import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// The CLI with s3:// repositories: pack, versions, policy, lint, bundle, and one clear error (with its
/// documented exit code) for each way the target can be wrong, with nothing written.
final class S3CLITests: XCTestCase {
    func testPackIntoS3ThenListPinAndRollBack() async throws {
        let s3 = try await S3TestServer.shared()
        let bucket = try await s3.makeBucket("cli")
        let url = s3.url(bucket: bucket, prefix: "repo")
        let onnx = packageRoot.appendingPathComponent("samples/onnx/identity_batch.onnx").path
        for _ in 0..<2 {
            let pack = try await tritonpackS3(s3, ["pack", onnx, "--repo", url, "--name", "identity"])
            XCTAssertEqual(pack.status, 0, pack.stdout + pack.stderr)
        }
        let versions = try await tritonpackS3(s3, ["versions", "\(url)/identity", "--verify"])
        XCTAssertEqual(versions.status, 0, versions.stderr)
        XCTAssertTrue(versions.stdout.contains("version_policy specific 2"), versions.stdout)
        XCTAssertTrue(versions.stdout.contains("  2  served "), versions.stdout)
        XCTAssertTrue(versions.stdout.contains("verified"), versions.stdout)
        let policy = try await tritonpackS3(s3, ["version", "policy", "\(url)/identity", "all"])
        XCTAssertEqual(policy.status, 0, policy.stderr)
        XCTAssertTrue(policy.stdout.contains("serving 1, 2"), policy.stdout)
        let rollback = try await tritonpackS3(s3, ["rollback", "\(url)/identity"])
        XCTAssertEqual(rollback.status, 0, rollback.stderr)
        XCTAssertTrue(rollback.stdout.contains("now 1"), rollback.stdout)
        let config = try await s3.client(url).get("repo/identity/config.pbtxt").map { String(decoding: $0, as: UTF8.self) } ?? ""
        XCTAssertTrue(config.contains("platform: \"onnxruntime_onnx\""), config)
        XCTAssertTrue(config.contains("versions: [ 1 ]") || config.contains("versions: 1"), config)

        let linted = try await tritonpackS3(s3, ["lint", url, "--format", "json"])
        XCTAssertEqual(linted.status, 0, linted.stdout + linted.stderr)
        let document = try JSONSerialization.jsonObject(with: Data(linted.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(document?["path"] as? String, url, "the report names the s3:// repository")
        XCTAssertEqual((document?["models"] as? [Any])?.count, 1, linted.stdout)
        let archive = try temporaryDirectory(self).appendingPathComponent("demo.zip")
        let bundled = try await tritonpackS3(s3, ["bundle", url, "--out", archive.path, "--versions", "all"])
        XCTAssertEqual(bundled.status, 0, bundled.stdout + bundled.stderr)
        let names = try ZipListing.read(archive).names
        for version in 1...2 {
            XCTAssertTrue(names.contains("model_repository/identity/\(version)/model.onnx"), "\(names)")
        }
        XCTAssertTrue(names.contains("model_repository/identity/config.pbtxt"), "\(names)")

        let broken = try await tritonpackS3(s3, ["lint", s3.url(bucket: "missing-\(bucket)", prefix: "repo")])
        XCTAssertNotEqual(broken.status, 0, broken.stdout + broken.stderr)
        XCTAssertTrue(broken.stderr.contains("s3://"), broken.stderr)
    }

    func testEachWrongTargetGivesOneClearErrorAndWritesNothing() async throws {
        let s3 = try await S3TestServer.shared()
        let root = try temporaryDirectory(self)
        let staging = try makeStagingRepository(root.appendingPathComponent("staging"), versions: [1])
        let bucket = try await s3.makeBucket("errors")
        let url = s3.url(bucket: bucket, prefix: "repo")
        func promote(to target: String, extra: [String: String] = [:]) async throws -> ProcessOutcome {
            try await tritonpackS3(s3, ["promote", "identity_fp32", "--from", staging.path, "--to", target], extra: extra)
        }
        let cases: [(String, ProcessOutcome, Int32, String)] = [
            (
                "wrong credentials", try await promote(to: url, extra: ["AWS_SECRET_ACCESS_KEY": "wrong"]), 3,
                "refused the credentials"
            ),
            ("missing bucket", try await promote(to: s3.url(bucket: "missing-\(bucket)", prefix: "repo")), 1, "does not exist"),
            (
                "unreachable endpoint", try await promote(to: "s3://127.0.0.1:\(freePort())/\(bucket)/repo"), 3,
                "cannot reach the S3 endpoint"
            ),
            ("a name Triton cannot parse", try await promote(to: "\(url)/my+repo"), 2, S3Location.keySegmentPattern),
        ]
        for (name, outcome, status, words) in cases {
            XCTAssertEqual(outcome.status, status, "\(name): \(outcome.stderr)")
            let errors = outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
            XCTAssertEqual(errors.count, 1, "\(name): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains(words), "\(name): \(outcome.stderr)")
            XCTAssertTrue(outcome.stderr.contains("s3://"), "\(name) names the URL: \(outcome.stderr)")
        }
        let spaced = staging.appendingPathComponent("identity_fp32/1/my weights.bin")
        try Data("x".utf8).write(to: spaced)
        try FileManager.default.removeItem(at: staging.appendingPathComponent("identity_fp32/1/\(Manifest.fileName)"))
        let badFile = try await promote(to: url)
        XCTAssertEqual(badFile.status, 2, badFile.stderr)
        XCTAssertTrue(badFile.stderr.contains("'my weights.bin'"), badFile.stderr)
        let value1 = try await allKeys(s3, bucket: bucket)
        XCTAssertEqual(value1, [])
    }
}
