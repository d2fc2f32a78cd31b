import Foundation
import XCTest

@testable import TritonPackLint
@testable import TritonPackModels

/// Linting the path a user named: a repository or a model folder is linted; anything else is one
/// `repository-path` error that says what to lint instead.
final class LintedPathTests: XCTestCase {
    /// `<root>/repo/m` with a config and version 1 holding a model file.
    func repository() throws -> URL {
        let repository = try temporaryDirectory(self).appendingPathComponent("repo")
        let version = repository.appendingPathComponent("m/1")
        try FileManager.default.createDirectory(at: version, withIntermediateDirectories: true)
        try Data("name: \"m\"\nbackend: \"python\"\n".utf8).write(
            to: repository.appendingPathComponent("m/config.pbtxt"))
        try Data("import triton_python_backend_utils\n".utf8).write(to: version.appendingPathComponent("model.py"))
        return repository
    }

    func testARepositoryAndAModelFolderAreLinted() throws {
        let repository = try repository()
        for path in [repository.path, repository.appendingPathComponent("m").path] {
            let report = Linter().lint(named: path)
            XCTAssertEqual(report.models, ["m"], path)
            XCTAssertFalse(report.diagnostics.contains { $0.rule == "repository-path" }, "\(report.diagnostics)")
        }
    }

    func testAPathInsideAModelSaysWhatToLintInstead() throws {
        let repository = try repository()
        let model = repository.appendingPathComponent("m").path
        let cases = [
            ("\(model)/config.pbtxt", "is a model's config; lint the model folder \(model)"),
            ("\(model)/1", "is inside a model folder, not a repository; lint the model folder \(model)"),
            ("\(model)/1/model.py", "is a file; lint takes a model repository or one model folder"),
        ]
        for (path, words) in cases {
            let report = Linter().lint(named: path)
            XCTAssertEqual(report.models, [], path)
            XCTAssertEqual(report.diagnostics.map(\.rule), ["repository-path"], path)
            XCTAssertTrue(report.diagnostics[0].message.hasPrefix(words), report.diagnostics[0].message)
        }
    }

    func testAnEmptyRepositoryIsAnErrorUnlessAllowed() throws {
        let empty = try temporaryDirectory(self).appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertEqual(Linter().lint(named: empty.path).errorCount, 1)
        XCTAssertEqual(Linter().lint(named: empty.path).diagnostics.map(\.rule), ["repository-path"])
        XCTAssertEqual(Linter().lint(named: empty.path, allowEmpty: true).diagnostics.count, 0)
    }

    func testALocalCopyIsReportedUnderTheNameTheUserGave() throws {
        let copy = try repository().appendingPathComponent("m/1")
        let report = Linter().lint(named: copy.path, shownAs: "s3://host:1/bucket/repo")
        XCTAssertEqual(report.path, "s3://host:1/bucket/repo")
        XCTAssertFalse(
            report.diagnostics.contains { $0.message.hasPrefix("is inside a model folder") }, "a copy is linted as it is")
    }
}
