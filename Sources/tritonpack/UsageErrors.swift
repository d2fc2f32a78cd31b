import ArgumentParser
import Foundation
import TritonPackKit

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
