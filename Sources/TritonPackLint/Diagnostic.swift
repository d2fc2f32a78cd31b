/// How bad a finding is.
public enum Severity: String, Codable, Sendable, Comparable, CaseIterable {
    /// Triton refuses to load this model, or crashes on it (or, for a model cross-check, serves garbage).
    case error
    /// Triton loads it, but it is almost certainly wrong.
    case warning
    /// Advice.
    case info

    package var rank: Int {
        switch self {
        case .error: 0
        case .warning: 1
        case .info: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// One finding of the linter, located in a file where it has a place.
public struct Diagnostic: Codable, Equatable, Sendable {
    public var severity: Severity
    public var rule: String
    public var message: String
    /// The model (directory) name; nil for repository-level findings.
    public var model: String?
    /// Relative to the linted path.
    public var file: String?
    public var line: Int?
    public var column: Int?

    public init(
        severity: Severity, rule: String, message: String, model: String?, file: String?, line: Int? = nil,
        column: Int? = nil
    ) {
        self.severity = severity
        self.rule = rule
        self.message = message
        self.model = model
        self.file = file
        self.line = line
        self.column = column
    }

    /// `path:line:column: severity: message [rule]`, as compilers print.
    public var compilerStyle: String { compilerStyle(severity: "\(severity.rawValue):") }

    /// The same line with the `severity:` part as given (coloured, say).
    public func compilerStyle(severity label: String) -> String {
        var location = file ?? model ?? "."
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        return "\(location): \(label) \(message) [\(rule)]"
    }
}
