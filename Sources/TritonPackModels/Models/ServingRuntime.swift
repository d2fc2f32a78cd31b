import Foundation

/// How a saved OneFlow graph is served by Triton.
public enum OneFlowServingRuntime: String, CaseIterable, Codable, Sendable {
    /// OneFlow Serving's `oneflow` backend (builds only against Triton r21.10/r23.10).
    case oneflowBackend = "oneflow-backend"
    /// Triton's Python backend running OneFlow's own runtime in an execution environment: any
    /// current Triton with a Python-backend stub for the environment's Python.
    case oneflowPython = "oneflow-python"
    /// Converted to ONNX, verified against OneFlow's answers, served by the onnxruntime backend.
    case onnx
}

/// Where the Python (with OneFlow) of a `oneflow-python` model comes from on the servers: the
/// Python backend's `EXECUTION_ENV_PATH`, which it extracts (an archive) or uses as it is (a
/// folder), then activates before it starts the stub (python_backend `src/pb_env.cc`).
public struct ExecutionEnvironment: Equatable, Sendable {
    public enum Location: Equatable, Sendable {
        /// An archive `pack` places in the model folder, once per model (not per version).
        case modelFile(String)
        /// An archive or an extracted environment already present at this path on the servers.
        case serverPath(String)
    }

    public static let parameterName = "EXECUTION_ENV_PATH"
    /// The config parameter recording which Python the server's stub must embed.
    public static let pythonVersionParameter = "tritonpack_python_version"
    /// Replaced by the model's folder in the parameter's value (python_backend's README).
    public static let modelDirectoryVariable = "$$TRITON_MODEL_DIRECTORY"

    public var location: Location
    /// `major.minor` of the environment's Python, which the server's Python-backend stub must link.
    public var pythonVersion: String

    public init(location: Location, pythonVersion: String) {
        self.location = location
        self.pythonVersion = pythonVersion
    }

    public var parameterValue: String {
        switch location {
        case .modelFile(let name): "\(Self.modelDirectoryVariable)/\(name)"
        case .serverPath(let path): path
        }
    }

    /// The model-folder file a config's `EXECUTION_ENV_PATH` names, if it names one.
    public static func modelFile(namedBy config: Inference_ModelConfig) -> String? {
        guard let value = config.parameters[parameterName]?.stringValue,
            value.hasPrefix(modelDirectoryVariable + "/")
        else { return nil }
        let name = String(value.dropFirst(modelDirectoryVariable.count + 1))
        return name.isEmpty || name.contains("/") ? nil : name
    }
}
