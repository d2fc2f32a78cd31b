import ArgumentParser
import Foundation
import TritonPackKit

struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Pack a saved OneFlow graph or an ONNX model into a Triton model repository as a new version.",
        discussion: """
            Writes <repo>/<name>/<version>/model/ for a OneFlow graph, <version>/model.onnx (or the folder form
            model.onnx/ with external data) for ONNX (every file byte-identical, with a SHA-256 manifest)
            and <repo>/<name>/config.pbtxt. Everything is staged beside the repository and renamed into
            place, so a polling server never sees a partial version; existing versions are never overwritten.
            """)

    @Argument(
        help: "The folder flow.save(graph, dir) wrote (model.mlir + variable folders), or an ONNX file.",
        transform: nonEmptyPath)
    var model: String

    @Option(help: "The model repository (created if missing).", transform: nonEmptyPath)
    var repo: String

    @Option(help: "The model version to create (default: the next free one, starting at 1).", transform: parseModelVersion)
    var modelVersion: Int64?

    @OptionGroup var flags: ConfigFlags

    @Flag(help: "Replace an existing config.pbtxt whose inputs or outputs differ from the model's.")
    var updateConfig = false

    @Flag(help: "Hard-link files instead of copying them (same filesystem only; falls back to copying).")
    var link = false

    @Flag(help: "Skip fsync before publishing (faster; for throw-away repositories: a power loss may then leave a version with missing data).")
    var noSync = false

    @Option(help: "Seconds to wait for another tritonpack writing the same repository.")
    var lockTimeout: Double = 60

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    func run() throws {
        Interruption.install()
        try reportingFailures(format: format, command: "pack") {
            let packable = try flags.packable(at: model)
            let request = PackRequest(
                repository: ModelRepository(root: URL(fileURLWithPath: repo)), version: modelVersion,
                updateConfig: updateConfig, link: link, lockTimeout: lockTimeout, durable: !noSync)
            let result = try Packer(request, onWait: { printError($0) }).pack(packable)
            switch format {
            case .json:
                try printJSON(JSONReport(ok: true, command: "pack", payload: ResultPayload(result: result)))
            case .text:
                let megabytes = String(format: "%.1f", Double(result.bytes) / 1_000_000)
                print("packed \(result.model) version \(result.version) into \(result.versionDirectory)")
                print("  \(result.files) files, \(megabytes) MB\(result.linked ? ", hard-linked" : "")")
                print("  config.pbtxt: \(result.config.rawValue)")
                print("  manifest digest: sha256:\(result.digest)")
                for note in result.notes { print("  note: \(note)") }
            }
        }
    }
}
