import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

#if canImport(FoundationXML)
    import FoundationXML
#endif

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
        // multi_io has two outputs: the one warning is the oneflow backend's hash-map numbering, at `output`.
        XCTAssertTrue(outcome.stdout.contains("2 model(s): 0 error(s), 1 warning(s)"), outcome.stdout)
        XCTAssertTrue(
            outcome.stdout.contains("multi_io/config.pbtxt:16:1: warning: 2 outputs: the oneflow backend numbers"), outcome.stdout
        )
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
        XCTAssertTrue(
            results.contains { $0["ruleId"] as? String == "hidden-model-directory" && $0["level"] as? String == "warning" })
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
        XCTAssertTrue(
            relaxed.stdout.contains(
                "version 9 is specified for model 'tiny_mlp', but the version directory is not present [version-policy]"),
            relaxed.stdout)
        XCTAssertEqual(try tritonpack("lint", repository.path, "--strict").status, 1)
    }

    func testLintingOneModelFolderGivesPathsRelativeToIt() throws {
        let repository = try packedRepository()
        let config = repository.appendingPathComponent("tiny_mlp/config.pbtxt")
        try "backend: \"oneflow\"\nmax_batch_size: -1\n".write(to: config, atomically: true, encoding: .utf8)
        let outcome = try tritonpack("lint", repository.appendingPathComponent("tiny_mlp").path)
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(
            outcome.stdout.hasPrefix(
                "config.pbtxt:2:1: error: 'max_batch_size' must be non-negative value for tiny_mlp [max-batch-size-negative]"),
            outcome.stdout)
    }

    func testUsageErrorsAndMissingPaths() throws {
        XCTAssertEqual(try tritonpack("lint").status, 2)
        XCTAssertEqual(try tritonpack("lint", ".", "--gpus", "-1").status, 2)
        XCTAssertEqual(try tritonpack("lint", ".", "--format", "xml").status, 2)
        let missing = try tritonpack("lint", "/nonexistent/repo")
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stdout.contains("repository path is not a valid directory"), missing.stdout)
    }

    /// A repository with two warnings from two rules: output numbering (multi_io) and a policy
    /// naming a missing version (tiny_mlp).
    func repositoryWithTwoWarnings() throws -> URL {
        let repository = try packedRepository()
        let policy = repository.appendingPathComponent("tiny_mlp/config.pbtxt")
        let text = try String(contentsOf: policy, encoding: .utf8)
        try (text + "version_policy { specific { versions: [ 1, 9 ] } }\n").write(to: policy, atomically: true, encoding: .utf8)
        return repository
    }

    private func rules(_ outcome: ProcessOutcome) throws -> [String] {
        let json = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as! [String: Any]
        return (json["diagnostics"] as! [[String: Any]]).map { $0["rule"] as! String }.sorted()
    }

    func testSelectAndIgnoreChooseTheReportedRules() throws {
        let repository = try repositoryWithTwoWarnings()
        let all = try tritonpack("lint", repository.path, "--format", "json")
        XCTAssertEqual(try rules(all), ["oneflow-output-numbering", "version-policy"], all.stdout)
        let selected = try tritonpack("lint", repository.path, "--format", "json", "--select", "version-policy")
        XCTAssertEqual(try rules(selected), ["version-policy"])
        let ignored = try tritonpack(
            "lint", repository.path, "--format", "json", "--ignore", "version-policy,config-syntax")
        XCTAssertEqual(try rules(ignored), ["oneflow-output-numbering"])
        let repeated = try tritonpack(
            "lint", repository.path, "--format", "json", "--select", "version-policy", "--select", "oneflow-output-numbering",
            "--ignore", "oneflow-output-numbering")
        XCTAssertEqual(try rules(repeated), ["version-policy"])
        // --strict counts only the reported warnings.
        XCTAssertEqual(try tritonpack("lint", repository.path, "--strict").status, 1)
        XCTAssertEqual(
            try tritonpack("lint", repository.path, "--strict", "--select", "config-syntax,io-config").status, 0)

        let unknown = try tritonpack("lint", repository.path, "--ignore", "version-policy,no-such-rule")
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("'no-such-rule'"), unknown.stderr)
        XCTAssertEqual(unknown.stdout, "")
    }

    func testConfigFileInTheRepositoryIsReadAndFlagsOverrideIt() throws {
        let repository = try repositoryWithTwoWarnings()
        let file = repository.appendingPathComponent(LintConfiguration.fileName)
        try #"{"lint": {"ignore": ["oneflow-output-numbering"], "strict": true}}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let configured = try tritonpack("lint", repository.path, "--format", "json")
        XCTAssertEqual(try rules(configured), ["version-policy"])
        XCTAssertEqual(configured.status, 1, "strict from the file: the warning fails")
        // Linting one model folder finds the file in the repository above it.
        let oneModel = try tritonpack("lint", repository.appendingPathComponent("multi_io").path, "--format", "json")
        XCTAssertEqual(try rules(oneModel), [])
        // A flag replaces the file's value.
        let overridden = try tritonpack("lint", repository.path, "--format", "json", "--ignore", "version-policy")
        XCTAssertEqual(try rules(overridden), ["oneflow-output-numbering"])
        let verbose = try tritonpack("lint", repository.path, "--verbose")
        XCTAssertTrue(verbose.stderr.contains("configuration: \(file.path)"), verbose.stderr)

        let elsewhere = try temporaryDirectory(self).appendingPathComponent("team.json")
        try #"{"lint": {"select": ["oneflow-output-numbering"]}}"#.write(to: elsewhere, atomically: true, encoding: .utf8)
        let explicit = try tritonpack("lint", repository.path, "--format", "json", "--config-file", elsewhere.path)
        XCTAssertEqual(try rules(explicit), ["oneflow-output-numbering"])

        try #"{"lint": {"ignore": ["no-such-rule"]}}"#.write(to: file, atomically: true, encoding: .utf8)
        let badRule = try tritonpack("lint", repository.path)
        XCTAssertEqual(badRule.status, 2)
        XCTAssertTrue(
            badRule.stderr.contains("unknown rule 'no-such-rule'") && badRule.stderr.contains(file.path), badRule.stderr)
        try #"{"lint": {"exclude": ["x"]}}"#.write(to: file, atomically: true, encoding: .utf8)
        let badKey = try tritonpack("lint", repository.path, "--format", "json")
        XCTAssertEqual(badKey.status, 2)
        XCTAssertTrue(badKey.stderr.contains(#"unknown key "exclude""#), badKey.stderr)
        let document = try JSONSerialization.jsonObject(with: Data(badKey.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(document?["ok"] as? Bool, false)
    }

    func testSarifResultsAreRelativeToABaseTheRunNames() throws {
        let repository = try repositoryWithTwoWarnings()
        let outcome = try tritonpack("lint", repository.path, "--format", "sarif")
        let log = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as! [String: Any]
        let run = (log["runs"] as! [[String: Any]])[0]
        let bases = run["originalUriBaseIds"] as! [String: [String: String]]
        let base = try XCTUnwrap(URL(string: try XCTUnwrap(bases["%SRCROOT%"]?["uri"])))
        XCTAssertTrue(base.isFileURL && base.absoluteString.hasSuffix("/"), base.absoluteString)
        XCTAssertEqual(base.standardizedFileURL.path, repository.standardizedFileURL.path)
        let locations = (run["results"] as! [[String: Any]]).map {
            (($0["locations"] as! [[String: Any]])[0]["physicalLocation"] as! [String: Any])["artifactLocation"]
                as! [String: String]
        }
        XCTAssertEqual(locations.count, 2)
        for location in locations {
            XCTAssertEqual(location["uriBaseId"], "%SRCROOT%")
            let uri = try XCTUnwrap(location["uri"])
            XCTAssertFalse(uri.hasPrefix("/"), uri)
            let resolved = try XCTUnwrap(URL(string: uri, relativeTo: base)).standardizedFileURL
            XCTAssertTrue(FileManager.default.fileExists(atPath: resolved.path), "\(uri) resolves to \(resolved.path)")
        }
    }

    func testJUnitHasATestCasePerModelWithTimes() throws {
        let repository = try packedRepository()
        let config = repository.appendingPathComponent("tiny_mlp/config.pbtxt")
        try "backend: \"oneflow\"\nmax_batch_size: -1\n".write(to: config, atomically: true, encoding: .utf8)
        let outcome = try tritonpack("lint", repository.path, "--format", "junit")
        XCTAssertEqual(outcome.status, 1)
        let document = try XMLDocument(data: Data(outcome.stdout.utf8))
        let suite = try XCTUnwrap(document.rootElement())
        XCTAssertEqual(suite.name, "testsuite")
        XCTAssertEqual(suite.attribute(forName: "tests")?.stringValue, "2")
        XCTAssertEqual(suite.attribute(forName: "failures")?.stringValue, "1")
        let suiteTime = try XCTUnwrap(Double(suite.attribute(forName: "time")?.stringValue ?? ""))
        let cases = suite.elements(forName: "testcase")
        XCTAssertEqual(cases.compactMap { $0.attribute(forName: "name")?.stringValue }, ["multi_io", "tiny_mlp"])
        var caseTimes = 0.0
        for testCase in cases {
            let time = try XCTUnwrap(Double(testCase.attribute(forName: "time")?.stringValue ?? ""), testCase.xmlString)
            XCTAssertGreaterThanOrEqual(time, 0)
            caseTimes += time
        }
        XCTAssertGreaterThan(suiteTime, 0)
        XCTAssertLessThanOrEqual(caseTimes, suiteTime + 0.002)
        let failure = try XCTUnwrap(cases[1].elements(forName: "failure").first)
        XCTAssertEqual(failure.attribute(forName: "type")?.stringValue, "max-batch-size-negative")
        XCTAssertTrue(cases[0].elements(forName: "failure").isEmpty)
    }

    func testGitHubAnnotations() throws {
        let repository = try repositoryWithTwoWarnings()
        let outcome = try tritonpack("lint", repository.path, "--format", "github")
        XCTAssertEqual(outcome.status, 0)
        let lines = outcome.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, outcome.stdout)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("::warning file=") }, outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("::warning file=tiny_mlp/config.pbtxt,line="), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("title=version-policy::"), outcome.stdout)
    }

    func testColorsFollowTheFlagAndNoColor() throws {
        let repository = try repositoryWithTwoWarnings()
        let yellow = "\u{1B}[1;33mwarning:\u{1B}[0m"
        let always = try runProcess(tritonpackExecutable, ["lint", repository.path, "--color", "always"])
        XCTAssertTrue(always.stdout.contains(yellow), always.stdout)
        XCTAssertTrue(always.stdout.contains("tiny_mlp/config.pbtxt:"), always.stdout)
        // Piped, auto means no colour; so does never, and NO_COLOR on a terminal.
        XCTAssertFalse(try tritonpack("lint", repository.path).stdout.contains("\u{1B}["))
        XCTAssertFalse(try tritonpack("lint", repository.path, "--color", "never").stdout.contains("\u{1B}["))
        let command = "\(tritonpackExecutable.path) lint \(repository.path)"
        let terminal = try onTerminal(command)
        XCTAssertTrue(terminal.contains(yellow), terminal)
        let noColor = try onTerminal(command, environment: ["NO_COLOR": "1"])
        XCTAssertTrue(noColor.contains("warning:") && !noColor.contains("\u{1B}[1;33m"), noColor)
        let emptyNoColor = try onTerminal(command, environment: ["NO_COLOR": ""])
        XCTAssertTrue(emptyNoColor.contains(yellow), "an empty NO_COLOR does not disable colour: \(emptyNoColor)")
        let alwaysDespiteNoColor = try runProcess(
            tritonpackExecutable, ["lint", repository.path, "--color", "always"],
            environment: ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 })
        XCTAssertTrue(alwaysDespiteNoColor.stdout.contains(yellow), "--color always wins over NO_COLOR")
        // JSON is never coloured.
        XCTAssertFalse(
            try tritonpack("lint", repository.path, "--format", "json", "--color", "always").stdout.contains("\u{1B}["))
    }

    func testQuietShowsOnlyErrorsAndTheSummary() throws {
        let repository = try repositoryWithTwoWarnings()
        let quiet = try tritonpack("lint", repository.path, "--quiet")
        XCTAssertEqual(quiet.status, 0)
        XCTAssertEqual(quiet.stdout, "2 model(s): 0 error(s), 2 warning(s), 0 info\n")
        let normal = try tritonpack("lint", repository.path)
        XCTAssertEqual(normal.stdout.split(separator: "\n").count, 3, normal.stdout)
        let config = repository.appendingPathComponent("tiny_mlp/config.pbtxt")
        try "backend: \"oneflow\"\nmax_batch_size: -1\n".write(to: config, atomically: true, encoding: .utf8)
        let quietFailure = try tritonpack("lint", repository.path, "-q")
        XCTAssertEqual(quietFailure.status, 1)
        let lines = quietFailure.stdout.split(separator: "\n")
        XCTAssertTrue(lines.dropLast().allSatisfy { $0.contains(": error: ") }, quietFailure.stdout)
        XCTAssertEqual(lines.last, "2 model(s): 3 error(s), 1 warning(s), 0 info", "the summary counts everything")
        XCTAssertTrue(quietFailure.stdout.contains("[max-batch-size-negative]"), quietFailure.stdout)
    }
}
