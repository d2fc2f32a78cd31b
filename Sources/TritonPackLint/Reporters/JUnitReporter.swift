import Foundation
import TritonPackModels

/// JUnit XML: one test case per model (failing on its errors), with the seconds each took.
public struct JUnitReporter: LintReporter {
    public init() {}

    public func render(_ report: LintReport) -> String {
        var byModel: [String: [Diagnostic]] = [:]
        for diagnostic in report.diagnostics { byModel[diagnostic.model ?? "(repository)", default: []].append(diagnostic) }
        var names = report.models
        names += byModel.keys.filter { !names.contains($0) }.sorted()
        let cases = names.map { name in
            let diagnostics = byModel[name, default: []]
            let errors = diagnostics.filter { $0.severity == .error }
            let others = diagnostics.filter { $0.severity != .error }
            return JUnitSuite.Case(
                classname: "lint", name: name, seconds: report.modelSeconds?[name] ?? 0,
                failure: errors.first.map { first in
                    JUnitSuite.Failure(
                        message: first.message, type: first.rule, text: errors.map(\.compilerStyle).joined(separator: "\n"))
                },
                systemOut: others.isEmpty ? nil : others.map(\.compilerStyle).joined(separator: "\n"))
        }
        return JUnitSuite(name: "tritonpack lint", seconds: report.seconds ?? 0, cases: cases).xml
    }
}
