import Foundation
import SystemPackage

/// A place in a file: the path, and where the problem has one, the 1-based line and column.
public struct SourceLocation: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var column: Int?

    public init(_ path: String, line: Int? = nil, column: Int? = nil) {
        self.path = path
        self.line = line
        self.column = column
    }

    /// `path`, `path:line` or `path:line:column`, as compilers print them.
    public var description: String {
        guard let line else { return path }
        guard let column else { return "\(path):\(line)" }
        return "\(path):\(line):\(column)"
    }
}

/// One thing wrong, with the file it concerns where it has one; an error carries a list of them
/// when there is more than one reason (a saved graph with several bad variables, failed gates).
public struct Problem: Equatable, Sendable, CustomStringConvertible {
    public var location: SourceLocation?
    public var message: String
    /// What found it, where that is named: a lint rule id or a promotion gate.
    public var code: String?

    public init(_ location: SourceLocation?, _ message: String, code: String? = nil) {
        self.location = location
        self.message = message
        self.code = code
    }

    /// A problem in `file`, a path relative to whatever the caller reads (a graph folder, a repository).
    public init(file: String, line: Int? = nil, column: Int? = nil, _ message: String, code: String? = nil) {
        self.init(SourceLocation(file, line: line, column: column), message, code: code)
    }

    public var file: String? { location?.path }
    public var line: Int? { location?.line }

    /// The same problem with its path taken as relative to `directory`.
    public func relative(to directory: String) -> Problem {
        var copy = self
        if let path = location?.path, !path.hasPrefix("/") { copy.location?.path = "\(directory)/\(path)" }
        return copy
    }

    public var description: String { location.map { "\($0): \(message)" } ?? message }
}

/// The one error tritonpack reports to its user: what kind of failure, what is wrong, where, every
/// reason when there are several, and the system error underneath when there is one.
public struct TritonPackError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable, Codable {
        /// The model, config or repository is not acceptable (exit code 1).
        case refused
        /// The request itself is malformed: a bad option value or name (exit code 2).
        case usage
        /// Reading or writing failed for reasons outside the input's content (exit code 3).
        case io
        /// SIGINT or SIGTERM stopped the work; what it was writing has been removed (exit 128 + signal).
        case interrupted
    }

    public var kind: Kind
    public var message: String
    public var location: SourceLocation?
    public var problems: [Problem]
    /// The system call's error number, when a system call failed.
    public var errno: Errno?
    /// The signal, for `.interrupted`.
    public var signal: Int32?
    /// The error this one explains, when it wraps one (a Foundation or decoding error).
    public var cause: (any Error & Sendable)?

    public init(
        _ kind: Kind, _ message: String, at location: SourceLocation? = nil, problems: [Problem] = [],
        errno: Errno? = nil, cause: (any Error & Sendable)? = nil
    ) {
        self.kind = kind
        self.message = message
        self.location = location
        self.problems = problems
        self.errno = errno
        self.cause = cause
    }

    public init(_ kind: Kind, file: String? = nil, line: Int? = nil, column: Int? = nil, _ message: String) {
        self.init(kind, message, at: file.map { SourceLocation($0, line: line, column: column) })
    }

    public static func refused(_ file: String?, _ message: String) -> TritonPackError {
        TritonPackError(.refused, file: file, message)
    }

    public static func refused(_ file: String, line: Int, column: Int, _ message: String) -> TritonPackError {
        TritonPackError(.refused, file: file, line: line, column: column, message)
    }

    /// Refused for every reason in `problems`, e.g. each unusable file of a saved graph.
    public static func refused(_ message: String, problems: [Problem]) -> TritonPackError {
        TritonPackError(.refused, message, problems: problems)
    }

    public static func usage(_ message: String) -> TritonPackError {
        TritonPackError(.usage, message)
    }

    public static func io(_ file: String?, _ message: String) -> TritonPackError {
        TritonPackError(.io, file: file, message)
    }

    /// A failed system call on `path`: the message ends with the system's wording for `code`.
    public static func system(_ path: String?, _ message: String, errno code: Int32 = Glibc.errno) -> TritonPackError {
        let number = Errno(rawValue: code)
        return TritonPackError(
            .io, "\(message): \(POSIXFiles.errnoMessage(code))", at: path.map { SourceLocation($0) }, errno: number)
    }

    public static func interrupted(by signal: Int32) -> TritonPackError {
        var error = TritonPackError(.interrupted, "interrupted by \(Self.signalName(signal))")
        error.signal = signal
        return error
    }

    public var file: String? { location?.path }
    public var line: Int? { location?.line }
    public var column: Int? { location?.column }

    package static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(signal)"
        }
    }

    /// The message, prefixed with its location, then one line per problem.
    public var description: String {
        let head = location.map { "\($0): \(message)" } ?? message
        return ([head] + problems.map { "  \($0.description)" }).joined(separator: "\n")
    }

    /// Any error as tritonpack reports it: its own errors unchanged; a system or Foundation failure
    /// becomes an I/O error, keeping what it said and the error number where there is one.
    public static func from(_ error: any Error) -> TritonPackError {
        if let error = error as? TritonPackError { return error }
        if let error = error as? Errno {
            return TritonPackError(.io, error.description, errno: error, cause: error)
        }
        let nsError = error as NSError
        var wrapped = TritonPackError(.io, nsError.localizedDescription)
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            wrapped.errno = Errno(rawValue: Int32(underlying.code))
        } else if nsError.domain == NSPOSIXErrorDomain {
            wrapped.errno = Errno(rawValue: Int32(nsError.code))
        } else if let error = error as? CocoaError {
            wrapped.errno = Self.errno(for: error.code)
        }
        if let path = nsError.userInfo[NSFilePathErrorKey] as? String { wrapped.location = SourceLocation(path) }
        return wrapped
    }

    /// The system error behind a Foundation file error, where Foundation on Linux drops it.
    private static func errno(for code: CocoaError.Code) -> Errno? {
        switch code {
        case .fileNoSuchFile, .fileReadNoSuchFile: .noSuchFileOrDirectory
        case .fileReadNoPermission, .fileWriteNoPermission: .permissionDenied
        case .fileWriteOutOfSpace: .noSpace
        case .fileWriteFileExists: .fileExists
        case .fileWriteVolumeReadOnly: .readOnlyFileSystem
        default: nil
        }
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
        case .io, .interrupted: self = .io
        }
    }

    /// The process exit code for any error: 1, 2 or 3 by kind (an unknown error is an I/O failure),
    /// and 128 + the signal number for an interruption, as shells report a process a signal ended.
    public static func code(for error: any Error) -> Int32 {
        let error = TritonPackError.from(error)
        if error.kind == .interrupted, let signal = error.signal { return 128 + signal }
        return ExitStatus(error.kind).rawValue
    }
}
