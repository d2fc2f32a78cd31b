import Foundation
import TritonPackModels

/// L12: the backend library must exist on the target, found as Triton's TritonModel::Create finds
/// it (GetBackendLibrarySearchPaths, GetBackendLibraryProperties, GetBackendRuntimeLibraryName).
package struct BackendLibraryRule: LintRule {
    public static let description = RuleDescription(
        identifier: "backend-library", name: "Backend library", severity: .error, catalog: ["L12"],
        summary:
            "The backend must be one the target serves: libtriton_<backend>.so in the version folder, the model folder or <backend-directory>/<backend>/, else a Python-based backend <backend-directory>/<backend>/model.py (--backend-directory; default: the backends Triton's images ship, plus oneflow). A TensorFlow platform without a backend is the tensorflow backend. A `runtime` names the library instead and is looked up in the same folders (`model.py`: a Python-based backend, which needs the python backend and <backend-directory>/<backend>/model.py); it must not leave the folder it is found in.",
        tritonMessage:
            "unable to find backend library for backend '{backend}', try specifying runtime on the model configuration.",
        triggering: [
            LintExample(
                model: "m.unknown", files: ["config.pbtxt": "max_batch_size: 1", "1/model.unknown": ""],
                fileLevel: ["config.pbtxt"]),
            // A runtime that is in none of the three folders.
            .config("backend: \"python\"\n↓runtime: \"libtriton_custom.so\""),
            // A runtime that leaves the folder it is found in.
            .config(
                "backend: \"identity\"\n↓runtime: \"../dummy_runtime/libtriton_identity.so\"",
                extra: ["dummy_runtime/libtriton_identity.so": ""]),
            // A Python-based backend with no <backend-directory>/<backend>/model.py.
            .config("backend: \"python\"\n↓runtime: \"model.py\""),
        ],
        nonTriggering: [
            .config("backend: \"python\""),
            // A TensorFlow platform alone is the tensorflow backend, which Triton's images ship.
            LintExample(files: ["config.pbtxt": "platform: \"tensorflow_savedmodel\"", "1/model.savedmodel/saved_model.pb": ""]),
            .config("backend: \"python\"\nruntime: \"libtriton_python.so\""),
            .config("backend: \"custom\"\nruntime: \"libcustom.so\"", extra: ["libcustom.so": ""]),
        ],
        tritonSource: [
            "core src/backend_model.cc TritonModel::Create, GetBackendLibrarySearchPaths (<model>/<version>, <model>, <backend-directory>/<backend>), GetBackendLibraryProperties, GetBackendRuntimeLibraryName, FindBackendLibraryPath",
            "core src/model_config_utils.cc AutoCompleteBackendFields (platform tensorflow_savedmodel/tensorflow_graphdef fills backend 'tensorflow'); seen on the 2.51 server: \"unable to find backend library for backend 'tensorflow', try specifying runtime on the model configuration.\" for a platform-only config, no config and an empty config beside 1/model.savedmodel",
        ])

    /// Backends shipped in NVIDIA's Triton images (and the OneFlow Serving image's `oneflow`).
    package static let knownBackends: Set<String> = [
        "tensorrt", "onnxruntime", "pytorch", "tensorflow", "openvino", "python", "dali", "fil", "identity", "repeat",
        "square", "vllm", "tensorrtllm", "oneflow",
    ]

    /// Triton's default --backend-directory.
    package static let defaultDirectory = "/opt/tritonserver/backends"

    /// The files of the default backend directory, relative to it: each known backend's library,
    /// and vLLM's Python-based backend.
    package static let defaultDirectoryFiles: Set<String> = Set(knownBackends.map { "\($0)/libtriton_\($0).so" }).union([
        "vllm/model.py"
    ])

    /// A folder Triton searches: one of the model's own, or one under the backend directory.
    package enum Folder {
        case model(String)
        case backends(String)
    }

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        let config = model.config
        let backend = config.backend
        guard !backend.isEmpty, config.platform != "ensemble" else { return }
        let options = context.options
        let backendDirectory = options.backendDirectory?.path ?? Self.defaultDirectory
        let version = model.servedVersions.first ?? model.availableVersions.last ?? 1
        let modelPath = model.directory.path
        let folders: [Folder] = [.model("\(modelPath)/\(version)"), .model(modelPath), .backends(backend)]
        func path(_ folder: Folder) -> String {
            switch folder {
            case .model(let path): path
            case .backends(let relative): "\(backendDirectory)/\(relative)"
            }
        }
        func exists(_ name: String, in folder: Folder) -> Bool {
            switch folder {
            case .model(let path):
                return POSIXFiles.isRegularFile("\(path)/\(name)")
            case .backends(let relative):
                if let directory = options.backendDirectory {
                    return POSIXFiles.isRegularFile(directory.appendingPathComponent("\(relative)/\(name)").path)
                }
                return Self.defaultDirectoryFiles.contains("\(relative)/\(name)")
            }
        }
        let runtime = config.runtime
        guard !runtime.isEmpty else {
            // GetBackendRuntimeLibraryName: the C++ library, else a Python-based backend.
            if folders.contains(where: { exists("libtriton_\(backend).so", in: $0) })
                || exists("model.py", in: .backends(backend))
            {
                return
            }
            report.report(
                "Invalid argument: unable to find backend library for backend '\(backend)', try specifying runtime on the model configuration.",
                at: "backend")
            return
        }
        // GetBackendLibraryProperties with a runtime: `model.py` is a Python-based backend run by
        // the python backend's library; any other name is the library itself.
        let pythonBased = runtime == "model.py"
        let library = pythonBased ? "libtriton_python.so" : runtime
        let searched = folders + (pythonBased ? [.backends("python")] : [])
        guard let found = searched.first(where: { exists(library, in: $0) }) else {
            report.report(
                "Invalid argument: unable to find backend library '\(library)' for model '\(config.name)', searched: \(searched.map { "'\(path($0))' " }.joined())",
                at: "runtime")
            return
        }
        let folder = path(found)
        let resolved = URL(fileURLWithPath: "\(folder)/\(library)").standardizedFileURL.path
        if !resolved.hasPrefix(URL(fileURLWithPath: folder).standardizedFileURL.path + "/") {
            report.report(
                "Invalid argument: backend library name '\(library)' escapes backend directory '\(folder)', for model '\(config.name)', check model config runtime field",
                at: "runtime")
            return
        }
        if pythonBased && !exists("model.py", in: .backends(backend)) {
            report.report(
                "Invalid argument: unable to find Python backend based backend library 'model.py' for model '\(config.name)', searched: '\(backendDirectory)/\(backend)/model.py'",
                at: "runtime")
        }
    }
}

/// O1 and its counterparts: each served version must hold the file its backend loads.
package struct ModelFileRule: LintRule {
    public static let description = RuleDescription(
        identifier: "model-file", name: "Model file present", severity: .error, catalog: ["L11", "O1"],
        summary:
            "Every served version folder holds the model file its backend loads (default_model_filename or the backend's default: model.onnx, model.plan, model.pt, model.py, model.savedmodel, model.graphdef, model.xml, model/ for OneFlow; DALI: model.dali or default_model_filename, else dali.py, and a default_model_filename with a '/' is warned about).",
        tritonMessage: "unable to find '{path}' for model instance '{model}'",
        triggering: [
            LintExample(files: ["config.pbtxt": "backend: \"python\"", "1/other.py": ""], fileLevel: ["1/model.py"]),
            LintExample(
                files: ["config.pbtxt": "backend: \"dali\"\nmax_batch_size: 2", "1/pipeline.py": ""], fileLevel: ["1/model.dali"]),
            LintExample(
                files: [
                    "config.pbtxt": "backend: \"dali\"\nmax_batch_size: 2\n↓default_model_filename: \"../shared/model.dali\"",
                    "1/other.py": "",
                ], fileLevel: ["1/../shared/model.dali"]),
        ],
        nonTriggering: [
            LintExample(files: ["config.pbtxt": "backend: \"python\"", "1/model.py": ""]),
            // DALI falls back to the pipeline definition 1/dali.py.
            LintExample(files: ["config.pbtxt": "backend: \"dali\"\nmax_batch_size: 2", "1/dali.py": ""]),
            LintExample(files: [
                "config.pbtxt": "backend: \"dali\"\nmax_batch_size: 2\ndefault_model_filename: \"pipe.dali\"", "1/pipe.dali": "",
            ]),
        ],
        tritonSource: [
            "onnxruntime_backend src/onnxruntime.cc LoadModel (O1); core src/constants.h default file names",
            "dali_backend src/dali_model.h DaliModel::LoadModel (model.dali or default_model_filename, then fallback_model_filename_ dali.py)",
        ])

    public init() {}

    package static func expectedFile(_ config: Inference_ModelConfig) -> String? {
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
        if model.config.backend == "dali" {
            checkDALI(model, &report)
            return
        }
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

extension ModelFileRule {
    /// DALI (dali_backend src/dali_model.h `DaliModel` constructor and `LoadModel`): the pipeline is
    /// `<version>/<default_model_filename or model.dali>`, serialized or as a Python definition,
    /// else the fallback `<version>/dali.py`. The name is joined to the version folder as given.
    package func checkDALI(_ model: ModelUnderLint, _ report: inout DiagnosticSink) {
        let configured = model.config.defaultModelFilename
        let file = configured.isEmpty ? "model.dali" : configured
        if file.contains("/") {
            report.report(
                "default_model_filename '\(file)' is not a plain file name: DALI joins it to the version folder as given (<version>/\(file))",
                at: "default_model_filename", severity: .warning)
        }
        for version in model.servedVersions {
            let folder = model.directory.appendingPathComponent(String(version))
            let primary = folder.appendingPathComponent(file).path
            let fallback = folder.appendingPathComponent("dali.py").path
            if POSIXFiles.isRegularFile(primary) || POSIXFiles.isRegularFile(fallback) { continue }
            report.report(
                "DALI Backend error: Failed to load model file. The program looked in the following locations: \(primary), \(fallback). Please make sure that the model exists in any of the locations and is properly serialized or can be properly serialized.",
                file: "\(version)/\(file)")
        }
    }
}

/// Batch inputs and outputs work only with custom backends and TensorRT.
package struct BatchIOSupportRule: LintRule {
    public static let description = RuleDescription(
        identifier: "batch-io-support", name: "Batch I/O support", severity: .error,
        summary: "The ONNX Runtime, PyTorch and TensorFlow backends refuse batch_input and batch_output.",
        tritonMessage: "batch inputs and batch outputs are only supported for custom platform and TensorRT platform",
        triggering: [
            .config(
                "platform: \"onnxruntime_onnx\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n↓batch_input [ { kind: BATCH_ELEMENT_COUNT target_name: \"B\" data_type: TYPE_FP32 source_input: \"x\" } ]",
                extra: ["1/model.onnx": ""])
        ],
        nonTriggering: [
            .config(
                "backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1 ] } ]\nbatch_input [ { kind: BATCH_ELEMENT_COUNT target_name: \"B\" data_type: TYPE_FP32 source_input: \"x\" } ]"
            )
        ])

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

/// L12 (repository agents): each agent named in `model_repository_agents` must be a library in
/// the target's repository-agent directory; Triton fails the model while polling it otherwise.
package struct RepositoryAgentRule: LintRule {
    public static let description = RuleDescription(
        identifier: "repository-agent", name: "Repository agents", severity: .error, phase: .poll, catalog: ["L12"],
        summary:
            "Every agent in model_repository_agents must exist as <repoagent-directory>/<name>/libtritonrepoagent_<name>.so on the target (--repoagent-directory; default: the agents Triton's images ship, i.e. checksum).",
        tritonMessage: "unable to find '{lib}' for repo agent '{name}', searched: {path}",
        triggering: [.config("backend: \"python\"\nmodel_repository_agents { ↓agents [ { name: \"encrypt\" } ] }")],
        nonTriggering: [
            .config(
                "backend: \"python\"\nmodel_repository_agents { agents [ { name: \"checksum\" parameters { key: \"MD5:1/model.py\" value: \"x\" } } ] }"
            )
        ],
        tritonSource: [
            "core src/repo_agent.cc TritonRepoAgentManager::CreateAgent (global search path, then <name>/libtritonrepoagent_<name>.so)"
        ])

    /// Agents in NVIDIA's Triton images (/opt/tritonserver/repoagents).
    package static let shippedAgents: Set<String> = ["checksum"]
    /// Triton's default --repoagent-directory.
    package static let defaultDirectory = "/opt/tritonserver/repoagents"

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let written = context.model.written
        guard written.hasModelRepositoryAgents else { return }
        for (index, agent) in written.modelRepositoryAgents.agents.enumerated() {
            let library = "libtritonrepoagent_\(agent.name).so"
            let searched: String
            if let directory = context.options.repoAgentDirectory {
                let path = directory.appendingPathComponent(agent.name).appendingPathComponent(library).path
                if POSIXFiles.isRegularFile(path) { continue }
                searched = directory.path
            } else {
                if Self.shippedAgents.contains(agent.name) { continue }
                searched = Self.defaultDirectory
            }
            report.report(
                "unable to find '\(library)' for repo agent '\(agent.name)', searched: \(searched)",
                at: "model_repository_agents.agents[\(index)]")
            return
        }
    }
}
