import Foundation
import XCTest

@testable import TritonPackKit

final class LintCLITests: XCTestCase {
    func packedRepository() throws -> URL {
        let repository = try temporaryDirectory(self).appendingPathComponent("repo")
        for name in ["tiny_mlp", "multi_io"] {
            let packed = try tritonpack("pack", sample(name).path, "--repo", repository.path)
            XCTAssertEqual(packed.status, 0, packed.stderr)
        }
        return repository
    }

    func testPackedRepositoryLintsClean() throws {
        let repository = try packedRepository()
        let outcome = try tritonpack("lint", repository.path, "--gpus", "1", "--disable-auto-complete-config")
        XCTAssertEqual(outcome.status, 0, outcome.stdout)
        // multi_io has two outputs: the one warning is the oneflow backend's hash-map numbering.
        XCTAssertTrue(outcome.stdout.contains("2 model(s): 0 error(s), 1 warning(s)"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("multi_io/config.pbtxt: warning: 2 outputs: the oneflow backend numbers"), outcome.stdout)
    }

    func testConfigDisagreeingWithTheGraphIsAnErrorAtItsLine() throws {
        let repository = try packedRepository()
        let config = repository.appendingPathComponent("multi_io/config.pbtxt")
        let text = try String(contentsOf: config, encoding: .utf8)
        try text.replacingOccurrences(of: "TYPE_INT64", with: "TYPE_INT32").write(to: config, atomically: true, encoding: .utf8)
        let line = text.components(separatedBy: "\n").firstIndex { $0.contains("TYPE_INT64") }! + 1

        let outcome = try tritonpack("lint", repository.path, "--format", "json")
        XCTAssertEqual(outcome.status, 1)
        let json = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as! [String: Any]
        let diagnostics = json["diagnostics"] as! [[String: Any]]
        let graph = diagnostics.first { $0["rule"] as? String == "oneflow-graph" }
        XCTAssertEqual(graph?["severity"] as? String, "error")
        XCTAssertEqual(graph?["model"] as? String, "multi_io")
        XCTAssertEqual(graph?["file"] as? String, "multi_io/config.pbtxt")
        XCTAssertEqual(graph?["line"] as? Int, line)
        XCTAssertEqual(graph?["column"] as? Int, 5)
        XCTAssertTrue((graph?["message"] as? String)?.contains("INPUT_1 is TYPE_INT32 in the config but TYPE_INT64") == true)
    }

    func testCorruptVariableInTheRepositoryIsNamed() throws {
        let repository = try packedRepository()
        let out = repository.appendingPathComponent("tiny_mlp/1/model/m.fc1.bias/out")
        try Data(count: 8).write(to: out)
        let outcome = try tritonpack("lint", repository.path)
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(
            outcome.stdout.contains("tiny_mlp/1/model/m.fc1.bias/out: error: holds 8 bytes but shape 16 of kFloat needs 64"),
            outcome.stdout)
    }

    func testSarifOutput() throws {
        let repository = try packedRepository()
        try FileManager.default.createDirectory(
            at: repository.appendingPathComponent(".ipynb_checkpoints"), withIntermediateDirectories: true)
        let outcome = try tritonpack("lint", repository.path, "--format", "sarif")
        XCTAssertEqual(outcome.status, 1)
        let log = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(log["version"] as? String, "2.1.0")
        let run = (log["runs"] as! [[String: Any]])[0]
        let results = run["results"] as! [[String: Any]]
        XCTAssertTrue(results.contains { $0["ruleId"] as? String == "hidden-model-directory" && $0["level"] as? String == "warning" })
        let rules = ((run["tool"] as! [String: Any])["driver"] as! [String: Any])["rules"] as! [[String: Any]]
        XCTAssertEqual(rules.count, RuleRegistry.all.count + 1)
    }

    func testStrictTurnsWarningsIntoFailure() throws {
        let repository = try packedRepository()
        let policy = repository.appendingPathComponent("tiny_mlp/config.pbtxt")
        let text = try String(contentsOf: policy, encoding: .utf8)
        try (text + "version_policy { specific { versions: [ 1, 9 ] } }\n").write(to: policy, atomically: true, encoding: .utf8)
        let relaxed = try tritonpack("lint", repository.path)
        XCTAssertEqual(relaxed.status, 0, relaxed.stdout)
        XCTAssertTrue(relaxed.stdout.contains("version 9 is specified for model 'tiny_mlp', but the version directory is not present [version-policy]"), relaxed.stdout)
        XCTAssertEqual(try tritonpack("lint", repository.path, "--strict").status, 1)
    }

    func testLintingOneModelFolderGivesPathsRelativeToIt() throws {
        let repository = try packedRepository()
        let config = repository.appendingPathComponent("tiny_mlp/config.pbtxt")
        try "backend: \"oneflow\"\nmax_batch_size: -1\n".write(to: config, atomically: true, encoding: .utf8)
        let outcome = try tritonpack("lint", repository.appendingPathComponent("tiny_mlp").path)
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(outcome.stdout.hasPrefix("config.pbtxt:2:1: error: 'max_batch_size' must be non-negative value for tiny_mlp [max-batch-size-negative]"), outcome.stdout)
    }

    func testUsageErrorsAndMissingPaths() throws {
        XCTAssertEqual(try tritonpack("lint").status, 2)
        XCTAssertEqual(try tritonpack("lint", ".", "--gpus", "-1").status, 2)
        XCTAssertEqual(try tritonpack("lint", ".", "--format", "xml").status, 2)
        let missing = try tritonpack("lint", "/nonexistent/repo")
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stdout.contains("repository path is not a valid directory"), missing.stdout)
    }
}
