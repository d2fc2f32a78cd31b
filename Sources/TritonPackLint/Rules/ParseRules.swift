import Foundation
import TritonPackRepository

/// P0/P1: the config must parse with libprotobuf's text-format parser, as Triton reads it.
package struct ConfigSyntaxRule: LintRule {
    public static let description = RuleDescription(
        identifier: "config-syntax", name: "Config syntax", severity: .error, phase: .poll, catalog: ["P0", "P1"],
        summary:
            "config.pbtxt must parse as inference.ModelConfig text format (unknown fields, bad values, repeated singular fields and oneof conflicts are refused). Triton 2.51's proto predates model_metrics and ensemble_scheduling.max_inflight_requests: 2.51 refuses them as unknown fields.",
        tritonMessage: "failed to read text proto from {path}",
        triggering: [
            .config("name: \"m\"\nnme↓: \"x\"\nbackend: \"python\""),
            .config("backend: \"python\"\ninput { data_type: TYPE_FLOAT ↓}"),
            .config("backend: \"python\"\ndynamic_batching {}\nsequence_batching ↓{}"),
            // Fields newer than Triton 2.51's model_config.proto.
            .config(
                "backend: \"python\"\nmodel_metrics ↓{ metric_control [ { metric_identifier { family: \"nv_inference_first_response_histogram_ms\" } histogram_options { buckets: [ 1, 10 ] } } ] }"
            ),
            LintExample(files: [
                "config.pbtxt":
                    "platform: \"ensemble\"\nensemble_scheduling { max_inflight_requests↓: 4 step [ { model_name: \"a\" } ] }",
                "1/.keep": "",
            ]),
        ],
        nonTriggering: [.config("backend: \"python\" # comment\nmax_batch_size: 0, max_batch_size: 2")],
        tritonSource: [
            "core src/filesystem/api.cc ReadTextProto (TextFormat::ParseFromString, default options)",
            "the model_config.proto of Triton 2.51 (r24.10) has no model_metrics and no ensemble_scheduling.max_inflight_requests (seen refused by the 2.51 server)",
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        guard let file = model.configFile else { return }
        if let readError = model.readError {
            report.report(readError, file: file)
        } else if let error = model.syntaxError {
            report.report(
                "Error parsing text-format inference.ModelConfig: \(error.position.line):\(error.position.column): \(error.message) (Triton: failed to read text proto from \(model.directory.appendingPathComponent(file).path))",
                file: file, line: error.position.line, column: error.position.column)
        }
    }
}

/// L5/R55: a model needs a config unless auto-complete is on and its backend can derive one.
package struct MissingConfigRule: LintRule {
    public static let description = RuleDescription(
        identifier: "config-missing", name: "Missing config", severity: .error, phase: .pollWithoutAutoComplete,
        catalog: ["L5", "R55"],
        summary:
            "Without config.pbtxt, only the TensorRT, ONNX Runtime, OpenVINO and Python backends can derive a config (and only with auto-complete on); the OneFlow backend's auto-complete numbers inputs in hash-map order.",
        tritonMessage: "model configuration is not provided for model '{model}'",
        triggering: [
            LintExample(model: "m.custom", files: ["1/model.custom": ""], fileLevel: ["config.pbtxt"]),
            LintExample(model: "m", files: ["1/weights.bin": ""], autoComplete: false, fileLevel: ["config.pbtxt"]),
        ],
        nonTriggering: [LintExample(files: ["1/model.py": ""])])

    package static let canDerive: Set<String> = ["tensorrt", "onnxruntime", "openvino", "python"]

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        guard model.configFile == nil else { return }
        let path = model.directory.appendingPathComponent(ModelRepository.configFileName).path
        // Without auto-complete the config is read before the backend is looked for
        // (core model_repository_manager.cc InitializeModelInfo), so its absence is reported first.
        if !context.options.autoComplete {
            report.report(
                "failed to open text file for read \(path): No such file or directory", file: ModelRepository.configFileName)
        } else if model.backendDetectionError == nil && !Self.canDerive.contains(model.config.backend) {
            report.report(
                "model configuration is not provided for model '\(model.name)'", file: ModelRepository.configFileName)
        }
    }
}
