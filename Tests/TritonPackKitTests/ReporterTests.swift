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

/// The machine-readable reports parse as what they claim to be and carry what CI views need.
final class ReporterTests: XCTestCase {
    func testSmokeJUnitHasTimesOnTheSuiteAndEveryCase() throws {
        var report = SmokeReport(model: "tiny_mlp", device: "CPU")
        report.loaded = true
        report.outputs = [
            OutputCheck(name: "OUTPUT_0", problems: []),
            OutputCheck(name: "OUTPUT_1", problems: ["max abs error 0.5 above atol"]),
        ]
        report.failures = ["OUTPUT_1: max abs error 0.5 above atol"]
        report.seconds = ["load": 2.5, "outputs": 0.5, "requests": 1.25]
        let suite = try XCTUnwrap(try XMLDocument(data: Data(report.junit.utf8)).rootElement())
        XCTAssertEqual(suite.attribute(forName: "time")?.stringValue, "4.250")
        XCTAssertEqual(suite.attribute(forName: "failures")?.stringValue, "1")
        let cases = suite.elements(forName: "testcase")
        XCTAssertEqual(
            cases.compactMap { $0.attribute(forName: "name")?.stringValue },
            ["load", "output OUTPUT_0", "output OUTPUT_1", "requests"])
        XCTAssertEqual(cases.compactMap { $0.attribute(forName: "time")?.stringValue }, ["2.500", "0.250", "0.250", "1.250"])
        XCTAssertEqual(cases[2].elements(forName: "failure").count, 1)
    }

    func testSmokeJUnitOfAModelThatDidNotLoad() throws {
        var report = SmokeReport(model: "broken", device: "CPU")
        report.failures = ["tritonserver could not load 'broken': bad config"]
        report.seconds = ["load": 3]
        let suite = try XCTUnwrap(try XMLDocument(data: Data(report.junit.utf8)).rootElement())
        XCTAssertEqual(suite.attribute(forName: "time")?.stringValue, "3.000")
        let cases = suite.elements(forName: "testcase")
        XCTAssertEqual(cases.count, 1)
        XCTAssertEqual(cases[0].attribute(forName: "time")?.stringValue, "3.000")
        XCTAssertEqual(
            cases[0].elements(forName: "failure").first?.attribute(forName: "message")?.stringValue, report.failures[0])
    }

    func testSarifLocationsAreRelativeToSrcroot() throws {
        let report = LintReport(
            path: "/work/models/repo", models: ["a b"],
            diagnostics: [
                Diagnostic(
                    severity: .error, rule: "io-config", message: "m", model: "a b", file: "a b/config.pbtxt", line: 3, column: 7),
                Diagnostic(severity: .error, rule: "repository-path", message: "m", model: nil, file: "/elsewhere/x"),
            ])
        let log = try JSONSerialization.jsonObject(with: Data(try SARIFReporter().render(report).utf8)) as! [String: Any]
        let run = (log["runs"] as! [[String: Any]])[0]
        XCTAssertEqual(
            (run["originalUriBaseIds"] as? [String: [String: String]])?["%SRCROOT%"]?["uri"], "file:///work/models/repo/")
        let locations = (run["results"] as! [[String: Any]]).map {
            ($0["locations"] as! [[String: Any]])[0]["physicalLocation"] as! [String: Any]
        }
        XCTAssertEqual(
            locations[0]["artifactLocation"] as? [String: String], ["uri": "a%20b/config.pbtxt", "uriBaseId": "%SRCROOT%"])
        XCTAssertEqual(locations[0]["region"] as? [String: Int], ["startLine": 3, "startColumn": 7])
        XCTAssertEqual(locations[1]["artifactLocation"] as? [String: String], ["uri": "file:///elsewhere/x"])
    }

    func testTextColoursOnlyTheSeverity() {
        let report = LintReport(
            path: "/r", models: ["m"],
            diagnostics: [
                Diagnostic(severity: .warning, rule: "r", message: "x: error: y", model: "m", file: "m/config.pbtxt", line: 1)
            ])
        XCTAssertEqual(
            TextReporter(colors: true).render(report),
            "m/config.pbtxt:1: \u{1B}[1;33mwarning:\u{1B}[0m x: error: y [r]\n1 model(s): 0 error(s), 1 warning(s), 0 info\n")
        XCTAssertEqual(
            TextReporter().render(report),
            "m/config.pbtxt:1: warning: x: error: y [r]\n1 model(s): 0 error(s), 1 warning(s), 0 info\n")
    }
}
