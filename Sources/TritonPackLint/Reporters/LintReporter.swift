import Foundation

/// Renders a lint report in one format.
public protocol LintReporter: Sendable {
    func render(_ report: LintReport) throws -> String
}

/// The formats `tritonpack lint --format` offers, each with its reporter.
public enum LintFormat: String, CaseIterable, Sendable {
    case text, json, sarif, junit, github

    /// `ok` is what the exit status says (it depends on --strict); `colors` and `errorsOnly`
    /// apply to text only.
    public func reporter(ok: Bool, colors: Bool = false, errorsOnly: Bool = false) -> any LintReporter {
        switch self {
        case .text: TextReporter(colors: colors, errorsOnly: errorsOnly)
        case .json: JSONReporter(ok: ok)
        case .sarif: SARIFReporter()
        case .junit: JUnitReporter()
        case .github: GitHubReporter()
        }
    }
}

package enum ReportEncoding {
    package static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

}

extension LintReport {
    package var infoCount: Int { diagnostics.count - errorCount - warningCount }
}
