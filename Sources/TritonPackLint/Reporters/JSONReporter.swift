/// The lint command's JSON document: the common envelope (`ok`, `command`, `errors`, `warnings`)
/// with the models, a summary and every diagnostic.
import TritonPackModels

public struct JSONReporter: LintReporter {
    /// What the exit status says (it depends on --strict); nil: no errors.
    public var ok: Bool?

    public init(ok: Bool? = nil) { self.ok = ok }

    public func render(_ report: LintReport) throws -> String {
        struct Output: Encodable {
            var ok: Bool
            var command = "lint"
            var path: String
            var models: [String]
            var summary: [String: Int]
            var diagnostics: [Diagnostic]
            var errors: [Diagnostic]
            var warnings: [Diagnostic]
        }
        let output = Output(
            ok: ok ?? (report.errorCount == 0), path: report.path, models: report.models,
            summary: [
                Severity.error.rawValue: report.errorCount, Severity.warning.rawValue: report.warningCount,
                Severity.info.rawValue: report.infoCount,
            ],
            diagnostics: report.diagnostics,
            errors: report.diagnostics.filter { $0.severity == .error },
            warnings: report.diagnostics.filter { $0.severity == .warning })
        return try ReportEncoding.json(output)
    }
}
