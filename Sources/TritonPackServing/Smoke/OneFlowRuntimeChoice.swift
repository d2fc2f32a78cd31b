import Foundation
import TritonPackModels
import TritonPackRepository

/// Which runtime serves a OneFlow model in smoke: the server's `oneflow` backend, or OneFlow's
/// own runtime through a Python-backend serving copy.
package enum OneFlowRuntimeChoice {
    /// Which runtime executes a OneFlow model, and why; for OneFlow's Python runtime, the serving
    /// copy written into `copy` (returned), else nil (the repository is served as it is).
    package static func choose(
        _ options: SmokeOptions, versions: ModelDirectory, servingConfig: Inference_ModelConfig, executable: URL, into copy: URL
    )
        throws -> (RuntimeChoice, URL?)
    {
        let installation = TritonInstallation(executable: executable)
        let choice: RuntimeChoice
        switch options.runtime {
        case .auto:
            choice =
                installation.backendLibrary(OneFlowBackend.backendName).map {
                    RuntimeChoice(
                        name: SmokeRuntime.oneflowBackend.rawValue, reason: "the server has the oneflow backend (\($0.path))")
                }
                ?? RuntimeChoice(
                    name: OneFlowPythonServing.runtimeName,
                    reason:
                        "this tritonserver has no oneflow backend (no libtriton_oneflow.so in its backends), so OneFlow's own runtime ran the packed graph through a Python-backend model"
                )
        case .oneflowBackend:
            choice = RuntimeChoice(name: SmokeRuntime.oneflowBackend.rawValue, reason: "--runtime oneflow-backend")
        case .oneflowPython:
            choice = RuntimeChoice(name: OneFlowPythonServing.runtimeName, reason: "--runtime oneflow-python")
        }
        guard choice.name == OneFlowPythonServing.runtimeName else { return (choice, nil) }
        let python = try OneFlowPython.locate(explicit: options.oneflowPython)
        guard let stub = installation.pythonStub(version: python.version) else {
            throw TritonPackError.io(
                executable.path,
                "this tritonserver has no Python-backend stub for Python \(python.version) (OneFlow's Python): set TRITONPACK_PYTHON_STUB to one built for this server"
            )
        }
        try OneFlowPythonServing.writeModel(
            from: versions.directory, versions: try versions.served(), config: servingConfig, python: python, stub: stub,
            into: copy)
        return (choice, copy)
    }
}
