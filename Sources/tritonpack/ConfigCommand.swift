import ArgumentParser
import Foundation
import TritonPackKit

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the config.pbtxt generated for a saved OneFlow graph or an ONNX model.",
        discussion: """
            Examples:
              tritonpack config samples/oneflow/fast_neural_style/model
              tritonpack config model.onnx --max-batch-size 8 --dynamic-batching
              tritonpack config model.onnx --format json | jq .signature
            """)

    @Argument(
        help: "The folder flow.save(graph, dir) wrote (model.mlir + variable folders), or an ONNX file.",
        completion: .file(), transform: nonEmptyPath)
    var model: String

    @OptionGroup var flags: ConfigFlags

    @Option(help: "text: the config.pbtxt; json: the config text with the model's signature.")
    var format: OutputFormat = .text

    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await reportingFailures(format: format, command: "config") {
            let packable = try flags.packable(at: model, verbose: output.verbose) { output.verboseDetail($0) }
            switch format {
            case .text:
                for note in packable.notes { output.warning("note: \(note)") }
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
