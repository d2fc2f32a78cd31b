import ArgumentParser
import Foundation
import TritonPackKit

struct PackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Pack a saved OneFlow graph or an ONNX model into a Triton model repository as a new version.",
        discussion: """
            Writes <repo>/<name>/<version>/model/ for a OneFlow graph, <version>/model.onnx (or the folder form \
            model.onnx/ with external data) for ONNX (every file byte-identical, with a SHA-256 manifest) \
            and <repo>/<name>/config.pbtxt. Everything is staged beside the repository and renamed into \
            place, so a polling server never sees a partial version; existing versions are never overwritten.

            Examples:
              tritonpack pack samples/oneflow/fast_neural_style/model --repo model_repository
              tritonpack pack model.onnx --repo model_repository --name resnet --model-version 3
              tritonpack pack model.onnx --repo model_repository --link --format json
              tritonpack pack samples/oneflow/style_transfer/model --repo model_repository --runtime oneflow-python --pipeline image
            """)

    @Argument(
        help: "The folder flow.save(graph, dir) wrote (model.mlir + variable folders), or an ONNX file.",
        completion: .file(), transform: nonEmptyPath)
    var model: String

    @Option(
        help: "The model repository (created if missing), or s3://host:port/bucket/prefix (the bucket must exist).",
        completion: .directory, transform: nonEmptyPath)
    var repo: String

    @Option(help: "The model version to create (default: the next free one, starting at 1).", transform: parseModelVersion)
    var modelVersion: Int64?

    @OptionGroup var flags: ConfigFlags

    @OptionGroup var pipeline: PipelineFlags

    @Flag(help: "Replace an existing config.pbtxt whose inputs or outputs differ from the model's.")
    var updateConfig = false

    @Flag(help: "Hard-link files instead of copying them (same filesystem only; falls back to copying).")
    var link = false

    @OptionGroup var sync: SyncOptions

    @OptionGroup var writer: WriterOptions

    @OptionGroup var output: OutputOptions

    func run() async throws {
        Interruption.install()
        try await reportingFailures(format: writer.format, command: "pack") {
            var packable = try flags.packable(at: model, placeEnvironment: true, verbose: output.verbose) {
                output.warning("note: \($0)")
            }
            if pipeline.pipeline != nil {
                return try await packPipeline(&packable)
            }
            let repository = try namedRepository(repo)
            let request = PackRequest(
                repository: repository, version: modelVersion, updateConfig: updateConfig, link: link,
                lockTimeout: writer.lockTimeout, durable: !sync.noSync)
            if let root = repository.store.localRoot {
                output.verboseDetail("staging beside \(root.standardizedFileURL.path), then one rename into place")
            } else {
                output.verboseDetail("uploading unserved, then one config write that switches the served versions")
            }
            let result = try await output.withProgress("packing", json: writer.format == .json) {
                try await Packer(request, onWait: { printError($0) }).pack(packable)
            }
            let warnings = result.warnings.map { (file: $0.config, message: $0.advice(modelDirectory: result.modelDirectory)) }
            switch writer.format {
            case .json:
                try printJSON(
                    JSONReport(
                        ok: true, command: "pack", warnings: warnings.map { ReportedProblem(warning: $0.message, file: $0.file) },
                        payload: ResultPayload(result: result)))
            case .text:
                print("packed \(result.model) version \(result.version) into \(result.versionDirectory)")
                output.detail("  \(result.files) files, \(ByteSize.human(result.bytes))\(result.linked ? ", hard-linked" : "")")
                output.detail("  config.pbtxt: \(result.config.rawValue)")
                output.detail("  manifest digest: sha256:\(result.digest)")
                for note in result.notes { output.detail("  note: \(note)") }
                for warning in warnings { output.warning("warning: \(warning.file): \(warning.message)") }
            }
        }
    }
}

extension PackCommand {
    /// `--pipeline image`: the model and its three pipeline models, the ensemble published last.
    func packPipeline(_ packable: inout PackableModel) async throws {
        let options = try flags.options(defaultName: packable.config.name)
        let (plan, steps) = try ImagePipeline.prepare(
            &packable, options: options, pipeline: pipeline.options, placeEnvironment: true
        ) { output.warning("note: \($0)") }
        let repository = try namedRepository(repo)
        let request = PackRequest(
            repository: repository, version: modelVersion, updateConfig: updateConfig, link: link,
            lockTimeout: writer.lockTimeout, durable: !sync.noSync)
        let model = packable
        let result = try await output.withProgress("packing", json: writer.format == .json) {
            try await PipelinePacker(request, onWait: { printError($0) }).pack(model, pipeline: plan, steps: steps)
        }
        switch writer.format {
        case .json:
            let main = result.models.first { $0.model == plan.model }!
            try printJSON(
                JSONReport(
                    ok: true, command: "pack", warnings: [],
                    payload: PipelinePayload(result: main, pipeline: result)))
        case .text:
            for packed in result.models {
                print("packed \(packed.model) version \(packed.version) into \(packed.versionDirectory)")
                output.detail("  config.pbtxt: \(packed.config.rawValue)")
                for note in packed.notes { output.detail("  note: \(note)") }
            }
            print(
                "pipeline \(result.ensemble): IMAGE (JPEG, PNG or WebP) -> \(result.output), pinned to version \(result.version) of \(plan.models.dropLast().joined(separator: ", "))"
            )
        }
    }
}

struct PipelinePayload: Encodable {
    var result: PackResult
    var pipeline: PipelinePackResult
}
