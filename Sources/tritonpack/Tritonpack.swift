import ArgumentParser
import Foundation
import TritonPackKit

@main
struct Tritonpack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tritonpack",
        abstract:
            "Turn OneFlow saved graphs and ONNX models into Triton Inference Server model repositories that load the first time.",
        discussion: """
            Exit codes: 0 success; 1 the model, config or repository was refused (details on stderr, \
            or in the JSON with --format json); 2 usage error; 3 an I/O or environment failure.
            """,
        version: TritonPack.version,
        subcommands: [
            ConfigCommand.self, PackCommand.self, LintCommand.self, VersionsCommand.self, VersionCommand.self,
            PromoteCommand.self, RollbackCommand.self, RolloutCommand.self, SmokeCommand.self, TuneCommand.self,
            BundleCommand.self,
            RulesCommand.self,
        ]
    )

    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let misuse = MisplacedVersionFlag.find(in: arguments) {
            UsageErrorReport(arguments: arguments).print(misuse)
            printError("error: \(misuse)")
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            if let signal = Interruption.signal { exitWith(TritonPackError.interrupted(by: signal)) }
            if let reported = error as? ReportedFailure { Foundation.exit(reported.status) }
            if error is TritonPackError || !isArgumentParserError(error) { exitWith(TritonPackError.from(error)) }
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if code == .validationFailure { UsageErrorReport(arguments: arguments).print(message(for: error)) }
            printError(fullMessage(for: error))
            Foundation.exit(code == .validationFailure ? ExitStatus.usage.rawValue : code.rawValue)
        }
    }

    /// Errors that swift-argument-parser raises or understands: help, version, validation, exit codes.
    static func isArgumentParserError(_ error: any Error) -> Bool {
        error is ValidationError || error is CleanExit || error is ExitCode
            || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }

    static func exitWith(_ error: TritonPackError) -> Never {
        printError(errorText(error))
        Foundation.exit(ExitStatus.code(for: error))
    }
}

/// How an error reads on stderr: one line per problem.
func errorText(_ error: TritonPackError) -> String {
    if error.kind == .interrupted {
        return "tritonpack: \(error.message); removed what was being written, nothing else changed"
    }
    return "error: \(error.description)"
}

/// `--version` is the tool's version, and only as `tritonpack --version`: a misplaced one used to
/// print the tool's version and exit 0 where the user meant a model version.
enum MisplacedVersionFlag {
    static func find(in arguments: [String]) -> String? {
        if arguments == ["--version"] { return nil }
        let options = arguments.prefix { $0 != "--" }
        guard options.contains(where: { $0 == "--version" || $0.hasPrefix("--version=") }) else { return nil }
        return """
            --version prints tritonpack's version and is only accepted alone, as `tritonpack --version`; \
            a model version is given with --model-version (renamed from --version; see "Renamed options" in docs/user-guide.md)
            """
    }
}

/// A usage error as the JSON envelope on stdout, when the command line asked for `--format json`,
/// so that a CI step reading the JSON has a document even when the arguments were wrong.
struct UsageErrorReport {
    var arguments: [String]

    var wantsJSON: Bool {
        let options = arguments.prefix { $0 != "--" }
        return options.contains("--format=json")
            || zip(options, options.dropFirst()).contains { $0 == "--format" && $1 == "json" }
    }

    /// The subcommand as the JSON names it (`lint`, `version policy`), as far as it can be told.
    var command: String {
        var path: [String] = []
        var commands: [any ParsableCommand.Type] = Tritonpack.configuration.subcommands
        for argument in arguments where !argument.hasPrefix("-") {
            guard let match = commands.first(where: { $0._commandName == argument }) else { break }
            path.append(argument)
            commands = match.configuration.subcommands
        }
        return path.isEmpty ? "tritonpack" : path.joined(separator: " ")
    }

    func print(_ message: String) {
        guard wantsJSON else { return }
        try? printJSON(JSONReport(ok: false, command: command, errors: [ReportedProblem(message: message)], payload: NoPayload()))
    }
}

/// A failure already reported in the requested format; only the exit status is left to give.
struct ReportedFailure: Error {
    var status: Int32

    init(status: ExitStatus) { self.status = status.rawValue }
    init(code: Int32) { status = code }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Prints a JSON document on stdout with stable key order and snake_case keys.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// One problem in a JSON report; the same shape in every command.
struct ReportedProblem: Encodable {
    enum Severity: String, Encodable { case error, warning, info }
    var severity: Severity = .error
    var file: String?
    var line: Int?
    var column: Int?
    var message: String
    var rule: String?
}

/// Every JSON document a command prints: `ok` (true exactly when the exit status is 0), the command,
/// `errors` and `warnings`, then the command's own fields beside them.
struct JSONReport<Payload: Encodable>: Encodable {
    var ok: Bool
    var command: String
    var errors: [ReportedProblem] = []
    var warnings: [ReportedProblem] = []
    var payload: Payload

    private enum CodingKeys: String, CodingKey { case ok, command, errors, warnings }

    func encode(to encoder: any Encoder) throws {
        try payload.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ok, forKey: .ok)
        try container.encode(command, forKey: .command)
        try container.encode(errors, forKey: .errors)
        try container.encode(warnings, forKey: .warnings)
    }
}

/// The payload of a report that has nothing but its problems.
struct NoPayload: Encodable {
    func encode(to encoder: any Encoder) throws {}
}

/// The payload of pack, promote and bundle: what was written, under `result`.
struct ResultPayload<Result: Encodable>: Encodable {
    var result: Result
}

/// Runs `body`; in JSON mode a refusal, failure or interruption is also reported as JSON on stdout.
func reportingFailures(format: OutputFormat, command: String, _ body: () async throws -> Void) async throws {
    try await reportingFailures(command: command, json: format == .json, body)
}

func reportingFailures(command: String, json: Bool, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error where !(error is ReportedFailure) {
        let error = ErrorHints.advised(error, command: command)
        guard json else { throw error }
        throw try reportedAsJSON(error, command: command)
    }
}

/// Prints the JSON envelope for a failure and the error on stderr; what is left to do is exit.
private func reportedAsJSON(_ error: any Error, command: String) throws -> ReportedFailure {
    let failure = Interruption.signal.map { TritonPackError.interrupted(by: $0) } ?? TritonPackError.from(error)
    try printJSON(JSONReport(ok: false, command: command, errors: ReportedProblem.all(failure), payload: NoPayload()))
    printError(errorText(failure))
    return ReportedFailure(code: ExitStatus.code(for: failure))
}

extension ReportedProblem {
    /// The error's own message first, then each of its problems.
    static func all(_ error: TritonPackError) -> [ReportedProblem] {
        var message = error.message
        if error.kind == .interrupted { message += "; removed what was being written, nothing else changed" }
        let head = ReportedProblem(
            file: error.location?.path, line: error.location?.line, column: error.location?.column, message: message)
        return [head]
            + error.problems.map {
                ReportedProblem(
                    file: $0.location?.path, line: $0.location?.line, column: $0.location?.column, message: $0.message,
                    rule: $0.code)
            }
    }

    init(warning message: String, file: String? = nil) {
        self.init(severity: .warning, file: file, message: message)
    }
}
