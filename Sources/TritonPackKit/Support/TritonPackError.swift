import Foundation

/// An error tritonpack reports to its user: what is wrong, and the file it concerns.
public struct TritonPackError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable, Codable {
        /// The model, config or repository is not acceptable (exit code 1).
        case refused
        /// The request itself is malformed: a bad option value or name (exit code 2).
        case usage
        /// Reading or writing failed for reasons outside the input's content (exit code 3).
        case io
    }

    public var kind: Kind
    public var file: String?
    /// The position in `file`, 1-based, where the problem has one.
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(_ kind: Kind, file: String? = nil, line: Int? = nil, column: Int? = nil, _ message: String) {
        self.kind = kind
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public static func refused(_ file: String?, _ message: String) -> TritonPackError {
        TritonPackError(.refused, file: file, message)
    }

    public static func refused(_ file: String, line: Int, column: Int, _ message: String) -> TritonPackError {
        TritonPackError(.refused, file: file, line: line, column: column, message)
    }

    public static func usage(_ message: String) -> TritonPackError {
        TritonPackError(.usage, message)
    }

    public static func io(_ file: String?, _ message: String) -> TritonPackError {
        TritonPackError(.io, file: file, message)
    }

    public var description: String {
        if let file, let line { return "\(file):\(line):\(column.map { "\($0):" } ?? "") \(message)" }
        if let file { return "\(file): \(message)" }
        return message
    }
}

/// The documented exit codes of the `tritonpack` executable.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    case refused = 1
    case usage = 2
    case io = 3

    public init(_ kind: TritonPackError.Kind) {
        switch kind {
        case .refused: self = .refused
        case .usage: self = .usage
        case .io: self = .io
        }
    }
}
