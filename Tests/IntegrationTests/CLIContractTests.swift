import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// The command line's promises to CI scripts: no silent success, one JSON schema, `--version` only
/// at the top level.
final class CLIContractTests: XCTestCase {
    func testToolVersionOnlyAtTopLevel() throws {
        let version = try tritonpack("--version")
        XCTAssertEqual(version.status, 0)
        XCTAssertEqual(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), TritonPack.version)

        let root = try temporaryDirectory(self)
        let misplaced: [[String]] = [
            ["pack", sample("tiny_mlp").path, "--version", "3"],
            ["smoke", root.path, "--version", "1"],
            ["promote", "tiny_mlp", "--from", root.path, "--version", "1"],
            ["rollback", root.path, "--version=1"],
            ["lint", root.path, "--version"],
            ["version", "policy", root.path, "all", "--version"],
            ["bundle", "--version"],
        ]
        for arguments in misplaced {
            let outcome = try runProcess(tritonpackExecutable, arguments)
            XCTAssertEqual(outcome.status, 2, "\(arguments)")
            XCTAssertEqual(outcome.stdout, "", "\(arguments): nothing on stdout")
            XCTAssertTrue(outcome.stderr.contains("--model-version"), "\(arguments): \(outcome.stderr)")
        }
        XCTAssertEqual(try POSIXFiles.entries(of: root.path), [], "nothing was written")
        // After `--`, --version is an argument like any other.
        XCTAssertNotEqual(try tritonpack("lint", "--", "--version").status, 0)
    }

    func testEveryCommandRefusesMissingEmptyAndWrongArguments() throws {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("repo")
        XCTAssertEqual(try tritonpack("pack", sample("tiny_mlp").path, "--repo", repository.path).status, 0)
        let model = repository.appendingPathComponent("tiny_mlp").path
        let empty = root.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let nowhere = root.appendingPathComponent("nowhere").path
        let graph = sample("tiny_mlp").path
        let before = snapshot(root)

        // (arguments, expected status): usage errors are 2, refusals 1.
        let cases: [([String], Int32)] = [
            (["config"], 2), (["config", ""], 2), (["config", nowhere], 1),
            (["pack", graph], 2), (["pack", graph, "--repo", ""], 2), (["pack", "", "--repo", repository.path], 2),
            (["pack", nowhere, "--repo", repository.path], 1),
            (["pack", graph, "--repo", repository.path, "--model-version", "latest"], 2),
            (["lint"], 2), (["lint", ""], 2), (["lint", nowhere], 1), (["lint", empty.path], 1),
            (["lint", "\(model)/config.pbtxt"], 1), (["lint", "\(model)/1"], 1),
            (["versions"], 2), (["versions", ""], 2), (["versions", nowhere], 1),
            (["version"], 2), (["version", "policy", model], 2), (["version", "policy", "", "all"], 2),
            (["version", "policy", nowhere, "all"], 1), (["version", "policy", model, "newest"], 2),
            (["version", "prune", model], 2), (["version", "prune", "", "--keep", "1"], 2),
            (["version", "prune", nowhere, "--keep", "1"], 1),
            (["promote", "tiny_mlp", "--from", repository.path], 2),
            (["promote", "tiny_mlp", "--from", "", "--to", empty.path], 2),
            (["promote", "tiny_mlp", "--from", nowhere, "--to", empty.path], 1),
            (["promote", "tiny_mlp", "--from", repository.path, "--to", nowhere], 1),
            (["rollback"], 2), (["rollback", ""], 2), (["rollback", nowhere], 1),
            (["smoke", repository.path], 2), (["smoke", "", "--model", "tiny_mlp"], 2),
            (["smoke", nowhere, "--model", "tiny_mlp"], 1), (["smoke", repository.path, "--model", "nope"], 1),
            (["bundle", repository.path], 2), (["bundle", repository.path, "--out", ""], 2),
            (["bundle", "", "--out", root.appendingPathComponent("a.zip").path], 2),
            (["bundle", nowhere, "--out", root.appendingPathComponent("a.zip").path], 1),
            (["bundle", repository.path, "--out", "\(nowhere)/a.zip"], 1),
        ]
        for (arguments, expected) in cases {
            let outcome = try runProcess(tritonpackExecutable, arguments)
            XCTAssertEqual(outcome.status, expected, "\(arguments): \(outcome.stderr)")
            // lint reports its findings on stdout, the other commands their refusals on stderr.
            let said = arguments.first == "lint" && expected == 1 ? outcome.stdout : outcome.stderr
            XCTAssertTrue(said.lowercased().contains("error"), "\(arguments) says why: \(said)")
        }
        XCTAssertEqual(snapshot(root), before, "no refused command wrote anything")

        let lintedEmpty = try tritonpack("lint", empty.path)
        XCTAssertTrue(lintedEmpty.stdout.contains("contains no model folder"), lintedEmpty.stdout)
        XCTAssertTrue(lintedEmpty.stdout.contains("--allow-empty"), lintedEmpty.stdout)
        XCTAssertEqual(try tritonpack("lint", empty.path, "--allow-empty").status, 0)
        let version = try tritonpack("lint", "\(model)/1")
        XCTAssertTrue(version.stdout.contains("lint the model folder \(model)"), version.stdout)
        let above = try tritonpack("pack", sample("tiny_mlp").deletingLastPathComponent().path, "--repo", repository.path)
        XCTAssertEqual(above.status, 1)
        XCTAssertTrue(above.stderr.contains("give \(graph) instead"), above.stderr)
        let emptyPath = try tritonpack("pack", graph, "--repo", "")
        XCTAssertTrue(emptyPath.stderr.contains("the path is empty"), emptyPath.stderr)
    }

    func testEveryJSONDocumentMatchesTheDocumentedSchema() throws {
        let root = try temporaryDirectory(self)
        let staging = root.appendingPathComponent("staging")
        let production = root.appendingPathComponent("production")
        try FileManager.default.createDirectory(at: production, withIntermediateDirectories: true)
        let model = staging.appendingPathComponent("tiny_mlp").path
        let nowhere = root.appendingPathComponent("nowhere").path
        let graph = sample("tiny_mlp").path
        let archive = root.appendingPathComponent("demo.zip").path
        let json = ["--format", "json"]

        // (schema definition, arguments, expected status), in an order in which each builds on the last.
        let runs: [(String, [String], Int32)] = [
            ("config", ["config", graph], 0),
            ("config", ["config", nowhere], 1),
            ("pack", ["pack", graph, "--repo", staging.path], 0),
            ("pack", ["pack", graph, "--repo", staging.path, "--model-version", "2"], 0),
            ("pack", ["pack", graph, "--repo", staging.path, "--model-version", "2"], 1),
            ("pack", ["pack", nowhere, "--repo", staging.path], 1),
            ("lint", ["lint", staging.path], 0),
            ("lint", ["lint", production.path], 1),
            ("lint", ["lint", nowhere], 1),
            ("versions", ["versions", model, "--verify"], 0),
            ("versions", ["versions", nowhere], 1),
            ("version_policy", ["version", "policy", model, "latest:2"], 0),
            ("version_policy", ["version", "policy", model, "specific:9"], 1),
            ("version_prune", ["version", "prune", model, "--keep", "1", "--dry-run"], 0),
            ("version_prune", ["version", "prune", nowhere, "--keep", "1"], 1),
            ("promote", ["promote", "tiny_mlp", "--from", staging.path, "--to", production.path, "--model-version", "1"], 0),
            ("promote", ["promote", "tiny_mlp", "--from", staging.path, "--to", production.path, "--model-version", "1"], 1),
            ("promote", ["promote", "tiny_mlp", "--from", staging.path, "--to", nowhere], 1),
            ("rollback", ["rollback", model, "--model-version", "1"], 0),
            ("rollback", ["rollback", nowhere], 1),
            ("bundle", ["bundle", staging.path, "--out", archive], 0),
            ("bundle", ["bundle", staging.path, "--out", archive], 1),
            ("smoke", ["smoke", staging.path, "--model", "nope"], 1),
            ("smoke", ["smoke", staging.path, "--model", "tiny_mlp", "--cpu", "--server", nowhere], 3),
        ]
        for (definition, arguments, expected) in runs {
            let outcome = try runProcess(tritonpackExecutable, arguments + json)
            XCTAssertEqual(outcome.status, expected, "\(arguments): \(outcome.stderr)")
            try assertMatchesSchema(outcome, definition: definition, arguments)
        }

        // A version modified after packing: exit 1 and "ok": false, with the reason in errors.
        let weight = staging.appendingPathComponent("tiny_mlp/2/model/m.fc1.weight/out")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: weight.path)
        try Data(repeating: 7, count: Int(POSIXFiles.fileSize(weight.path) ?? 0)).write(to: weight)
        let modified = try tritonpack("versions", model, "--verify", "--format", "json")
        XCTAssertEqual(modified.status, 1)
        try assertMatchesSchema(modified, definition: "versions", ["versions --verify (modified)"])
        let document = try JSONSerialization.jsonObject(with: Data(modified.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(document?["ok"] as? Bool, false)
        XCTAssertEqual(
            (document?["errors"] as? [[String: Any]])?.first?["file"] as? String,
            staging.appendingPathComponent("tiny_mlp/2").path)
    }

    func testUsageErrorsAreJSONWhenJSONIsAsked() throws {
        let root = try temporaryDirectory(self)
        let graph = sample("tiny_mlp").path
        // (arguments, the command the document names, a word the error must contain)
        let cases: [([String], String, String)] = [
            (["pack", graph, "--format", "json"], "pack", "--repo"),
            (["pack", graph, "--repo", "", "--format=json"], "pack", "empty"),
            (["pack", graph, "--repo", root.path, "--model-version", "x", "--format", "json"], "pack", "'x'"),
            (["lint", root.path, "--gpus", "-1", "--format", "json"], "lint", "--gpus"),
            (["lint", root.path, "--select", "no-such-rule", "--format", "json"], "lint", "no-such-rule"),
            (["smoke", root.path, "--format", "json"], "smoke", "--model"),
            (["version", "policy", root.path, "newest", "--format", "json"], "version policy", "newest"),
            (["version", "prune", root.path, "--format", "json"], "version prune", "--keep"),
            (["promote", "m", "--from", root.path, "--format", "json"], "promote", "--to"),
            (["rollback", root.path, "--version", "1", "--format", "json"], "rollback", "--model-version"),
            (["bundle", root.path, "--out", "a.zip", "--format", "json", "--no-such-flag"], "bundle", "--no-such-flag"),
            (["config", "--format", "json"], "config", "model"),
            (["versions", root.path, "--format", "json", "--quiet", "--verbose"], "versions", "--quiet"),
        ]
        for (arguments, command, word) in cases {
            let outcome = try runProcess(tritonpackExecutable, arguments)
            XCTAssertEqual(outcome.status, 2, "\(arguments): \(outcome.stderr)")
            try assertMatchesSchema(outcome, definition: "usage_error", arguments)
            let document = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
            XCTAssertEqual(document?["command"] as? String, command, "\(arguments)")
            let message = ((document?["errors"] as? [[String: Any]])?.first?["message"] as? String) ?? ""
            XCTAssertTrue(message.contains(word), "\(arguments): \(message)")
            XCTAssertFalse(outcome.stderr.isEmpty, "\(arguments): people still read the error on stderr")
        }
        // Without --format json, stdout stays empty.
        XCTAssertEqual(try tritonpack("pack", graph).stdout, "")
        XCTAssertEqual(try tritonpack("lint", root.path, "--format", "text", "--gpus", "-1").stdout, "")
    }

    func testPackWarnsAboutAnUnservedVersionAndOptionsTheKeptConfigLacks() throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("repo")
        let graph = sample("tiny_mlp").path
        let first = try tritonpack("pack", graph, "--repo", repository.path, "--version-policy", "specific:1")
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertFalse(first.stderr.contains("warning"), first.stderr)

        let second = try tritonpack("pack", graph, "--repo", repository.path, "--instance-group", "cpu:2")
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stderr.contains("version 2 will not be served: version_policy specific 1"), second.stderr)
        XCTAssertTrue(second.stderr.contains("does not carry --instance-group; pass --update-config"), second.stderr)

        let third = try tritonpack("pack", graph, "--repo", repository.path, "--format", "json")
        let document = try JSONSerialization.jsonObject(with: Data(third.stdout.utf8)) as? [String: Any]
        let warnings = document?["warnings"] as? [[String: Any]]
        XCTAssertEqual(warnings?.count, 1, third.stdout)
        XCTAssertEqual(warnings?.first?["severity"] as? String, "warning")
        XCTAssertEqual(warnings?.first?["file"] as? String, repository.appendingPathComponent("tiny_mlp/config.pbtxt").path)
    }
}
