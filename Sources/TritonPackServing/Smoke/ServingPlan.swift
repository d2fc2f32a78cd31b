import Foundation
import TritonPackModels
import TritonPackRepository

/// What smoke and tune serve for one model: the repository the server reads (the user's, or a
/// temporary serving copy in the work folder), the server's extra arguments, and why.
package struct ServingPlan: Sendable {
    /// The model's config as written in the user's repository.
    package var config: Inference_ModelConfig
    package var repository: URL
    package var executable: URL
    package var serverArguments: [String]
    package var runtime: RuntimeChoice?
    package var notes: [String]
    package var device: String
    package var gpus: [String]

    /// The config of the model the server actually loads (a serving copy's, where there is one).
    package func servedConfig(model: String) throws -> Inference_ModelConfig {
        try ModelDirectory.local(model, in: repository).config()
    }
}

extension SmokeTest {
    /// Decides how the model is served: a KIND_CPU copy without a GPU (with `--cpu`), OneFlow's
    /// runtime or onnxruntime through a Python-backend copy where the server lacks the backend,
    /// the Python-backend stub for the model's Python; copies go under `work`.
    package func plan(work: URL) async throws -> ServingPlan {
        let versions = try ModelDirectory.local(options.model, in: options.repository)
        try versions.requireModel()
        let config = try versions.config()
        let gpus = try await OffPool.run { GPUs.names() }
        var report = SmokeReport(
            model: options.model, device: gpus.isEmpty ? "CPU (no GPU on this machine)" : gpus.joined(separator: "; "))
        var repository = options.repository

        var servingConfig = config
        if config.wantsGPU && gpus.isEmpty {
            guard options.cpu else {
                throw TritonPackError.refused(
                    versions.configPath,
                    "the config asks for KIND_GPU but this machine has no GPU", code: .noGPU)
            }
            servingConfig = config.onCPU
            report.notes.append("no GPU here: ran a temporary copy with KIND_GPU instance groups turned into KIND_CPU (--cpu)")
        }

        let executable = try TritonServer.locate(explicit: options.server)
        let servingCopy = work.appendingPathComponent("repository")
        if config.backend == OneFlowBackend.backendName {
            let (choice, served) = try await OffPool.run { [self, servingConfig] in
                try OneFlowRuntimeChoice.choose(
                    options, versions: versions, servingConfig: servingConfig, executable: executable, into: servingCopy)
            }
            report.runtime = choice
            repository = served ?? repository
        }
        if config.platform == "onnxruntime_onnx" || config.backend == "onnxruntime" {
            let (choice, served) = try await OffPool.run { [servingConfig] in
                try ONNXRuntimePythonServing.choose(
                    versions: versions, servingConfig: servingConfig, executable: executable, into: servingCopy)
            }
            report.runtime = choice
            repository = served ?? repository
        }
        var serverArguments: [String] = []
        if config.backend == "python",
            let python = config.parameters[ExecutionEnvironment.pythonVersionParameter]?.stringValue, !python.isEmpty
        {
            report.runtime = RuntimeChoice(
                name: OneFlowServingRuntime.oneflowPython.rawValue,
                reason:
                    "the model runs OneFlow's own runtime in the Python backend, in the Python \(python) environment its config names (pack --runtime oneflow-python)"
            )
            if let backends = try TritonInstallation(executable: executable).backends(
                withPythonStubFor: python, in: work.appendingPathComponent("backends"))
            {
                serverArguments += ["--backend-directory", backends.path]
                report.notes.append(
                    "this tritonserver's own Python-backend stub does not embed Python \(python): served with its stub for \(python), as a server whose backend has that stub"
                )
            }
        }
        if repository == options.repository && servingConfig != config {
            try FileManager.default.createDirectory(at: servingCopy, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: versions.directory, to: servingCopy.appendingPathComponent(options.model))
            let copyConfig = servingCopy.appendingPathComponent("\(options.model)/\(ModelRepository.configFileName)")
            try? FileManager.default.removeItem(at: copyConfig)
            try Data(servingConfig.pbtxt.utf8).write(to: copyConfig)
            repository = servingCopy
        }

        return ServingPlan(
            config: config, repository: repository, executable: executable, serverArguments: serverArguments,
            runtime: report.runtime, notes: report.notes, device: report.device, gpus: gpus)
    }
}
