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

/// A failure already reported in the requested format; only the exit status is left to give.
struct ReportedFailure: Error {
    var status: Int32

    init(status: ExitStatus) { self.status = status.rawValue }
    init(code: Int32) { status = code }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
}
