import Foundation
import TritonPackModels

/// JUnit XML: one test case per model (failing on its errors), with the seconds each took.
public struct JUnitReporter: LintReporter {
    public init() {}

    public func render(_ report: LintReport) -> String {
        let escape = XMLText.escaped
        var byModel: [String: [Diagnostic]] = [:]
        for diagnostic in report.diagnostics { byModel[diagnostic.model ?? "(repository)", default: []].append(diagnostic) }
        var names = report.models
        names += byModel.keys.filter { !names.contains($0) }.sorted()
        let failing = names.filter { byModel[$0, default: []].contains { $0.severity == .error } }
        let total = report.seconds ?? 0
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml +=
            "<testsuite name=\"tritonpack lint\" tests=\"\(names.count)\" failures=\"\(failing.count)\" time=\"\(seconds(total))\">\n"
        for name in names {
            let diagnostics = byModel[name, default: []]
            let time = seconds(report.modelSeconds?[name] ?? 0)
            xml += "  <testcase classname=\"lint\" name=\"\(escape(name))\" time=\"\(time)\""
            let errors = diagnostics.filter { $0.severity == .error }
            let others = diagnostics.filter { $0.severity != .error }
            if errors.isEmpty && others.isEmpty {
                xml += "/>\n"
                continue
            }
            xml += ">\n"
            if let first = errors.first {
                xml += "    <failure message=\"\(escape(first.message))\" type=\"\(escape(first.rule))\">"
                xml += escape(errors.map(\.compilerStyle).joined(separator: "\n")) + "</failure>\n"
            }
            if !others.isEmpty {
                xml += "    <system-out>\(escape(others.map(\.compilerStyle).joined(separator: "\n")))</system-out>\n"
            }
            xml += "  </testcase>\n"
        }
        return xml + "</testsuite>\n"
    }

    private func seconds(_ value: Double) -> String { String(format: "%.3f", value) }
}
