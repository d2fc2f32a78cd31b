import ArgumentParser
import Foundation
import TritonPackKit

@main
struct Tritonpack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tritonpack",
        abstract: "Turn OneFlow saved graphs and ONNX models into Triton Inference Server model repositories that load the first time.",
        discussion: """
            Exit codes: 0 success; 1 the model, config or repository was refused (details on stderr, \
            or in the JSON with --format json); 2 usage error; 3 an I/O or environment failure.
            """,
        version: TritonPack.version,
        subcommands: [
            ConfigCommand.self, PackCommand.self, LintCommand.self, VersionsCommand.self, VersionCommand.self,
            PromoteCommand.self, RollbackCommand.self, SmokeCommand.self, BundleCommand.self, RulesCommand.self,
        ]
    )

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as TritonPackError {
            exitWith(error)
        } catch let error as SavedGraphRefused {
            printError(error.description)
            Foundation.exit(ExitStatus.refused.rawValue)
        } catch let error as ReportedFailure {
            Foundation.exit(error.status.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            printError(fullMessage(for: error))
            Foundation.exit(code == .validationFailure ? ExitStatus.usage.rawValue : code.rawValue)
        }
    }

    static func exitWith(_ error: TritonPackError) -> Never {
        printError("error: \(error.description)")
        Foundation.exit(ExitStatus(error.kind).rawValue)
    }
}

/// A failure already reported in the requested format; only the exit status is left to give.
struct ReportedFailure: Error {
    var status: ExitStatus
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// Prints a JSON document on stdout with stable key order.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// The JSON shape of a refusal: every problem with the file it concerns.
struct ErrorReport: Encodable {
    struct Problem: Encodable {
        var file: String?
        var line: Int?
        var message: String
    }
    var ok = false
    var errors: [Problem]
}

/// Runs `body`; in JSON mode a failure is also reported as JSON on stdout.
func reportingFailures(format: OutputFormat, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as TritonPackError where format == .json {
        try printJSON(ErrorReport(errors: [.init(file: error.file, line: nil, message: error.message)]))
        printError("error: \(error.description)")
        throw ReportedFailure(status: ExitStatus(error.kind))
    } catch let error as SavedGraphRefused where format == .json {
        try printJSON(
            ErrorReport(
                errors: error.problems.map {
                    .init(file: "\(error.directory)/\($0.file)", line: $0.line, message: $0.message)
                }))
        printError(error.description)
        throw ReportedFailure(status: .refused)
    }
}
