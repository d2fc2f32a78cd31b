import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

final class CLITests: XCTestCase {
    func testConfigPrintsTheGuidesConfig() throws {
        let outcome = try tritonpack("config", sample("fast_neural_style").path)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let printed = try Inference_ModelConfig.parse(outcome.stdout).message
        let guide = try Inference_ModelConfig.parse(
            """
            name: "fast_neural_style" backend: "oneflow" max_batch_size: 1
            input [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3, 256, 256 ] } ]
            output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 3, 256, 256 ] } ]
            instance_group [ { count: 1 kind: KIND_GPU gpus: [ 0 ] } ]
            """
        ).message
        XCTAssertEqual(printed, guide)
        XCTAssertTrue(outcome.stdout.contains("input [\n  {\n    name: \"INPUT_0\""), outcome.stdout)
    }

    func testPackAndJSONOutput() throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("repo")
        let outcome = try tritonpack(
            "pack", sample("multi_io").path, "--repo", repository.path, "--name", "mio", "--format", "json")
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
        let result = json?["result"] as? [String: Any]
        XCTAssertEqual(json?["ok"] as? Bool, true)
        XCTAssertEqual(result?["version"] as? Int, 1)
        XCTAssertEqual(result?["model"] as? String, "mio")
        XCTAssertEqual(result?["config"] as? String, "created")
        try assertVersionsVerify(repository.appendingPathComponent("mio"))
    }

    func testExitCodesAndMessages() throws {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("repo")

        let missing = try tritonpack("pack", root.appendingPathComponent("nope").path, "--repo", repository.path)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("nope: no such file or folder"), missing.stderr)

        let badName = try tritonpack("pack", sample("tiny_mlp").path, "--repo", repository.path, "--name", "../x")
        XCTAssertEqual(badName.status, 2)
        XCTAssertTrue(badName.stderr.contains("not a plain directory name"), badName.stderr)

        let badOption = try tritonpack("pack", sample("tiny_mlp").path, "--repo", repository.path, "--frobnicate")
        XCTAssertEqual(badOption.status, 2)

        let badGroup = try tritonpack("config", sample("tiny_mlp").path, "--instance-group", "tpu:1")
        XCTAssertEqual(badGroup.status, 2)
        XCTAssertTrue(badGroup.stderr.contains("instance group 'tpu:1'"), badGroup.stderr)

        XCTAssertEqual(try tritonpack("--help").status, 0)
        XCTAssertEqual(try tritonpack("pack", "--help").status, 0)
        XCTAssertFalse(POSIXFiles.exists(repository.path))
    }

    func testCorruptGraphReportsEveryProblemInJSON() throws {
        let root = try temporaryDirectory(self)
        let graph = root.appendingPathComponent("graph")
        try FileManager.default.copyItem(at: sample("tiny_mlp"), to: graph)
        _ = try runProcess(URL(fileURLWithPath: "/bin/chmod"), ["-R", "u+w", graph.path])
        try Data(count: 10).write(to: graph.appendingPathComponent("m.fc1.weight/out"))
        try FileManager.default.removeItem(at: graph.appendingPathComponent("m.fc2.bias"))
        let outcome = try tritonpack("pack", graph.path, "--repo", root.appendingPathComponent("repo").path, "--format", "json")
        XCTAssertEqual(outcome.status, 1)
        let json = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(json?["ok"] as? Bool, false)
        let files = (json?["errors"] as? [[String: Any]])?.compactMap { $0["file"] as? String }
        XCTAssertEqual(Set(files ?? []), [graph.path + "/m.fc1.weight/out", graph.path + "/m.fc2.bias"])
        XCTAssertTrue(outcome.stderr.contains("m.fc1.weight/out: holds 10 bytes"), outcome.stderr)
        XCTAssertFalse(POSIXFiles.exists(root.appendingPathComponent("repo/tiny_mlp").path))
    }

    func testExistingVersionIsRefusedByTheCLI() throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("repo")
        XCTAssertEqual(try tritonpack("pack", sample("tiny_mlp").path, "--repo", repository.path).status, 0)
        let again = try tritonpack("pack", sample("tiny_mlp").path, "--repo", repository.path, "--model-version", "1")
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("tiny_mlp/1: version 1 of 'tiny_mlp' already exists"), again.stderr)
        XCTAssertTrue(again.stderr.contains("; pass --model-version with a free number"), again.stderr)
    }

    /// The library says what is wrong; the CLI adds which flag changes it, in text and in JSON.
    func testARefusalCarriesTheFlagAdvice() throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("repo")
        XCTAssertEqual(try tritonpack("pack", sample("tiny_mlp").path, "--repo", repository.path, "--name", "net").status, 0)
        let changed = try tritonpack("pack", sample("multi_io").path, "--repo", repository.path, "--name", "net")
        XCTAssertEqual(changed.status, 1)
        XCTAssertTrue(changed.stderr.contains("clients of the served versions would break. Pass --update-config"), changed.stderr)
        let json = try tritonpack(
            "pack", sample("multi_io").path, "--repo", repository.path, "--name", "net", "--format", "json")
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let message = (document?["errors"] as? [[String: Any]])?.first?["message"] as? String
        XCTAssertTrue(message?.hasSuffix("would break. Pass --update-config to replace the config") ?? false, json.stdout)
    }
}
