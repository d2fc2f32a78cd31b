import Foundation
import TritonPackModels
import TritonPackServing

/// What a bundle carries so that `run.sh` can serve its OneFlow models where no Triton has the
/// `oneflow` backend: OneFlow's runtime (`model.py`, `oneflow_runner.py`) and, per model, the
/// configs for each way of serving it. `run.sh` links each version's `model/` beside the runtime.
package enum BundledOneFlowRuntime {
    package static let folder = "oneflow_runtime"

    /// `python.pbtxt` (the Python backend, instance groups as packed), `python-cpu.pbtxt` and
    /// `oneflow-cpu.pbtxt` (KIND_CPU, for machines without a GPU).
    package static func files(for configs: [Inference_ModelConfig]) -> [(path: String, text: String)] {
        guard !configs.isEmpty else { return [] }
        var files = OneFlowPythonServing.runtimeFiles.map { ("\(folder)/\($0.path)", $0.text) }
        for config in configs {
            files.append(("\(folder)/\(config.name)/python.pbtxt", OneFlowPythonServing.config(for: config, python: nil).pbtxt))
            files.append(
                ("\(folder)/\(config.name)/python-cpu.pbtxt", OneFlowPythonServing.config(for: config.onCPU, python: nil).pbtxt))
            files.append(("\(folder)/\(config.name)/oneflow-cpu.pbtxt", config.onCPU.pbtxt))
        }
        return files
    }
}
