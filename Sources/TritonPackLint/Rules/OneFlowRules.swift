import Foundation
import TritonPackModels

extension LintContext {
    package var isOneFlow: Bool { model.config.backend == OneFlowBackend.backendName }

    /// A Python-backend model that runs a saved graph with OneFlow's own runtime, as
    /// `pack --runtime oneflow-python` writes it: `model.py` beside `model/model.mlir`.
    package var isOneFlowPython: Bool { model.isOneFlowPython }

    /// The config names tensors and types for a saved graph, through either runtime.
    package var servesOneFlowGraph: Bool { isOneFlow || isOneFlowPython }

    /// The saved graphs of the served versions (`<version>/model/`), read once per rule call.
    package func oneflowGraphs() -> [(version: Int64, graph: OneFlowSavedGraph)] {
        model.servedVersions.compactMap { version in
            let folder = model.directory.appendingPathComponent("\(version)/\(OneFlowBackend.modelFolder)")
            guard let graph = try? OneFlowSavedGraph.read(at: folder) else { return nil }
            return (version, graph)
        }
    }
}

/// A minimal saved graph for the rules' examples: one FP32 [2] input, one FP32 [2] output.
package enum OneFlowExample {
    package static let graph = """
        module {
          oneflow.job @G_0(%arg0: tensor<2xf32>) -> tensor<2xf32> {
            %output = "oneflow.input"(%arg0) {data_type = 2 : i32, op_name = "_G_0_input.0.0_1", shape = [2 : si64]} : (tensor<2xf32>) -> tensor<2xf32>
            %output_0 = "oneflow.output"(%output) {data_type = 2 : i32, op_name = "_G_0_output.0.0_2", shape = [2 : si64]} : (tensor<2xf32>) -> tensor<2xf32>
            oneflow.return %output_0 : tensor<2xf32>
          }
        }
        """

    /// A OneFlow model on CPU with the given input and output entries; `backend: "python"` for
    /// one served by OneFlow's runtime in the Python backend (`pack --runtime oneflow-python`).
    package static func model(
        input: String = "name: \"INPUT_0\" data_type: TYPE_FP32 dims: [ 2 ]",
        output: String = "name: \"OUTPUT_0\" data_type: TYPE_FP32 dims: [ 2 ]",
        extra: String = "instance_group [ { kind: KIND_CPU } ]", backend: String = "oneflow", fileLevel: [String] = [],
        sourceFile: StaticString = #filePath, sourceLine: UInt = #line
    ) -> LintExample {
        .config(
            "backend: \"\(backend)\"\ninput [ { \(input) } ]\noutput [ { \(output) } ]\n\(extra)",
            extra: ["1/model/model.mlir": graph], fileLevel: fileLevel, sourceFile: sourceFile, sourceLine: sourceLine)
    }
}

/// The OneFlow backend's naming rules: `INPUT_<i>` / `OUTPUT_<i>` with i in range.
package struct OneFlowTensorNamesRule: LintRule {
    public static let description = RuleDescription(
        identifier: "oneflow-tensor-names", name: "OneFlow tensor names", severity: .error,
        summary:
            "The OneFlow backend requires inputs named INPUT_<i> and outputs OUTPUT_<i>, with i the position in the graph's input/output list (read with atoi: INPUT_x silently becomes 0).",
        tritonMessage: "input name should start with INPUT_",
        triggering: [
            OneFlowExample.model(input: "↓name: \"x\" data_type: TYPE_FP32 dims: [ 2 ]"),
            OneFlowExample.model(input: "↓name: \"INPUT_3\" data_type: TYPE_FP32 dims: [ 2 ]"),
            OneFlowExample.model(input: "↓name: \"x\" data_type: TYPE_FP32 dims: [ 2 ]", backend: "python"),
        ],
        nonTriggering: [OneFlowExample.model(), OneFlowExample.model(backend: "python")])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        guard context.servesOneFlowGraph else { return }
        let config = context.model.config
        let graph = context.oneflowGraphs().first?.graph
        let sides: [(String, String, [String], Int, String)] = [
            (
                "input", "INPUT_", config.input.map(\.name), graph?.inputs.count ?? config.input.count,
                "input index should be in range [0, input_size)"
            ),
            (
                "output", "OUTPUT_", config.output.map(\.name), graph?.outputs.count ?? config.output.count,
                "output index should be in the range [0, output_size)"
            ),
        ]
        for (kind, prefix, names, size, rangeMessage) in sides {
            for (index, name) in names.enumerated() {
                let field = "\(kind)[\(index)].name"
                guard name.hasPrefix(prefix) else {
                    report.report("\(kind) name should start with \(prefix) ('\(name)')", at: field)
                    continue
                }
                let suffix = name.dropFirst(prefix.count)
                guard let position = Int(suffix) else {
                    report.report(
                        "'\(name)': the OneFlow backend reads the index with atoi, so this names \(kind) \(atoi(String(suffix)))",
                        at: field, severity: .warning)
                    continue
                }
                if position < 0 || position >= size {
                    report.report("\(rangeMessage): '\(name)' with \(size) \(kind)s in the graph", at: field)
                }
            }
        }
    }
}

/// The OneFlow backend serves UINT8, INT8, INT32, INT64, FP16, FP32, FP64 only.
package struct OneFlowDataTypeRule: LintRule {
    public static let description = RuleDescription(
        identifier: "oneflow-data-type", name: "OneFlow data types", severity: .error,
        summary:
            "The OneFlow backend serves only TYPE_UINT8, TYPE_INT8, TYPE_INT32, TYPE_INT64, TYPE_FP16, TYPE_FP32 and TYPE_FP64.",
        triggering: [
            OneFlowExample.model(input: "name: \"INPUT_0\" ↓data_type: TYPE_BOOL dims: [ 2 ]"),
            OneFlowExample.model(input: "name: \"INPUT_0\" ↓data_type: TYPE_BOOL dims: [ 2 ]", backend: "python"),
        ],
        nonTriggering: [OneFlowExample.model()])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        guard context.servesOneFlowGraph else { return }
        for tensor in IOTensor.all(context.model.config)
        where tensor.dataType != .typeInvalid && !OneFlowBackend.servableTypes.contains(tensor.dataType) {
            report.report(
                "\(tensor.isInput ? "input" : "output") '\(tensor.name)' has type \(tensor.dataType.configName), which the OneFlow backend cannot serve",
                at: "\(tensor.field).data_type")
        }
    }
}

/// Cross-check: the config against each served saved graph, and the graph's own files.
package struct OneFlowGraphRule: LintRule {
    public static let description = RuleDescription(
        identifier: "oneflow-graph", name: "Config matches the saved graph", severity: .error,
        summary:
            "Each served version's saved graph is complete (variables with matching meta and exact out sizes) and its inputs and outputs match the config in count, type and shape (without the batch dimension when max_batch_size > 0). The backend never checks types: a mismatch serves garbage.",
        triggering: [
            OneFlowExample.model(input: "name: \"INPUT_0\" ↓data_type: TYPE_INT64 dims: [ 2 ]"),
            OneFlowExample.model(output: "name: \"OUTPUT_0\" data_type: TYPE_FP32 ↓dims: [ 3 ]"),
            OneFlowExample.model(
                input: "name: \"INPUT_0\" data_type: TYPE_FP32 ↓dims: [ 2 ]",
                output: "name: \"OUTPUT_0\" data_type: TYPE_FP32 ↓dims: [ 2 ]",
                extra: "max_batch_size: 2\ninstance_group [ { kind: KIND_CPU } ]"),
            OneFlowExample.model(output: "name: \"OUTPUT_0\" ↓data_type: TYPE_FP64 dims: [ 2 ]", backend: "python"),
        ],
        nonTriggering: [OneFlowExample.model(), OneFlowExample.model(backend: "python")])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        guard context.servesOneFlowGraph else { return }
        let model = context.model
        let config = model.config
        for version in model.servedVersions {
            let folder = "\(version)/\(OneFlowBackend.modelFolder)"
            let graph: OneFlowSavedGraph
            do {
                graph = try OneFlowSavedGraph.read(at: model.directory.appendingPathComponent(folder))
            } catch let error as TritonPackError {
                if POSIXFiles.exists(model.directory.appendingPathComponent(folder).path) {
                    report.report(error.message, file: "\(folder)/\(OneFlowSavedGraph.graphFileName)")
                }
                continue
            } catch {
                continue
            }
            for problem in graph.problems {
                report.report(problem.message, file: "\(folder)/\(problem.file ?? "")", line: problem.line)
            }
            for note in graph.notes {
                report.report(note.message, file: "\(folder)/\(note.file ?? "")", severity: .info)
            }
            compare(config, graph.signature, folder: folder, &report)
        }
    }

    package func compare(_ config: Inference_ModelConfig, _ signature: Signature, folder: String, _ report: inout DiagnosticSink)
    {
        let batching = config.maxBatchSize > 0
        let sides: [(String, [TensorSpec], [(name: String, type: Inference_DataType, dims: [Int64])])] = [
            ("input", signature.inputs, config.input.map { ($0.name, $0.dataType, $0.dims) }),
            ("output", signature.outputs, config.output.map { ($0.name, $0.dataType, $0.dims) }),
        ]
        for (kind, graphTensors, configTensors) in sides {
            if graphTensors.count != configTensors.count {
                report.report(
                    "the config has \(configTensors.count) \(kind)s but the saved graph in \(folder) has \(graphTensors.count)",
                    at: kind)
            }
            for (index, tensor) in configTensors.enumerated() {
                let field = "\(kind)[\(index)]"
                guard let spec = graphTensors.first(where: { $0.name == tensor.name }) else { continue }
                if tensor.type != spec.dataType {
                    report.report(
                        "\(tensor.name) is \(tensor.type.configName) in the config but \(spec.dataType.configName) in the saved graph (\(folder)); neither the OneFlow backend nor OneFlow's runtime checks this: it would serve garbage",
                        at: "\(field).data_type")
                }
                let expected = batching ? Array(spec.shape.dropFirst()) : spec.shape
                if tensor.dims != expected || (batching && spec.shape.isEmpty) {
                    let note = batching ? " (max_batch_size > 0: dims exclude the batch dimension)" : ""
                    report.report(
                        "\(tensor.name) has dims \(tensor.dims) in the config but the saved graph's shape is \(spec.shape), so dims should be \(expected)\(note)",
                        at: "\(field).dims")
                }
            }
        }
    }
}

/// Known limits of the OneFlow backend worth a warning.
package struct OneFlowInstancesRule: LintRule {
    public static let description = RuleDescription(
        identifier: "oneflow-instances", name: "OneFlow backend limits", severity: .warning,
        summary:
            "The OneFlow backend cannot execute several model instances concurrently (its README's known issue), and accepts only the xrt values oneflow, tensorrt, openvino, xla.",
        triggering: [OneFlowExample.model(extra: "↓instance_group [ { kind: KIND_CPU count: 2 } ]")],
        nonTriggering: [OneFlowExample.model(extra: "instance_group [ { kind: KIND_CPU count: 1 } ]")])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        guard context.isOneFlow else { return }
        let config = context.model.config
        let instances = config.instanceGroup.reduce(0) { $0 + max(Int($1.count), 1) * max($1.gpus.count, 1) }
        if instances > 1 {
            report.report(
                "\(instances) instances of a OneFlow model: the OneFlow backend cannot execute several instances concurrently",
                at: "instance_group")
        }
        if let xrt = config.parameters["xrt"]?.stringValue, !OneFlowBackend.xrtValues.contains(xrt) {
            report.report(
                "xrt '\(xrt)' is not one of \(OneFlowBackend.xrtValues.joined(separator: ", ")); the backend falls back to plain OneFlow",
                at: "parameters")
        }
    }
}

/// The `oneflow` backend numbers outputs in hash-map order, not in the graph's return order.
package struct OneFlowOutputNumberingRule: LintRule {
    package static let twoOutputs = """
        module {
          oneflow.job @G_0(%arg0: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>) {
            %output = "oneflow.input"(%arg0) {data_type = 2 : i32, op_name = "_G_0_input.0.0_1", shape = [2 : si64]} : (tensor<2xf32>) -> tensor<2xf32>
            %output_0 = "oneflow.output"(%output) {data_type = 2 : i32, op_name = "_G_0_output.0.0.0_2", shape = [2 : si64]} : (tensor<2xf32>) -> tensor<2xf32>
            %output_1 = "oneflow.output"(%output) {data_type = 2 : i32, op_name = "_G_0_output.0.0.1_3", shape = [2 : si64]} : (tensor<2xf32>) -> tensor<2xf32>
            oneflow.return %output_0, %output_1 : tensor<2xf32>, tensor<2xf32>
          }
        }
        """

    public static let description = RuleDescription(
        identifier: "oneflow-output-numbering", name: "OneFlow output numbering", severity: .warning,
        summary:
            "The oneflow backend binds OUTPUT_<i> to the i-th entry of an std::unordered_map over output op names (OneFlow's oneflow/api/cpp/framework/graph.cpp, output_name_to_tensor_), not to the i-th value the graph returns, which is what tritonpack's config and the OneFlow Python runtime use. With more than one output the server can answer with tensors under each other's names; `tritonpack smoke --expected` on the target server shows which output carries which tensor.",
        triggering: [
            .config(
                "backend: \"oneflow\"\ninput [ { name: \"INPUT_0\" data_type: TYPE_FP32 dims: [ 2 ] } ]\n↓output [ { name: \"OUTPUT_0\" data_type: TYPE_FP32 dims: [ 2 ] }, { name: \"OUTPUT_1\" data_type: TYPE_FP32 dims: [ 2 ] } ]\ninstance_group [ { kind: KIND_CPU } ]",
                extra: ["1/model/model.mlir": twoOutputs])
        ],
        nonTriggering: [OneFlowExample.model()])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        guard context.isOneFlow else { return }
        let outputs = context.oneflowGraphs().map(\.graph.outputs.count).max() ?? context.model.config.output.count
        guard outputs > 1 else { return }
        report.report(
            "\(outputs) outputs: the oneflow backend numbers OUTPUT_<i> in hash-map order, not in the order the graph returns them, so it may serve these tensors under each other's names; check on the target server with `tritonpack smoke --inputs DIR --expected DIR`",
            at: "output")
    }
}

/// A `oneflow-python` model's execution environment: present where the config says, and a
/// Python-backend stub on the target that embeds the environment's Python.
package struct OneFlowPythonEnvironmentRule: LintRule {
    public static let description = RuleDescription(
        identifier: "oneflow-python-environment", name: "OneFlow's Python environment", severity: .error,
        summary:
            "A model that runs OneFlow's own runtime in the Python backend needs OneFlow's Python on the server: the execution environment its config names (EXECUTION_ENV_PATH, extracted by the backend and activated before the stub starts) must exist, and the server's Python-backend stub must embed that environment's Python (tritonpack_python_version; OneFlow 0.9.0 needs 3.7-3.10). NVIDIA's tritonserver containers are built on Ubuntu 22.04 (Python 3.10) up to release 24.11 and on Ubuntu 24.04 (Python 3.12) after it (server repository, build.py), so the 24.xx containers up to 24.11 have a fitting stub; elsewhere put a stub built for that Python as <model>/triton_python_backend_stub. Without EXECUTION_ENV_PATH the stub runs the server's own Python, which must have OneFlow.",
        tritonMessage: "Failed to get the canonical path for {path}.",
        triggering: [
            OneFlowExample.model(
                extra:
                    "instance_group [ { kind: KIND_CPU } ]\n↓parameters { key: \"EXECUTION_ENV_PATH\" value { string_value: \"$$TRITON_MODEL_DIRECTORY/env.tar.gz\" } }",
                backend: "python")
        ],
        nonTriggering: [
            LintExample(files: [
                "config.pbtxt":
                    "backend: \"python\"\ninput [ { name: \"INPUT_0\" data_type: TYPE_FP32 dims: [ 2 ] } ]\noutput [ { name: \"OUTPUT_0\" data_type: TYPE_FP32 dims: [ 2 ] } ]\ninstance_group [ { kind: KIND_CPU } ]\nparameters { key: \"EXECUTION_ENV_PATH\" value { string_value: \"$$TRITON_MODEL_DIRECTORY/env.tar.gz\" } }",
                "env.tar.gz": "", "1/model.py": "", "1/model/model.mlir": OneFlowExample.graph,
            ]),
            OneFlowExample.model(),
        ],
        tritonSource: [
            "python_backend src/pb_env.cc EnvironmentManager::ExtractIfNotExtracted (canonical path, extraction, 'activate' script)",
            "python_backend src/stub_launcher.cc StubLauncher::Initialize (a model folder's own triton_python_backend_stub first)",
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        guard context.isOneFlowPython else { return }
        let config = context.model.config
        let python = config.parameters[ExecutionEnvironment.pythonVersionParameter]?.stringValue ?? ""
        let field = "parameters[0]"
        guard let value = config.parameters[ExecutionEnvironment.parameterName]?.stringValue, !value.isEmpty else {
            report.report(
                "no EXECUTION_ENV_PATH: the Python-backend stub runs the server's own Python, which must have oneflow==0.9.0 (Python 3.7-3.10); `tritonpack pack --runtime oneflow-python` packs OneFlow's environment into the model folder",
                at: field, severity: .warning)
            return
        }
        let variable = ExecutionEnvironment.modelDirectoryVariable
        if value.contains(variable) {
            let path = value.replacingOccurrences(of: variable, with: context.model.directory.path)
            if !POSIXFiles.exists(path) {
                report.report("Failed to get the canonical path for \(path).", at: field)
                return
            }
        }
        let ownStub = context.model.directory.appendingPathComponent("triton_python_backend_stub")
        let stub =
            POSIXFiles.isRegularFile(ownStub.path)
            ? ownStub : context.options.backendDirectory?.appendingPathComponent("python/triton_python_backend_stub")
        guard !python.isEmpty else { return }
        guard let stub, let binary = FileManager.default.contents(atPath: stub.path) else {
            report.report(
                "runs in a Python \(python) environment: the server's Python-backend stub must embed Python \(python) (NVIDIA's 24.xx tritonserver containers up to 24.11 do, being built on Ubuntu 22.04; later ones embed 3.12), or the model folder must hold a triton_python_backend_stub built for it; --backend-directory lets lint check the target's stub",
                at: field, severity: .info)
            return
        }
        if binary.range(of: Data("libpython\(python).so".utf8)) == nil {
            let embedded = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"].first {
                binary.range(of: Data("libpython\($0).so".utf8)) != nil
            }
            report.report(
                "the Python-backend stub \(stub.path) embeds Python \(embedded ?? "of another version"), but this model's environment is Python \(python): the stub cannot run it; use a server whose stub embeds Python \(python), or put a stub built for it as \(context.model.name)/triton_python_backend_stub",
                at: field)
        }
    }
}
