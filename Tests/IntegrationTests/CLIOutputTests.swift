import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// What people see: progress on a terminal only, --quiet/--verbose, examples in help, `rules <id>`.
final class CLIOutputTests: XCTestCase {
    func testProgressOnlyOnATerminalAndNeverInJSON() throws {
        let root = try temporaryDirectory(self)
        let graph = sample("tiny_mlp").path
        let now = "TRITONPACK_PROGRESS_DELAY=0"
        let repository = root.appendingPathComponent("terminal").path
        let terminal = try onTerminal("\(now) \(tritonpackExecutable.path) pack \(graph) --repo \(repository)")
        XCTAssertTrue(terminal.contains("\r\u{1B}[2Kpacking "), terminal)
        XCTAssertTrue(terminal.contains(" B/s") || terminal.contains("iB/s"), terminal)
        XCTAssertTrue(terminal.contains("packed tiny_mlp version 1"), terminal)
        let verify = try onTerminal("\(now) \(tritonpackExecutable.path) versions \(repository)/tiny_mlp --verify")
        XCTAssertTrue(verify.contains("\r\u{1B}[2Kverifying "), verify)
        let production = root.appendingPathComponent("production").path
        try FileManager.default.createDirectory(atPath: production, withIntermediateDirectories: true)
        let promote = try onTerminal(
            "\(now) \(tritonpackExecutable.path) promote tiny_mlp --from \(repository) --to \(production)")
        XCTAssertTrue(promote.contains("\r\u{1B}[2Kpromoting "), promote)
        let bundle = try onTerminal(
            "\(now) \(tritonpackExecutable.path) bundle \(repository) --out \(root.appendingPathComponent("demo.zip").path)")
        XCTAssertTrue(bundle.contains("\r\u{1B}[2Kbundling "), bundle)
        XCTAssertTrue(bundle.contains("bundled tiny_mlp"), bundle)

        let json = try onTerminal("\(now) \(tritonpackExecutable.path) pack \(graph) --repo \(repository) --format json")
        XCTAssertFalse(json.contains("packing"), json)
        XCTAssertFalse(json.contains("\u{1B}["), json)
        let quiet = try onTerminal("\(now) \(tritonpackExecutable.path) pack \(graph) --repo \(repository) --quiet")
        XCTAssertFalse(quiet.contains("packing"), quiet)

        let piped = try runProcess(
            tritonpackExecutable, ["pack", graph, "--repo", root.appendingPathComponent("piped").path],
            environment: ProcessInfo.processInfo.environment.merging(["TRITONPACK_PROGRESS_DELAY": "0"]) { $1 })
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertFalse(piped.stderr.contains("packing") || piped.stderr.contains("\r"), piped.stderr)
        XCTAssertFalse(piped.stdout.contains("\r"), piped.stdout)
    }

    func testQuietPrintsTheResultAndVerboseTheDetail() throws {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("repo").path
        let graph = sample("tiny_mlp").path
        let quiet = try tritonpack("pack", graph, "--repo", repository, "--quiet")
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        XCTAssertEqual(quiet.stdout.split(separator: "\n").count, 1, quiet.stdout)
        XCTAssertTrue(quiet.stdout.hasPrefix("packed tiny_mlp version 1 into "), quiet.stdout)
        XCTAssertEqual(quiet.stderr, "")

        let normal = try tritonpack("pack", graph, "--repo", repository)
        XCTAssertTrue(normal.stdout.contains("manifest digest: sha256:"), normal.stdout)
        XCTAssertFalse(normal.stderr.contains("staging"), normal.stderr)
        let verbose = try tritonpack("pack", graph, "--repo", repository, "-v")
        XCTAssertTrue(verbose.stderr.contains("staging beside"), verbose.stderr)
        XCTAssertTrue(verbose.stdout.contains("manifest digest: sha256:"), verbose.stdout)

        let model = "\(repository)/tiny_mlp"
        XCTAssertEqual(try tritonpack("version", "policy", model, "latest:2").status, 0)
        let history = try tritonpack("versions", model, "--verbose")
        XCTAssertTrue(history.stderr.contains("history: ") && history.stderr.contains(" policy 2, 3 (latest 2)"), history.stderr)
        XCTAssertFalse(try tritonpack("versions", model).stderr.contains("history: "))
        let quietVersions = try tritonpack("versions", model, "--quiet")
        XCTAssertEqual(quietVersions.stdout.split(separator: "\n").count, 1, quietVersions.stdout)

        let both = try tritonpack("pack", graph, "--repo", repository, "--quiet", "--verbose")
        XCTAssertEqual(both.status, 2)
        XCTAssertTrue(both.stderr.contains("--quiet and --verbose"), both.stderr)
    }

    func testEveryCommandTakesTheOutputFlagsAndShowsExamples() throws {
        let commands: [[String]] = [
            ["config"], ["pack"], ["lint"], ["versions"], ["version", "policy"], ["version", "prune"], ["promote"],
            ["rollback"], ["smoke"], ["bundle"], ["rules"],
        ]
        for command in commands {
            let help = try runProcess(tritonpackExecutable, command + ["--help"])
            XCTAssertEqual(help.status, 0, "\(command)")
            XCTAssertTrue(help.stdout.contains("Examples:\n  tritonpack \(command[0])"), "\(command): \(help.stdout)")
            for flag in ["--quiet", "--verbose", "--color"] {
                XCTAssertTrue(help.stdout.contains(flag), "\(command) takes \(flag)")
            }
        }
    }

    func testRulesPrintsOneRuleOrRefusesAnUnknownId() throws {
        let one = try tritonpack("rules", "version-policy")
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertTrue(one.stdout.hasPrefix("## `version-policy`: "), one.stdout)
        XCTAssertEqual(one.stdout.components(separatedBy: "\n## ").count, 1, "only one rule")
        let description = try XCTUnwrap(RuleRegistry.rule("version-policy")).description
        XCTAssertTrue(one.stdout.contains("Severity: **\(description.severity.rawValue)**"), one.stdout)
        if let wording = description.tritonMessage { XCTAssertTrue(one.stdout.contains(wording), one.stdout) }
        XCTAssertTrue(one.stdout.contains("Triggers:"), one.stdout)
        XCTAssertEqual(one.stdout, RuleReference.entry(description))

        let unknown = try tritonpack("rules", "version-polcy")
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("unknown rule 'version-polcy'"), unknown.stderr)
        XCTAssertEqual(unknown.stdout, "")

        let list = try tritonpack("rules", "--list")
        XCTAssertEqual(list.stdout.split(separator: "\n").count, RuleRegistry.all.count)
        XCTAssertEqual(try tritonpack("rules").stdout, RuleReference.markdown())
    }

    func testCompletionScriptsKnowTheCommandsAndFlags() throws {
        for shell in ["bash", "zsh", "fish"] {
            let script = try tritonpack("--generate-completion-script", shell)
            XCTAssertEqual(script.status, 0, script.stderr)
            for word in ["promote", "rollback", "model-version", "select", "color", "allow-empty"] {
                XCTAssertTrue(script.stdout.contains(word), "\(shell) completes \(word)")
            }
        }
    }
}
