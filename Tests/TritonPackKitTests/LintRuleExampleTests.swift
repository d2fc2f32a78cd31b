import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// Every rule's documented examples are its tests: triggering ones must fire it exactly where their
/// `↓` markers (or file-level expectations) say, the others must not fire it.
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

    func testTriggeringExamplesFireWhereMarked() throws {
        for rule in RuleRegistry.all {
            let identifier = rule.description.identifier
            for (index, example) in rule.description.triggering.enumerated() {
                let diagnostics = try lint(example, in: self)
                XCTAssertTrue(
                    diagnostics.contains { $0.rule == identifier && $0.severity == rule.description.severity },
                    "\(identifier) triggering example \(index) did not fire: \(diagnostics.map(\.compilerStyle))",
                    file: example.sourceFile, line: example.sourceLine)
                XCTAssertFalse(
                    example.expectedLocations.isEmpty,
                    "\(identifier) triggering example \(index) says nowhere where it fires: mark the place with ↓ or name the file in fileLevel",
                    file: example.sourceFile, line: example.sourceLine)
                let reported = diagnostics.filter { $0.rule == identifier }
                XCTAssertEqual(
                    reported.map(location).sorted(), example.expectedLocations.map { located($0, in: example) }.sorted(),
                    "\(identifier) triggering example \(index) fired elsewhere: \(reported.map(\.compilerStyle))",
                    file: example.sourceFile, line: example.sourceLine)
            }
        }
    }

    func testNonTriggeringExamplesStayQuiet() throws {
        for rule in RuleRegistry.all {
            let identifier = rule.description.identifier
            for (index, example) in rule.description.nonTriggering.enumerated() {
                XCTAssertEqual(
                    example.expectedLocations, [], "\(identifier) non-triggering example \(index) marks a place",
                    file: example.sourceFile, line: example.sourceLine)
                let diagnostics = try lint(example, in: self)
                XCTAssertFalse(
                    diagnostics.contains { $0.rule == identifier },
                    "\(identifier) non-triggering example \(index) fired: \(diagnostics.map(\.compilerStyle))",
                    file: example.sourceFile, line: example.sourceLine)
            }
        }
    }

    func testMarkersAreRemovedAndPlaced() {
        let marked = ViolationMarkers.strip("backend: \"python\"\ninput [ { ↓name: \"é\" ↓↓dims: [ 1 ] } ]\n↓")
        XCTAssertEqual(marked.text, "backend: \"python\"\ninput [ { name: \"é\" dims: [ 1 ] } ]\n")
        XCTAssertEqual(
            marked.positions,
            [
                SourcePosition(line: 2, column: 11), SourcePosition(line: 2, column: 22), SourcePosition(line: 2, column: 22),
                SourcePosition(line: 3, column: 1),
            ])
        let example = LintExample.config("↓max_batch_size: -1", fileLevel: ["1"])
        XCTAssertEqual(example.files["config.pbtxt"], "max_batch_size: -1")
        XCTAssertEqual(example.expectedLocations.map(\.description), ["1", "config.pbtxt:1:1"])
    }

    func testRuleReferenceShowsNoMarkers() {
        XCTAssertFalse(RuleReference.markdown().contains("↓"))
    }

    /// `path:line:column` of a diagnostic, relative to the linted repository.
    private func location(_ diagnostic: Diagnostic) -> String {
        var text = diagnostic.file ?? "."
        if let line = diagnostic.line { text += ":\(line)" }
        if let column = diagnostic.column { text += ":\(column)" }
        return text
    }

    /// An expected location written as `location(_:)` writes the diagnostic of the example's model.
    private func located(_ expected: ExpectedLocation, in example: LintExample) -> String {
        let file = expected.file.isEmpty ? example.model : "\(example.model)/\(expected.file)"
        return ExpectedLocation(file: file, position: expected.position).description
    }

    func testRuleReferenceIsUpToDate() throws {
        let committed = try String(
            contentsOf: packageRoot.appendingPathComponent("docs/lint-rules.md"), encoding: .utf8)
        XCTAssertEqual(committed, RuleReference.markdown(), "regenerate with: tritonpack rules > docs/lint-rules.md")
    }
}
