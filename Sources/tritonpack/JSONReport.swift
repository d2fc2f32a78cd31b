import ArgumentParser
import Foundation
import TritonPackKit

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
