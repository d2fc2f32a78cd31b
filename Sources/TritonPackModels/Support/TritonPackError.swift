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

    /// The failures that callers tell apart, beyond the kind: what tests assert and what the CLI
    /// adds its advice to. Most errors have none; their message is all there is to say.
    public enum Code: String, Sendable, Codable, CaseIterable {
        /// The version number is taken; versions are never overwritten.
        case versionExists
        /// The named version is not in the model folder.
        case versionNotFound
        /// The named model folder does not exist.
        case modelNotFound
        /// A folder where a model folder belongs is not one (no config.pbtxt).
        case notModelFolder
        /// A path lies inside a model folder where a repository or another place was expected.
        case insideModelFolder
        /// The model name cannot be served (Triton's HTTP API cannot address it).
        case badModelName
        /// Another tritonpack held the repository's lock for longer than the timeout.
        case lockTimeout
        /// Another tritonpack took the repository's lock over while this one wrote.
        case lockLost
        /// The model's config.pbtxt in the repository does not parse.
        case configUnreadable
        /// The config changed while tritonpack worked from what it read before.
        case configChanged
        /// The packed model's inputs or outputs differ from the config that serves the other versions.
        case signatureChanged
        /// The config serves the model with another runtime than the one this version is packed for.
        case runtimeChanged
        /// A file changed while tritonpack copied, bundled or uploaded it.
        case changedWhileReading
        /// The model is decoupled, and HTTP carries one response per request.
        case decoupledOverHTTP
        /// The model is decoupled, and the operation measures models that answer each request once.
        case decoupledUnsupported
        /// The config asks for a GPU and this machine has none.
        case noGPU
        /// The output file already exists.
        case outputExists
        /// The output path is a folder.
        case outputIsFolder
        /// Lint found errors in what was to be bundled.
        case lintFailed
        /// A symbolic link leads out of the folder being read.
        case linkOutsideFolder
        /// A symbolic link leads back to a folder that contains it.
        case linkLoop
        /// A symbolic link's target does not exist.
        case linkTargetMissing
        /// A template names a placeholder that has no value.
        case unknownPlaceholder
        /// A template holds a file the bundle writes itself.
        case reservedName
        /// An `s3://` URL names a bucket or key that Triton cannot read.
        case s3InvalidPath
        /// The S3 bucket does not exist.
        case s3BucketMissing
        /// The S3 server refused the credentials.
        case s3CredentialsRefused
        /// The S3 endpoint did not answer.
        case s3Unreachable
    }

    public var kind: Kind
    /// What failed, where callers need to tell it from other failures of the same kind.
    public var code: Code?
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
        errno: Errno? = nil, cause: (any Error & Sendable)? = nil, code: Code? = nil
    ) {
        self.kind = kind
        self.code = code
        self.message = message
        self.location = location
        self.problems = problems
        self.errno = errno
        self.cause = cause
    }

    public init(
        _ kind: Kind, file: String? = nil, line: Int? = nil, column: Int? = nil, _ message: String, code: Code? = nil
    ) {
        self.init(kind, message, at: file.map { SourceLocation($0, line: line, column: column) }, code: code)
    }

    public static func refused(_ file: String?, _ message: String, code: Code? = nil) -> TritonPackError {
        TritonPackError(.refused, file: file, message, code: code)
    }

    public static func refused(_ file: String, line: Int, column: Int, _ message: String, code: Code? = nil)
        -> TritonPackError
    {
        TritonPackError(.refused, file: file, line: line, column: column, message, code: code)
    }

    /// Refused for every reason in `problems`, e.g. each unusable file of a saved graph.
    public static func refused(_ message: String, problems: [Problem]) -> TritonPackError {
        TritonPackError(.refused, message, problems: problems)
    }

    public static func usage(_ message: String, code: Code? = nil) -> TritonPackError {
        TritonPackError(.usage, message, code: code)
    }

    public static func io(_ file: String?, _ message: String, code: Code? = nil) -> TritonPackError {
        TritonPackError(.io, file: file, message, code: code)
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
