/// Compiler-style lines, then a summary line (of every diagnostic); severities coloured when asked.
public struct TextReporter: LintReporter {
    public var colors: Bool
    /// Lines for errors only (--quiet).
    public var errorsOnly: Bool

    public init(colors: Bool = false, errorsOnly: Bool = false) {
        self.colors = colors
        self.errorsOnly = errorsOnly
    }

    public func render(_ report: LintReport) -> String {
        var lines = report.diagnostics.filter { !errorsOnly || $0.severity == .error }.map(line)
        lines.append(
            "\(report.models.count) model(s): \(report.errorCount) error(s), \(report.warningCount) warning(s), \(report.infoCount) info"
        )
        return lines.joined(separator: "\n") + "\n"
    }

    private func line(_ diagnostic: Diagnostic) -> String {
        guard colors else { return diagnostic.compilerStyle }
        return diagnostic.compilerStyle(severity: TerminalStyle.severity(diagnostic.severity, "\(diagnostic.severity.rawValue):"))
    }
}

/// ANSI styles for the three severities (bold red, bold yellow, bold cyan), as compilers colour them.
public enum TerminalStyle {
    public static func severity(_ severity: Severity, _ text: String) -> String {
        let code =
            switch severity {
            case .error: "1;31"
            case .warning: "1;33"
            case .info: "1;36"
            }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }
}
