import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// 160 generated variants (scripts/generate-lint-variants.py, seed 7) against the verdicts the
/// real tritonserver 2.51 gave for each in both modes (Tests/Fixtures/lint-variants/expected.json).
final class LintVariantsTests: XCTestCase {
    struct Verdict: Decodable {
        var loaded: Bool
        var hung: Bool?
        var message: String
    }

    func testLintAgreesWithTheServersVerdictsOnGeneratedVariants() throws {
        let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures/lint-variants")
        let expected = try JSONDecoder().decode(
            [String: [String: Verdict]].self, from: Data(contentsOf: fixtures.appendingPathComponent("expected.json")))
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("variants")
        let generator = try runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", packageRoot.appendingPathComponent("scripts/generate-lint-variants.py").path, repository.path, "160",
                "7",
            ])
        XCTAssertEqual(generator.status, 0)

        var compared = 0
        var agreed = 0
        var refusals = 0
        var sameWords = 0
        var disagreements: [String] = []
        var wordings: [String] = []
        for mode in ["strict", "default"] {
            let options = try optionsLikeTheProjectServer(autoComplete: mode == "default", in: self)
            let report = Linter(options: options).lint(path: repository)
            for (model, verdicts) in expected.sorted(by: { $0.key < $1.key }) {
                guard var verdict = verdicts[mode] else { continue }
                verdict.message = verdict.message.replacingOccurrences(of: "$REPOSITORY/", with: repository.path + "/")
                let lintError = report.diagnostics.first { $0.model == model && $0.severity == .error }
                compared += 1
                if (lintError == nil) == verdict.loaded {
                    agreed += 1
                } else {
                    disagreements.append(
                        "\(mode) \(model): server \(verdict.loaded ? "loaded" : "refused: \(verdict.message)"); lint: \(lintError?.message ?? "no error")"
                    )
                }
                if !verdict.loaded, verdict.hung != true {
                    refusals += 1
                    if let lintError, LintCorpusTests.serverSays(verdict.message, lintError, report: report) {
                        sameWords += 1
                    } else {
                        wordings.append(
                            "\(mode) \(model): server: \(verdict.message)\n    lint: \(lintError?.message ?? "no error")")
                    }
                }
            }
        }
        print(
            "lint vs tritonserver on \(compared) generated variants (2 modes): \(agreed) verdicts agree, \(sameWords)/\(refusals) answered refusals in Triton's words"
        )
        XCTAssertEqual(agreed, compared, disagreements.joined(separator: "\n"))
        // Some refusals come from the Python model's own auto_complete_config at load time: no
        // static check can word those.
        XCTAssertGreaterThanOrEqual(Double(sameWords), 0.97 * Double(refusals), wordings.joined(separator: "\n"))
    }
}
