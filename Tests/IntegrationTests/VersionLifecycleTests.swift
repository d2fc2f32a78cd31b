import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

final class VersionLifecycleTests: XCTestCase {
    /// A staging repository with versions 1-3 of tiny_mlp and an empty production repository.
    func repositories() throws -> (root: URL, staging: URL, production: URL) {
        let root = try temporaryDirectory(self)
        let staging = root.appendingPathComponent("staging")
        let production = root.appendingPathComponent("production")
        for _ in 0..<3 { XCTAssertEqual(try tritonpack("pack", sample("tiny_mlp").path, "--repo", staging.path).status, 0) }
        try FileManager.default.createDirectory(at: production, withIntermediateDirectories: true)
        return (root, staging, production)
    }

    func testVersionsListsServedDigestsAndVerifies() throws {
        let (_, staging, _) = try repositories()
        let model = staging.appendingPathComponent("tiny_mlp")
        let listed = try tritonpack("versions", model.path, "--verify", "--format", "json")
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as! [String: Any]
        let versions = json["versions"] as! [[String: Any]]
        XCTAssertEqual(versions.map { $0["version"] as? Int }, [1, 2, 3])
        XCTAssertEqual(versions.map { $0["served"] as? Bool }, [false, false, true])
        XCTAssertTrue(versions.allSatisfy { $0["verified"] as? Bool == true && ($0["digest"] as? String)?.count == 64 })

        try Data("tampered".utf8).write(to: model.appendingPathComponent("2/model/m.fc1.bias/meta"))
        let tampered = try tritonpack("versions", model.path, "--verify")
        XCTAssertEqual(tampered.status, 1)
        XCTAssertTrue(tampered.stdout.contains("model/m.fc1.bias/meta: SHA-256 differs from the manifest"), tampered.stdout)
    }

    func testPolicyEditsKeepTheConfigTextAndRefuseServingNothing() throws {
        let (_, staging, _) = try repositories()
        let model = staging.appendingPathComponent("tiny_mlp")
        let config = model.appendingPathComponent("config.pbtxt")
        try ("# hand-written note\n" + String(contentsOf: config, encoding: .utf8)).write(
            to: config, atomically: true, encoding: .utf8)
        XCTAssertEqual(try tritonpack("version", "policy", model.path, "latest", "2").status, 0)
        var text = try String(contentsOf: config, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("# hand-written note\n"))
        XCTAssertEqual(try Inference_ModelConfig.parse(text).message.versionPolicy.latest.numVersions, 2)
        XCTAssertEqual(try tritonpack("version", "policy", model.path, "specific", "1", "3").status, 0)
        text = try String(contentsOf: config, encoding: .utf8)
        XCTAssertEqual(try Inference_ModelConfig.parse(text).message.versionPolicy.specific.versions, [1, 3])

        let nothing = try tritonpack("version", "policy", model.path, "specific", "9")
        XCTAssertEqual(nothing.status, 1)
        XCTAssertTrue(nothing.stderr.contains("would serve none of the versions on disk"), nothing.stderr)
        XCTAssertEqual(try String(contentsOf: config, encoding: .utf8), text)
        XCTAssertEqual(try tritonpack("version", "policy", model.path, "latest", "0").status, 2)
        XCTAssertEqual(ModelHistory.read(from: model).map(\.operation), ["pack", "pack", "pack", "policy", "policy"])
    }

    func testPruneRemovesUnservedVersionsAtomically() throws {
        let (root, staging, _) = try repositories()
        let model = staging.appendingPathComponent("tiny_mlp")
        XCTAssertEqual(try tritonpack("pack", sample("tiny_mlp").path, "--repo", staging.path).status, 0)
        XCTAssertEqual(try tritonpack("version", "policy", model.path, "specific", "2").status, 0)
        let dry = try tritonpack("version", "prune", model.path, "--keep", "1", "--dry-run")
        XCTAssertTrue(dry.stdout.contains("would remove version(s) 1, 3"), dry.stdout)
        XCTAssertEqual(try ModelRepository(root: staging).versions(of: "tiny_mlp"), [1, 2, 3, 4])
        XCTAssertEqual(try tritonpack("version", "prune", model.path, "--keep", "1").status, 0)
        XCTAssertEqual(try ModelRepository(root: staging).versions(of: "tiny_mlp"), [2, 4])
        XCTAssertEqual(ModelHistory.read(from: model).last?.operation, "prune")
        XCTAssertEqual(ModelHistory.read(from: model).last?.versions, [1, 3])
        try assertVersionsVerify(model)
        XCTAssertEqual(try POSIXFiles.entries(of: root.appendingPathComponent("").path), ["production", "staging"])
    }

    func testPromoteCopiesAVersionAndRollbackPinsThePreviousOne() throws {
        let (_, staging, production) = try repositories()
        let first = try tritonpack(
            "promote", "tiny_mlp", "--from", staging.path, "--to", production.path, "--model-version", "1", "--format", "json")
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as! [String: Any]
        let gates = (json["result"] as! [String: Any])["gates"] as! [[String: Any]]
        XCTAssertEqual(gates.map { $0["name"] as? String }, ["lint", "manifest", "signature"])
        XCTAssertTrue(gates.allSatisfy { $0["outcome"] as? String == "passed" })
        XCTAssertEqual(try tritonpack("promote", "tiny_mlp", "--from", staging.path, "--to", production.path).status, 0)
        let model = production.appendingPathComponent("tiny_mlp")
        XCTAssertEqual(try ModelRepository(root: production).versions(of: "tiny_mlp"), [1, 3])
        try assertVersionsVerify(model)
        XCTAssertEqual(try Manifest.read(from: model.appendingPathComponent("3")).version, 3)

        let rolled = try tritonpack("rollback", model.path)
        XCTAssertEqual(rolled.status, 0, rolled.stderr)
        XCTAssertTrue(rolled.stdout.contains("served 3, now 1"), rolled.stdout)
        XCTAssertEqual(try ModelDirectory.local("tiny_mlp", in: production).served(), [1])
        XCTAssertEqual(ModelHistory.read(from: model).map(\.operation), ["promote", "promote", "rollback"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: model.appendingPathComponent(ModelHistory.fileName).path))
        let rootHistory = try String(contentsOf: production.appendingPathComponent(ModelHistory.fileName), encoding: .utf8)
        XCTAssertEqual(rootHistory.split(separator: "\n").filter { $0.contains(#""model":"tiny_mlp""#) }.count, 3, rootHistory)
        XCTAssertEqual(try tritonpack("lint", production.path).status, 0)
        XCTAssertEqual(try tritonpack("rollback", model.path).status, 1)  // nothing older than 1
    }

    func testPromotionGatesRefuseAndChangeNothing() throws {
        let (root, staging, production) = try repositories()
        XCTAssertEqual(
            try tritonpack("promote", "tiny_mlp", "--from", staging.path, "--to", production.path, "--model-version", "1").status,
            0)
        let before = snapshot(production)

        // manifest mismatch
        let out = staging.appendingPathComponent("tiny_mlp/2/model/m.fc2.bias/out")
        let original = try Data(contentsOf: out)
        try Data(count: original.count).write(to: out)
        var refused = try tritonpack(
            "promote", "tiny_mlp", "--from", staging.path, "--to", production.path, "--model-version", "2")
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(
            refused.stdout.contains("gate manifest: failed (model/m.fc2.bias/out: SHA-256 differs from the manifest)"),
            refused.stdout)
        try original.write(to: out)

        // breaking signature: the staging model now serves another graph
        XCTAssertEqual(
            try tritonpack("pack", sample("multi_io").path, "--repo", staging.path, "--name", "tiny_mlp", "--update-config")
                .status, 0)
        refused = try tritonpack("promote", "tiny_mlp", "--from", staging.path, "--to", production.path)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stdout.contains("gate signature: failed"), refused.stdout)
        XCTAssertTrue(refused.stdout.contains("input 'INPUT_1' is new"), refused.stdout)

        // lint error in the source
        let config = staging.appendingPathComponent("tiny_mlp/config.pbtxt")
        let text = try String(contentsOf: config, encoding: .utf8)
        try (text + "instance_group [ { kind: KIND_CPU gpus: [ 0 ] } ]\n").write(to: config, atomically: true, encoding: .utf8)
        refused = try tritonpack("promote", "tiny_mlp", "--from", staging.path, "--to", production.path, "--allow-breaking")
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stdout.contains("gate lint: failed"), refused.stdout)
        try text.write(to: config, atomically: true, encoding: .utf8)

        // missing version, existing target version, non-repository target, unknown model
        XCTAssertEqual(
            try tritonpack("promote", "tiny_mlp", "--from", staging.path, "--to", production.path, "--model-version", "9").status,
            1)
        XCTAssertEqual(
            try tritonpack("promote", "tiny_mlp", "--from", staging.path, "--to", production.path, "--model-version", "1").status,
            1)
        XCTAssertEqual(
            try tritonpack("promote", "tiny_mlp", "--from", staging.path, "--to", root.appendingPathComponent("nope").path)
                .status, 1)
        XCTAssertEqual(try tritonpack("promote", "other", "--from", staging.path, "--to", production.path).status, 1)
        XCTAssertEqual(snapshot(production), before)

        // with --allow-breaking the new graph goes through
        let forced = try tritonpack("promote", "tiny_mlp", "--from", staging.path, "--to", production.path, "--allow-breaking")
        XCTAssertEqual(forced.status, 0, forced.stdout + forced.stderr)
        XCTAssertTrue(forced.stdout.contains("gate signature: overridden"), forced.stdout)
    }

    /// SIGKILL during promote and prune: the target is exactly as before or exactly as after, and the next run recovers.
    func testKilledPromoteAndPruneLeaveBeforeOrAfter() throws {
        let root = try temporaryDirectory(self)
        let graph = root.appendingPathComponent("big")
        let made = try runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", packageRoot.appendingPathComponent("scripts/make_synthetic_graph.py").path, graph.path,
                String(32 << 20), "16",
            ])
        XCTAssertEqual(made.status, 0, made.stderr)
        let staging = root.appendingPathComponent("staging")
        let production = root.appendingPathComponent("production")
        try FileManager.default.createDirectory(at: production, withIntermediateDirectories: true)
        for _ in 0..<2 { XCTAssertEqual(try tritonpack("pack", graph.path, "--repo", staging.path).status, 0) }
        XCTAssertEqual(
            try tritonpack("promote", "big", "--from", staging.path, "--to", production.path, "--model-version", "1").status, 0)
        let start = Date()
        XCTAssertEqual(
            try tritonpack(
                "promote", "big", "--from", staging.path, "--to", production.path, "--model-version", "2", "--as", "99"
            ).status, 0)
        let duration = Date().timeIntervalSince(start)
        let model = production.appendingPathComponent("big")
        try FileManager.default.removeItem(at: model.appendingPathComponent("99"))
        let before = Set(snapshot(production).keys.filter { !$0.hasSuffix(ModelHistory.fileName) })

        for attempt in 0..<8 {
            let process = try spawnTritonpack([
                "promote", "big", "--from", staging.path, "--to", production.path, "--model-version", "2",
            ])
            usleep(useconds_t(duration * 1_000_000 * Double(attempt) / 8))
            process.signal(SIGKILL)
            _ = process.waitBlocking()
            let now = Set(snapshot(production).keys.filter { !$0.hasSuffix(ModelHistory.fileName) })
            let versions = try ModelRepository(root: production).versions(of: "big")
            XCTAssertTrue(now == before || versions == [1, 2], "attempt \(attempt): \(versions)")
            try assertVersionsVerify(model)
            if versions == [1, 2] { try FileManager.default.removeItem(at: model.appendingPathComponent("2")) }
        }
        XCTAssertEqual(
            try tritonpack("promote", "big", "--from", staging.path, "--to", production.path, "--model-version", "2").status, 0)
        XCTAssertEqual(try POSIXFiles.entries(of: root.path), ["big", "production", "staging"])

        for attempt in 0..<6 {
            let process = try spawnTritonpack(["version", "prune", model.path, "--keep", "0"])
            usleep(useconds_t(20_000 * attempt))
            process.signal(SIGKILL)
            _ = process.waitBlocking()
            let versions = try ModelRepository(root: production).versions(of: "big")
            XCTAssertTrue(versions == [1, 2] || versions == [2], "prune attempt \(attempt): \(versions)")
            try assertVersionsVerify(model)
        }
        XCTAssertEqual(try tritonpack("version", "prune", model.path, "--keep", "0").status, 0)
        XCTAssertEqual(try ModelRepository(root: production).versions(of: "big"), [2])
        XCTAssertEqual(try POSIXFiles.entries(of: root.path), ["big", "production", "staging"])
    }

    func testConcurrentPromotionsAreSerialized() throws {
        let (_, staging, production) = try repositories()
        XCTAssertEqual(
            try tritonpack("promote", "tiny_mlp", "--from", staging.path, "--to", production.path, "--model-version", "1").status,
            0)
        let processes = try (2...3).map { version -> SpawnedProcess in
            let process = try spawnTritonpack([
                "promote", "tiny_mlp", "--from", staging.path, "--to", production.path, "--model-version", String(version),
            ])
            return process
        }
        for process in processes {
            XCTAssertEqual(process.waitBlocking(), 0)
        }
        XCTAssertEqual(try ModelRepository(root: production).versions(of: "tiny_mlp"), [1, 2, 3])
        try assertVersionsVerify(production.appendingPathComponent("tiny_mlp"))
        XCTAssertEqual(ModelHistory.read(from: production.appendingPathComponent("tiny_mlp")).count, 3)
    }
}
