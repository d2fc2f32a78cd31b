import ArgumentParser
import Foundation
import TritonPackKit

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the config.pbtxt generated for a saved OneFlow graph or an ONNX model.")

    @Argument(
        help: "The folder flow.save(graph, dir) wrote (model.mlir + variable folders), or an ONNX file.",
        transform: nonEmptyPath)
    var model: String

    @OptionGroup var flags: ConfigFlags

    @Option(help: "text: the config.pbtxt; json: the config text with the model's signature.")
    var format: OutputFormat = .text

    func run() async throws {
        try await reportingFailures(format: format, command: "config") {
            let packable = try flags.packable(at: model)
            switch format {
            case .text:
                for note in packable.notes { printError("note: \(note)") }
                print(packable.config.pbtxt, terminator: "")
            case .json:
                struct Output: Encodable {
                    var name: String
                    var config: String
                    var signature: Signature
                    var notes: [String]
                }
                let output = Output(
                    name: packable.config.name, config: packable.config.pbtxt, signature: packable.signature,
                    notes: packable.notes)
                try printJSON(JSONReport(ok: true, command: "config", payload: output))
            }
        }
    }
}
