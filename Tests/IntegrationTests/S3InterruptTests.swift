import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// SIGKILL at several points of a 256 MiB promotion into S3, then two promotions at once.
final class S3InterruptTests: XCTestCase {
    func testSIGKILLDuringA256MiBPromoteChangesNothingServedAndTheNextRunCleansUp() async throws {
        let s3 = try await S3TestServer.shared()
        let root = try temporaryDirectory(self)
        let staging = try makeStagingRepository(root.appendingPathComponent("staging"), versions: [1])
        let big = staging.appendingPathComponent("identity_fp32/2")
        try FileManager.default.createDirectory(at: big, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: staging.appendingPathComponent("identity_fp32/1/model.py"), to: big.appendingPathComponent("model.py"))
        try writePayload(big.appendingPathComponent("weights.bin"), bytes: 256 << 20, seed: 2)
        try hashedManifest(of: big, model: "identity_fp32", version: 2).encoded()
            .write(to: big.appendingPathComponent(Manifest.fileName))
        let bucket = try await s3.makeBucket("kill")
        let url = s3.url(bucket: bucket, prefix: "prod")
        let first = try await tritonpackS3(
            s3, ["promote", "identity_fp32", "--from", staging.path, "--to", url, "--model-version", "1"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let store = try S3RepositoryStore(url, environment: s3.environment)
        let before = try await store.state(model: "identity_fp32")
        XCTAssertEqual(before.served, [1])

        var killedBeforeSwitch: [Double] = []
        var finished = false
        for delay in [0.2, 0.8, 1.6, 3.0, 5.0] {
            let process = try spawnTritonpackS3(
                s3, ["promote", "identity_fp32", "--from", staging.path, "--to", url, "--model-version", "2"],
                log: root.appendingPathComponent("kill-\(delay).log"))
            try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            let killed = process.isRunning
            if killed { process.signal(SIGKILL) }
            let status = try await process.wait()
            let after = try await store.state(model: "identity_fp32")
            if !killed || after.served == [2] {
                // It finished first: the switch is then whole, never mixed.
                XCTAssertEqual(after.served, [2], "exit \(status) after \(delay) s")
                XCTAssertTrue(after.versions[2]?.complete ?? false)
                finished = true
                break
            }
            XCTAssertEqual(after.configText, before.configText, "config changed by a run killed after \(delay) s")
            XCTAssertEqual(after.served, [1])
            killedBeforeSwitch.append(delay)
        }
        XCTAssertGreaterThanOrEqual(killedBeforeSwitch.count, 2, "kills landed before the switch: \(killedBeforeSwitch)")

        let client = try s3.client(url)
        let next = try await tritonpackS3(
            s3, ["promote", "identity_fp32", "--from", staging.path, "--to", url, "--model-version", "2"])
        if finished {
            XCTAssertEqual(next.status, 1, next.stdout + next.stderr)
            XCTAssertTrue(next.stderr.contains("already exists"), next.stderr)
        } else {
            XCTAssertEqual(next.status, 0, next.stdout + next.stderr)
        }
        let final = try await store.state(model: "identity_fp32")
        XCTAssertEqual(final.served, [2])
        XCTAssertEqual(final.complete, [1, 2])
        let value1 = try await client.listMultipartUploads(prefix: "")
        XCTAssertEqual(value1, [])
        let value2 = try await client.get("prod/tritonpack.lock")
        XCTAssertNil(value2)
        let verified = try await ModelRepository(store: store).model("identity_fp32").list(verify: true)
        XCTAssertEqual(verified.map(\.verified), [true, true])
        print(
            "S3 kill test: killed before the switch after \(killedBeforeSwitch) s; \(finished ? "a later run finished first" : "the next run completed")"
        )
    }

    func testTwoConcurrentPromotesOneWaitsOrFailsClearlyNeverAMixedState() async throws {
        let s3 = try await S3TestServer.shared()
        let root = try temporaryDirectory(self)
        let staging = try makeStagingRepository(
            root.appendingPathComponent("staging"), versions: [1, 2, 3], payloadBytes: 24 << 20)
        let bucket = try await s3.makeBucket("race")
        let url = s3.url(bucket: bucket, prefix: "prod")
        let first = try await tritonpackS3(
            s3, ["promote", "identity_fp32", "--from", staging.path, "--to", url, "--model-version", "1"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let store = try S3RepositoryStore(url, environment: s3.environment)

        // A short lock timeout: one of them fails, saying who holds the lock.
        let logs = [root.appendingPathComponent("a.log"), root.appendingPathComponent("b.log")]
        let racers = try [2, 3].enumerated().map { index, version in
            try spawnTritonpackS3(
                s3,
                [
                    "promote", "identity_fp32", "--from", staging.path, "--to", url, "--model-version", String(version),
                    "--lock-timeout", "0.5",
                ],
                log: logs[index])
        }
        var statuses: [Int32] = []
        for racer in racers { statuses.append(try await racer.wait()) }
        let texts = logs.map { (try? String(contentsOf: $0, encoding: .utf8)) ?? "" }
        XCTAssertEqual(statuses.sorted(), [0, 3], texts.joined(separator: "\n---\n"))
        if let loser = statuses.firstIndex(of: 3) {
            XCTAssertTrue(texts[loser].contains("another tritonpack"), texts[loser])
        }
        var state = try await store.state(model: "identity_fp32")
        let winner: Int64 = statuses[0] == 0 ? 2 : 3
        XCTAssertEqual(state.served, [winner])
        XCTAssertEqual(state.versions.keys.sorted(), [1, winner])

        // A long one: the second waits, then publishes after the first.
        let loserVersion: Int64 = winner == 2 ? 3 : 2
        try await VersionOperations(repository: ModelRepository(store: store), name: "identity_fp32").prune(keep: 0)
        let waiting = try [1, loserVersion].map { version -> SpawnedProcess in
            try spawnTritonpackS3(
                s3,
                [
                    "promote", "identity_fp32", "--from", staging.path, "--to", url, "--model-version", String(version), "--as",
                    String(version + 10), "--lock-timeout", "120",
                ],
                log: root.appendingPathComponent("wait-\(version).log"))
        }
        for process in waiting {
            let value3 = try await process.wait()
            XCTAssertEqual(value3, 0)
        }
        state = try await store.state(model: "identity_fp32")
        XCTAssertEqual(state.complete, [winner, 11, loserVersion + 10].sorted())
        XCTAssertEqual(state.served.count, 1)
        XCTAssertTrue([11, loserVersion + 10].contains(state.served[0]), "\(state.served)")
    }
}
