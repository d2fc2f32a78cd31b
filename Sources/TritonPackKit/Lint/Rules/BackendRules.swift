import Foundation

/// L12: the backend library must exist on the target.
public struct BackendLibraryRule: LintRule {
    public static let description = RuleDescription(
        identifier: "backend-library", name: "Backend library", severity: .error, catalog: ["L12"],
        summary: "The backend must be one the target serves: found in the version folder, the model folder, or the backend directory (--backend-directory; default: the backends Triton's images ship, plus oneflow).",
        tritonMessage: "unable to find backend library for backend '{backend}', try specifying runtime on the model configuration.",
        triggering: [LintExample(model: "m.unknown", files: ["config.pbtxt": "max_batch_size: 1", "1/model.unknown": ""])],
        nonTriggering: [.config("backend: \"python\"")])

    /// Backends shipped in NVIDIA's Triton images (and the OneFlow Serving image's `oneflow`).
    static let knownBackends: Set<String> = [
        "tensorrt", "onnxruntime", "pytorch", "tensorflow", "openvino", "python", "dali", "fil", "identity", "repeat",
        "square", "vllm", "tensorrtllm", "oneflow",
    ]

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        let config = model.config
        let backend = config.backend
        guard !backend.isEmpty, config.platform != "ensemble" else { return }
        let library = "libtriton_\(backend).so"
        let runtime = config.runtime
        if !runtime.isEmpty && runtime != "model.py" && !runtime.hasSuffix(".so") { return }
        let local = model.availableVersions.map { "\($0)/\(library)" } + [library]
        if local.contains(where: { POSIXFiles.isRegularFile(model.directory.appendingPathComponent($0).path) }) { return }
        if let directory = context.options.backendDirectory {
            let folder = directory.appendingPathComponent(backend)
            if POSIXFiles.isRegularFile(folder.appendingPathComponent(library).path)
                || POSIXFiles.isRegularFile(folder.appendingPathComponent("model.py").path)
            {
                return
            }
        } else if Self.knownBackends.contains(backend) {
            return
        }
        report.report(
            "Invalid argument: unable to find backend library for backend '\(backend)', try specifying runtime on the model configuration.",
            at: "backend")
    }
}

/// O1 and its counterparts: each served version must hold the file its backend loads.
public struct ModelFileRule: LintRule {
    public static let description = RuleDescription(
        identifier: "model-file", name: "Model file present", severity: .error, catalog: ["L11", "O1"],
        summary: "Every served version folder holds the model file its backend loads (default_model_filename or the backend's default: model.onnx, model.plan, model.pt, model.py, model.savedmodel, model.graphdef, model.xml, model/ for OneFlow).",
        tritonMessage: "unable to find '{path}' for model instance '{model}'",
        triggering: [LintExample(files: ["config.pbtxt": "backend: \"python\"", "1/other.py": ""])],
        nonTriggering: [LintExample(files: ["config.pbtxt": "backend: \"python\"", "1/model.py": ""])])

    public init() {}

    static func expectedFile(_ config: Inference_ModelConfig) -> String? {
        if !config.defaultModelFilename.isEmpty { return config.defaultModelFilename }
        switch config.backend {
        case "onnxruntime": return "model.onnx"
        case "tensorrt": return "model.plan"
        case "pytorch": return config.platform == "torch_aoti" ? "model.pt2" : "model.pt"
        case "python": return "model.py"
        case "openvino": return "model.xml"
        case OneFlowBackend.backendName: return OneFlowBackend.modelFolder
        case "tensorflow": return config.platform == "tensorflow_savedmodel" ? "model.savedmodel" : "model.graphdef"
        default: return nil
        }
    }

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        guard model.config.platform != "ensemble", let file = Self.expectedFile(model.config) else { return }
        for version in model.servedVersions {
            let relative = "\(version)/\(file)"
            let path = model.directory.appendingPathComponent(relative).path
            if !POSIXFiles.exists(path) {
                report.report("unable to find '\(path)' for model instance '\(model.config.name)'", file: relative)
            }
        }
    }
}

/// Batch inputs and outputs work only with custom backends and TensorRT.
public struct BatchIOSupportRule: LintRule {
    public static let description = RuleDescription(
        identifier: "batch-io-support", name: "Batch I/O support", severity: .error,
        summary: "The ONNX Runtime, PyTorch and TensorFlow backends refuse batch_input and batch_output.",
        tritonMessage: "batch inputs and batch outputs are only supported for custom platform and TensorRT platform",
        triggering: [.config("platform: \"onnxruntime_onnx\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1 ] } ]\nbatch_input [ { kind: BATCH_ELEMENT_COUNT target_name: \"B\" data_type: TYPE_FP32 source_input: \"x\" } ]", extra: ["1/model.onnx": ""])],
        nonTriggering: [.config("backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1 ] } ]\nbatch_input [ { kind: BATCH_ELEMENT_COUNT target_name: \"B\" data_type: TYPE_FP32 source_input: \"x\" } ]")])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let config = context.model.config
        guard !config.batchInput.isEmpty || !config.batchOutput.isEmpty,
            ["onnxruntime", "pytorch", "tensorflow"].contains(config.backend)
        else { return }
        report.report(
            "batch inputs and batch outputs are only supported for custom platform and TensorRT platform",
            at: config.batchInput.isEmpty ? "batch_output" : "batch_input")
    }
}
