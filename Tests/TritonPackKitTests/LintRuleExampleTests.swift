import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// Every rule's documented examples are its tests: triggering ones must fire it, the others must not.
final class LintRuleExampleTests: XCTestCase {
    func testEveryRuleHasExamplesOrAnExplicitTest() {
        let explicitlyTested: Set<String> = []
        for rule in RuleRegistry.all {
            let description = rule.description
            if explicitlyTested.contains(description.identifier) { continue }
            XCTAssertFalse(description.triggering.isEmpty, "\(description.identifier) has no triggering example")
            XCTAssertFalse(description.nonTriggering.isEmpty, "\(description.identifier) has no non-triggering example")
        }
        XCTAssertEqual(Set(RuleRegistry.all.map { $0.description.identifier }).count, RuleRegistry.all.count)
    }

    func testTriggeringExamplesFire() throws {
        for rule in RuleRegistry.all {
            let identifier = rule.description.identifier
            for (index, example) in rule.description.triggering.enumerated() {
                let diagnostics = try lint(example, in: self)
                XCTAssertTrue(
                    diagnostics.contains { $0.rule == identifier && $0.severity == rule.description.severity },
                    "\(identifier) triggering example \(index) did not fire: \(diagnostics.map(\.compilerStyle))",
                    file: example.sourceFile, line: example.sourceLine)
            }
        }
    }

    func testNonTriggeringExamplesStayQuiet() throws {
        for rule in RuleRegistry.all {
            let identifier = rule.description.identifier
            for (index, example) in rule.description.nonTriggering.enumerated() {
                let diagnostics = try lint(example, in: self)
                XCTAssertFalse(
                    diagnostics.contains { $0.rule == identifier },
                    "\(identifier) non-triggering example \(index) fired: \(diagnostics.map(\.compilerStyle))",
                    file: example.sourceFile, line: example.sourceLine)
            }
        }
    }

    func testRuleReferenceIsUpToDate() throws {
        let committed = try String(
            contentsOf: packageRoot.appendingPathComponent("docs/lint-rules.md"), encoding: .utf8)
        XCTAssertEqual(committed, RuleReference.markdown(), "regenerate with: tritonpack rules > docs/lint-rules.md")
    }
}
