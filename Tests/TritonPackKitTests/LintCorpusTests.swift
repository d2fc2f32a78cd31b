import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// Real-world configurations from public repositories (Tests/Fixtures/lint-corpus, sources in
/// sources.json) against the verdicts the real tritonserver 2.51 gave for each folder
/// (expected.json, written by scripts/lint-corpus-verdicts.py), in both modes. Each repository
/// folder is a Triton model repository; the server had only the Python backend, so lint is run
/// with a backend directory holding only `python`.
final class LintCorpusTests: XCTestCase {
    struct Verdict: Decodable {
        var loaded: Bool
        var crashed: Bool
        var message: String
    }

    static let corpus = packageRoot.appendingPathComponent("Tests/Fixtures/lint-corpus")

    func testLintAgreesWithTheServersVerdictsOnPublicConfigs() throws {
        let expected = try JSONDecoder().decode(
            [String: [String: Verdict]].self, from: Data(contentsOf: Self.corpus.appendingPathComponent("expected.json")))
        let sources =
            try JSONSerialization.jsonObject(with: Data(contentsOf: Self.corpus.appendingPathComponent("sources.json")))
            as? [[String: String]] ?? []
        XCTAssertEqual(
            Set(sources.compactMap { $0["folder"] }), Set(expected.keys), "every corpus model has a source and a verdict")

        var compared = 0
        var agreed = 0
        var refusals = 0
        var sameWords = 0
        var disagreements: [String] = []
        let repositories = Set(expected.keys.map { String($0.split(separator: "/")[0]) }).sorted()
        for mode in ["strict", "default"] {
            let options = try optionsLikeTheProjectServer(autoComplete: mode == "default", in: self)
            for repository in repositories {
                let report = Linter(options: options).lint(path: Self.corpus.appendingPathComponent(repository))
                for (key, verdicts) in expected.sorted(by: { $0.key < $1.key }) where key.hasPrefix(repository + "/") {
                    guard let verdict = verdicts[mode] else { continue }
                    let model = String(key.dropFirst(repository.count + 1))
                    let lintError = report.diagnostics.first { $0.model == model && $0.severity == .error }
                    compared += 1
                    let agrees = (lintError == nil) == verdict.loaded
                    if agrees { agreed += 1 }
                    let words = lintError.map { Self.serverSays(verdict.message, $0, report: report) } ?? false
                    if !verdict.loaded {
                        refusals += 1
                        if words { sameWords += 1 }
                    }
                    if !agrees || (!verdict.loaded && !words) {
                        disagreements.append(
                            "\(mode) \(key): server \(verdict.loaded ? "loaded" : "refused: \(verdict.message)"); lint: \(lintError?.message ?? "no error")"
                        )
                    }
                }
            }
        }
        print(
            "lint vs tritonserver on \(compared) public configs (\(repositories.count) repositories, 2 modes): \(agreed) verdicts agree, \(sameWords)/\(refusals) refusals in Triton's words"
        )
        XCTAssertEqual(agreed, compared, disagreements.joined(separator: "\n"))
        XCTAssertEqual(sameWords, refusals, disagreements.joined(separator: "\n"))
    }

    /// The server's message contains lint's (for syntax errors: the server prints only "failed to
    /// read text proto", its parser's detail goes to another log line).
    ///
    /// When several steps of an ensemble fail to load, Triton names the first failing one in the
    /// iteration order of the node's upstream map, keyed by node pointers (core
    /// model_repository_manager.cc CheckNode: `for (auto& upstream : node->upstreams_) ... break`),
    /// which no static order reproduces; lint names the first failing step in step order. Then any
    /// step that lint also finds failing, named in the same words, counts.
    static func serverSays(_ server: String, _ lint: Diagnostic, report: LintReport) -> Bool {
        if lint.rule == ConfigSyntaxRule.description.identifier {
            return server.contains("failed to read text proto")
        }
        if server.contains(lint.message) { return true }
        let marker = "' which has no loaded version. Model '"
        guard lint.rule == EnsembleDependencyRule.description.identifier, lint.message.contains(marker),
            let prefixEnd = lint.message.range(of: " depends on '")?.upperBound,
            let range = server.range(of: String(lint.message[..<prefixEnd]))
        else { return false }
        let named = server[range.upperBound...].prefix { $0 != "'" }
        guard let stepError = report.diagnostics.first(where: { $0.model == String(named) && $0.severity == .error }) else {
            return false
        }
        return server.contains(stepError.message)
    }
}
