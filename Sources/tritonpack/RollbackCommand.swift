import ArgumentParser
import Foundation
import TritonPackKit

struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Serve the previous (or given) version again by pinning the version policy to it.",
        discussion: """
            The rolled-back version stays on disk, unserved; `tritonpack version policy` undoes the pin.

            Examples:
              tritonpack rollback production/resnet
              tritonpack rollback production/resnet --model-version 2
              tritonpack rollback production/resnet --server http://a:8000 --server http://b:8000

            With --server, the running explicit-mode servers are rolled back too, through the same steps as \
            `tritonpack rollout` (checked on each server before traffic moves; the repository last).
            """)

    @Argument(help: "The model folder.", completion: .directory, transform: nonEmptyPath)
    var model: String

    @Option(help: "The model version to serve (default: the newest below the newest served).", transform: parseModelVersion)
    var modelVersion: Int64?

    @OptionGroup var writer: WriterOptions

    @OptionGroup var fleet: FleetOptions

    @OptionGroup var output: OutputOptions

    func run() async throws {
        if !fleet.servers.isEmpty {
            Interruption.install()
            return try await reportingFailures(format: writer.format, command: "rollout") {
                let operations = try versionOperations(model, lockTimeout: writer.lockTimeout)
                let directory = try await operations.repository.model(operations.name)
                try directory.requireModel()
                let version = try VersionOperations.rollbackTarget(directory, explicit: modelVersion)
                guard let root = operations.repository.store.localRoot else {
                    throw TritonPackError.usage("rollback --server needs the repository the servers read as a folder")
                }
                let options = try fleet.options(
                    repository: root.path, model: operations.name, version: version, lockTimeout: writer.lockTimeout)
                try await RolloutPrinter(format: writer.format, output: output).run(
                    Rollout(options: options) { output.warning($0) })
            }
        }
        try await reportingFailures(format: writer.format, command: "rollback") {
            let result = try await versionOperations(model, lockTimeout: writer.lockTimeout).rollback(to: modelVersion)
            switch writer.format {
            case .json:
                try printJSON(JSONReport(ok: true, command: "rollback", payload: ResultPayload(result: result)))
            case .text:
                print(
                    "rolled back: served \(result.previouslyServed.map(String.init).joined(separator: ", ")), now \(result.served.map(String.init).joined(separator: ", "))"
                )
            }
        }
    }
}
