import Foundation
import TritonPackModels

/// Triton's AutoCompleteBackendFields (rule catalog L10): fills `backend`, `platform` and
/// `default_model_filename` from the config and the files of the first subdirectory, before any
/// validation, whatever the auto-complete mode.
public enum BackendDetection {
    /// Returns Triton's error when no backend can be determined.
    public static func complete(_ config: inout Inference_ModelConfig, modelName: String, directory: URL) -> String? {
        if config.name.isEmpty { config.name = modelName }
        // Only the first subdirectory in byte-wise order is looked at.
        let firstSubdirectory = (try? POSIXFiles.entries(of: directory.path))?.first {
            POSIXFiles.isDirectory(directory.appendingPathComponent($0, isDirectory: false).path)
        }
        let versionPath = firstSubdirectory.map { directory.appendingPathComponent($0, isDirectory: true) }
        let versionEntries: [String] = versionPath.flatMap { try? POSIXFiles.entries(of: $0.path) } ?? []
        func isFile(_ name: String) -> Bool {
            guard let versionPath, versionEntries.contains(name) else { return false }
            return POSIXFiles.isRegularFile(versionPath.appendingPathComponent(name, isDirectory: false).path)
        }
        func isDirectory(_ name: String) -> Bool {
            guard let versionPath, versionEntries.contains(name) else { return false }
            return POSIXFiles.isDirectory(versionPath.appendingPathComponent(name, isDirectory: false).path)
        }
        func has(_ name: String) -> Bool { versionEntries.contains(name) }
        let filenameEmpty = config.defaultModelFilename.isEmpty

        // TensorFlow
        if config.platform.isEmpty && (config.backend.isEmpty || config.backend == "tensorflow") {
            if config.defaultModelFilename == "model.savedmodel" {
                config.platform = "tensorflow_savedmodel"
            } else if config.defaultModelFilename == "model.graphdef" {
                config.platform = "tensorflow_graphdef"
            } else if filenameEmpty {
                if isFile("model.graphdef") {
                    config.platform = "tensorflow_graphdef"
                    config.defaultModelFilename = "model.graphdef"
                } else if isDirectory("model.savedmodel") {
                    config.platform = "tensorflow_savedmodel"
                    config.defaultModelFilename = "model.savedmodel"
                }
            }
        }
        // Whatever set it (the config or the stage above), a TensorFlow platform fills an empty
        // backend and default_model_filename (core model_config_utils.cc AutoCompleteBackendFields,
        // "Fill 'backend' and 'default_model_filename' if missing").
        if config.platform == "tensorflow_savedmodel" || config.platform == "tensorflow_graphdef" {
            if config.backend.isEmpty { config.backend = "tensorflow" }
            if config.defaultModelFilename.isEmpty {
                config.defaultModelFilename =
                    config.platform == "tensorflow_savedmodel" ? "model.savedmodel" : "model.graphdef"
            }
            return nil
        }
        guard config.backend.isEmpty else {
            if config.platform.isEmpty {
                switch config.backend {
                case "tensorrt": config.platform = "tensorrt_plan"
                case "onnxruntime": config.platform = "onnxruntime_onnx"
                case "pytorch": config.platform = "pytorch_libtorch"
                default: break
                }
            }
            return nil
        }
        // TensorRT
        if config.platform == "tensorrt_plan" || config.defaultModelFilename == "model.plan"
            || (config.platform.isEmpty && filenameEmpty && isFile("model.plan"))
        {
            config.backend = "tensorrt"
            if config.platform.isEmpty { config.platform = "tensorrt_plan" }
            if filenameEmpty { config.defaultModelFilename = "model.plan" }
            return nil
        }
        // ONNX Runtime
        if config.platform == "onnxruntime_onnx" || config.defaultModelFilename == "model.onnx"
            || (config.platform.isEmpty && filenameEmpty && has("model.onnx"))
        {
            config.backend = "onnxruntime"
            if config.platform.isEmpty { config.platform = "onnxruntime_onnx" }
            if filenameEmpty { config.defaultModelFilename = "model.onnx" }
            return nil
        }
        // OpenVINO
        if config.defaultModelFilename == "model.xml" || (config.platform.isEmpty && filenameEmpty && has("model.xml")) {
            config.backend = "openvino"
            if filenameEmpty { config.defaultModelFilename = "model.xml" }
            return nil
        }
        // PyTorch
        if ["pytorch_libtorch", "libtorch", "torch_aoti"].contains(config.platform)
            || ["model.pt", "model.pt2"].contains(config.defaultModelFilename)
            || (config.platform.isEmpty && filenameEmpty && (isFile("model.pt") || isFile("model.pt2")))
        {
            config.backend = "pytorch"
            if config.platform.isEmpty {
                config.platform =
                    isFile("model.pt") || config.defaultModelFilename == "model.pt" || !isFile("model.pt2")
                    ? "pytorch_libtorch" : "torch_aoti"
            }
            if config.defaultModelFilename.isEmpty {
                if config.platform == "pytorch_libtorch" { config.defaultModelFilename = "model.pt" }
                if config.platform == "torch_aoti" { config.defaultModelFilename = "model.pt2" }
            }
            return nil
        }
        // Python
        if config.defaultModelFilename == "model.py" || (config.platform.isEmpty && filenameEmpty && has("model.py")) {
            config.backend = "python"
            if filenameEmpty { config.defaultModelFilename = "model.py" }
            return nil
        }
        // Custom: backend from the directory name's first '.'
        if config.platform.isEmpty && filenameEmpty {
            guard let dot = modelName.firstIndex(of: ".") else {
                return
                    "Invalid model name: Could not determine backend for model '\(modelName)' with no backend in model configuration. Expected model name of the form 'model.<backend_name>'."
            }
            let backend = String(modelName[modelName.index(after: dot)...])
            config.backend = backend
            config.defaultModelFilename = "model.\(backend)"
        }
        return nil
    }
}

/// Triton's NormalizeModelConfig (rule catalog N1).
package enum ConfigNormalization {
    public static func normalize(_ config: inout Inference_ModelConfig) {
        if !config.hasVersionPolicy { config.versionPolicy.latest.numVersions = 1 }
        if case .dynamicBatching(var batching)? = config.schedulingChoice {
            if batching.preferredBatchSize.isEmpty && config.maxBatchSize > 0 {
                batching.preferredBatchSize = [config.maxBatchSize]
                config.dynamicBatching = batching
            }
        }
        if case .sequenceBatching(var sequence)? = config.schedulingChoice {
            if sequence.maxSequenceIdleMicroseconds == 0 { sequence.maxSequenceIdleMicroseconds = 1_000_000 }
            if case .oldest(var oldest)? = sequence.strategyChoice, oldest.preferredBatchSize.isEmpty,
                config.maxBatchSize > 0
            {
                oldest.preferredBatchSize = [config.maxBatchSize]
                sequence.oldest = oldest
            }
            config.sequenceBatching = sequence
        }
    }
}
