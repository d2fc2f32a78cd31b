import Foundation
import TritonPackModels

/// The dataflow graph of an ensemble: which steps produce and consume each ensemble tensor.
package struct EnsembleGraph {
    package struct Tensor {
        package var producers: [Int] = []
        package var consumers: [Int] = []
        package var ready = false
    }

    package var tensors: [String: Tensor] = [:]
    package var steps: [Inference_ModelEnsembling.Step]
    /// Steps in the order they become runnable from the ensemble inputs.
    package var firingOrder: [Int] = []

    package init(steps: [Inference_ModelEnsembling.Step]) { self.steps = steps }

    /// Marks the ensemble inputs ready and propagates through the steps.
    package mutating func propagate(from inputs: [String]) {
        var remaining = steps.map { Set($0.inputMap.values).count }
        var queue = inputs.filter { tensors[$0] != nil }
        for name in queue { tensors[name]!.ready = true }
        while !queue.isEmpty {
            let name = queue.removeFirst()
            for step in Set(tensors[name]!.consumers).sorted() {
                remaining[step] -= 1
                guard remaining[step] == 0 else { continue }
                firingOrder.append(step)
                for output in steps[step].outputMap.values.sorted() where tensors[output]?.ready == false {
                    tensors[output]!.ready = true
                    queue.append(output)
                }
            }
        }
    }
}

/// R57-R66: ValidateEnsembleSchedulingConfig, the ensemble's own structure.
package struct EnsembleStructureRule: LintRule {
    public static let description = RuleDescription(
        identifier: "ensemble-structure", name: "Ensemble structure", severity: .error, phase: .poll,
        catalog: ["R57", "R58", "R59", "R60", "R61", "R62", "R63", "R64", "R65", "R66"],
        summary:
            "An ensemble has no instance_group, optimization or model_warmup; every step names a model and maps inputs and outputs; each tensor is produced once; every input is used, every output written, every intermediate tensor both produced and consumed.",
        tritonMessage: "ensemble tensor '{t}' is unused in ensemble '{model}'",
        triggering: [
            LintExample(files: [
                "config.pbtxt":
                    "platform: \"ensemble\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 1 ] } ]\n↓ensemble_scheduling { }",
                "1/.keep": "",
            ]),
            LintExample(files: [
                "config.pbtxt":
                    "platform: \"ensemble\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 1 ] } ]\n↓ensemble_scheduling { step [ { model_name: \"a\" model_version: -1 input_map { key: \"i\" value: \"x\" } output_map { key: \"o\" value: \"t\" } } ] }",
                "1/.keep": "",
            ]),
        ],
        nonTriggering: [
            LintExample(
                files: [
                    "config.pbtxt":
                        "platform: \"ensemble\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 1 ] } ]\nensemble_scheduling { step [ { model_name: \"a\" model_version: -1 input_map { key: \"i\" value: \"x\" } output_map { key: \"o\" value: \"y\" } } ] }",
                    "1/.keep": "",
                ],
                otherModels: [
                    "a": [
                        "config.pbtxt":
                            "backend: \"python\"\ninput [ { name: \"i\" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: \"o\" data_type: TYPE_FP32 dims: [ 1 ] } ]",
                        "1/model.py": "",
                    ]
                ])
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let config = context.model.config
        guard config.platform == "ensemble", case .ensembleScheduling(let scheduling)? = config.schedulingChoice else { return }
        if let message = Self.firstError(config, scheduling) { report.report(message, at: "ensemble_scheduling") }
    }

    package static func firstError(_ config: Inference_ModelConfig, _ scheduling: Inference_ModelEnsembling) -> String? {
        let name = config.name
        if !config.instanceGroup.isEmpty { return "instance group should not be specified for ensemble '\(name)'" }
        if config.hasOptimization { return "optimization should not be specified for ensemble '\(name)'" }
        if !config.modelWarmup.isEmpty { return "model_warmup can not be specified for ensemble '\(name)'" }
        if scheduling.step.isEmpty { return "must specify 'step' for ensemble '\(name)'" }
        var graph = EnsembleGraph(steps: scheduling.step)
        for (index, step) in scheduling.step.enumerated() {
            if step.modelName.isEmpty { return "must specify 'model_name' in step \(index) of ensemble '\(name)'" }
            if step.inputMap.isEmpty { return "must specify 'input_map' in step \(index) of ensemble '\(name)'" }
            if step.outputMap.isEmpty { return "must specify 'output_map' in step \(index) of ensemble '\(name)'" }
            for tensor in step.outputMap.values.sorted() {
                if graph.tensors[tensor]?.producers.isEmpty == false {
                    return
                        "ensemble tensor '\(tensor)' can appear in an output map only once for ensemble '\(name)' step \(index)"
                }
                graph.tensors[tensor, default: .init()].producers.append(index)
            }
            for tensor in Set(step.inputMap.values).sorted() {
                graph.tensors[tensor, default: .init()].consumers.append(index)
            }
        }
        for input in config.input where graph.tensors[input.name]?.consumers.isEmpty != false {
            return "ensemble input '\(input.name)' for ensemble \(name)' is not used"
        }
        for output in config.output where graph.tensors[output.name] == nil {
            return "ensemble output '\(output.name)' for ensemble \(name)' is not used"
        }
        graph.propagate(from: config.input.map(\.name))
        for output in config.output where graph.tensors[output.name]?.ready != true {
            var message = "output '\(output.name)' for ensemble '\(name)' is not written"
            if let root = unconnectedSource(of: output.name, in: graph) {
                message += ": at least one of its depending tensors, '\(root)', is not connected"
            }
            return message
        }
        let outputs = Set(config.output.map(\.name))
        for (tensor, state) in graph.tensors.sorted(by: { $0.key < $1.key }) {
            if !state.ready || (state.consumers.isEmpty && !outputs.contains(tensor)) {
                return "ensemble tensor '\(tensor)' is unused in ensemble '\(name)'"
            }
        }
        return nil
    }

    /// A tensor upstream of `tensor` that no step produces and that is not ready.
    package static func unconnectedSource(of tensor: String, in graph: EnsembleGraph) -> String? {
        var visited = Set<String>()
        var queue = [tensor]
        while !queue.isEmpty {
            let current = queue.removeFirst()
            guard visited.insert(current).inserted, let state = graph.tensors[current] else { continue }
            if state.producers.isEmpty && !state.ready && current != tensor { return current }
            for producer in state.producers {
                queue.append(contentsOf: graph.steps[producer].inputMap.values.sorted())
            }
        }
        return nil
    }
}

/// R67-R78: an ensemble against the models it composes.
/// Configs shared by the ensemble rules' examples.
package enum EnsembleExample {
    /// One step "a" mapping i <- x and o -> y, FP32 [1].
    package static let single =
        "platform: \"ensemble\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 1 ] } ]\nensemble_scheduling { step [ { model_name: \"a\" model_version: -1 input_map { key: \"i\" value: \"x\" } output_map { key: \"o\" value: \"y\" } } ] }"

    /// One step, the ensemble `step` (itself shaped like `single`), mapping x <- x and y -> y.
    package static func nested(_ step: String) -> String {
        "platform: \"ensemble\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 1 ] } ]\nensemble_scheduling { step [ { model_name: \"\(step)\" model_version: -1 input_map { key: \"x\" value: \"x\" } output_map { key: \"y\" value: \"y\" } } ] }"
    }

    /// `config` with a `↓` where the ensemble rules report: at `ensemble_scheduling`.
    package static func marked(_ config: String) -> String {
        config.replacingOccurrences(of: "\nensemble_scheduling", with: "\n↓ensemble_scheduling")
    }

    /// The Python model `single`'s step names.
    package static let step: [String: String] = [
        "config.pbtxt":
            "backend: \"python\"\ninput [ { name: \"i\" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: \"o\" data_type: TYPE_FP32 dims: [ 1 ] } ]",
        "1/model.py": "",
    ]
}

package struct EnsembleDependencyRule: LintRule {
    public static let description = RuleDescription(
        identifier: "ensemble-dependencies", name: "Ensemble composing models", severity: .error,
        catalog: ["R67", "R68", "R69", "R70", "R71", "R72", "R73", "R74", "R75", "R76", "R77", "R78"],
        summary:
            "Composing models exist in the repository, load (a step that is itself an ensemble must be valid: its error is wrapped as \"depends on '{step}' which is not valid\"), serve the required version, allow the ensemble's batch size, have the mapped inputs and outputs, and agree on each tensor's type and shape (a step's model through its dims, not its reshape); no cycles; no step joins outputs of different decoupled models. A step model that fails while polled makes the ensemble report it as not available; one that fails to load a version is reported with its own error. With auto-complete on, a step whose backend reads inputs or outputs from the model file is not checked on that side.",
        tritonMessage: "ensemble {e} contains models that are not available or ambiguous: {m1}, {m2}",
        triggering: [
            LintExample(files: [
                "config.pbtxt":
                    "platform: \"ensemble\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 1 ] } ]\n↓ensemble_scheduling { step [ { model_name: \"a\" model_version: -1 input_map { key: \"i\" value: \"x\" } output_map { key: \"o\" value: \"y\" } } ] }",
                "1/.keep": "",
            ]),
            LintExample(
                files: [
                    "config.pbtxt":
                        "platform: \"ensemble\"\ninput [ { name: \"x\" data_type: TYPE_INT32 dims: [ 1 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 1 ] } ]\n↓ensemble_scheduling { step [ { model_name: \"a\" model_version: -1 input_map { key: \"i\" value: \"x\" } output_map { key: \"o\" value: \"y\" } } ] }",
                    "1/.keep": "",
                ],
                otherModels: [
                    "a": [
                        "config.pbtxt":
                            "backend: \"python\"\ninput [ { name: \"i\" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: \"o\" data_type: TYPE_FP32 dims: [ 1 ] } ]",
                        "1/model.py": "",
                    ]
                ]),
            // A step whose model fails to load (here: its label file is missing) fails the ensemble.
            LintExample(
                files: ["config.pbtxt": EnsembleExample.marked(EnsembleExample.single), "1/.keep": ""],
                otherModels: [
                    "a": [
                        "config.pbtxt":
                            "backend: \"python\"\ninput [ { name: \"i\" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: \"o\" data_type: TYPE_FP32 dims: [ 1 ] label_filename: \"labels.txt\" } ]",
                        "1/model.py": "",
                    ]
                ]),
            // ... and a step that fails while polled is "not available".
            LintExample(
                files: ["config.pbtxt": EnsembleExample.marked(EnsembleExample.single), "1/.keep": ""],
                otherModels: ["a": ["config.pbtxt": "backend: \"python\"\nmax_batch_size: -1", "1/model.py": ""]]),
            // A step that is itself an ensemble naming a model the repository lacks: the outer
            // ensemble "depends on 'inner' which is not valid", with the inner one's error.
            LintExample(
                files: ["config.pbtxt": EnsembleExample.marked(EnsembleExample.nested("inner")), "1/.keep": ""],
                otherModels: ["inner": ["config.pbtxt": EnsembleExample.single, "1/.keep": ""]]),
            // A step whose version policy selects no version: its load status is that message.
            LintExample(
                files: ["config.pbtxt": EnsembleExample.marked(EnsembleExample.single), "1/.keep": ""],
                otherModels: ["a": ["config.pbtxt": EnsembleExample.step["config.pbtxt"]!]]),
        ],
        nonTriggering: [
            LintExample(
                files: ["config.pbtxt": EnsembleExample.single, "1/.keep": ""],
                otherModels: [
                    "a": [
                        "config.pbtxt":
                            "backend: \"python\"\ninput [ { name: \"i\" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: \"o\" data_type: TYPE_FP32 dims: [ 1 ] } ]",
                        "1/model.py": "",
                    ]
                ]),
            // A step that is a valid ensemble.
            LintExample(
                files: ["config.pbtxt": EnsembleExample.nested("inner"), "1/.keep": ""],
                otherModels: ["inner": ["config.pbtxt": EnsembleExample.single, "1/.keep": ""], "a": EnsembleExample.step]),
            // Steps are seen through their dims: a step that reshapes [1] to [] still offers [1].
            LintExample(
                files: [
                    "config.pbtxt": EnsembleExample.single.replacingOccurrences(
                        of: "platform: \"ensemble\"", with: "platform: \"ensemble\"\nmax_batch_size: 4"), "1/.keep": "",
                ],
                otherModels: [
                    "a": [
                        "config.pbtxt":
                            "backend: \"python\"\nmax_batch_size: 4\ninput [ { name: \"i\" data_type: TYPE_FP32 dims: [ 1 ] reshape { shape: [ ] } } ]\noutput [ { name: \"o\" data_type: TYPE_FP32 dims: [ 1 ] reshape { shape: [ ] } } ]",
                        "1/model.py": "",
                    ]
                ]),
            // With auto-complete, a step model whose backend reads its tensors from the model file
            // (here Python's auto_complete_config) cannot be checked against its config.
            LintExample(
                files: ["config.pbtxt": EnsembleExample.single, "1/.keep": ""],
                otherModels: [
                    "a": [
                        "config.pbtxt": "backend: \"python\"",
                        "1/model.py":
                            "class TritonPythonModel:\n    @staticmethod\n    def auto_complete_config(c):\n        c.add_input({'name': 'i', 'data_type': 'TYPE_FP32', 'dims': [1]})\n        c.add_output({'name': 'o', 'data_type': 'TYPE_FP32', 'dims': [1]})\n        return c\n",
                    ]
                ]),
        ],
        tritonSource: [
            "core src/model_repository_manager/model_repository_manager.cc ConnectDependencyGraph, CircularDependencyCheck (a model that failed polling is absent)",
            "core src/model_repository_manager/model_repository_manager.cc CheckNode (per upstream: an ensemble whose status is not OK, \"which is not valid. Model '{m}' failed with error: {its status}\"; no loaded version, with the load status: VersionsToLoad's message as is, seen on 2.51)",
            "core src/model_repository_manager/model_lifecycle.cc (\"version V is at UNAVAILABLE state: {code}: {message};\")",
            "core src/ensemble_scheduler/ensemble_utils.cc ValidateEnsembleConfig, ValidateTensorConsistency (the composing model's dims)",
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        guard model.config.platform == "ensemble", case .ensembleScheduling(let scheduling)? = model.config.schedulingChoice,
            EnsembleStructureRule.firstError(model.config, scheduling) == nil
        else { return }
        if let message = firstError(model, scheduling, context, visiting: [model.name]) {
            report.report(message, at: "ensemble_scheduling")
        }
    }

    /// The status Triton's dependency graph gives the ensemble (core model_repository_manager.cc
    /// ConnectDependencyGraph, CircularDependencyCheck, CheckNode, then ValidateEnsembleConfig).
    /// `visiting` holds the ensembles whose status is being worked out above this one.
    package func firstError(
        _ model: ModelUnderLint, _ scheduling: Inference_ModelEnsembling, _ context: LintContext, visiting: Set<String>
    ) -> String? {
        let name = model.config.name
        var failures: [String: Linter.ModelFailure] = [:]
        for step in Set(scheduling.step.map(\.modelName)) {
            if let composing = context.repository[step], let failure = Linter.firstFailure(of: composing, context: context) {
                failures[step] = failure
            }
        }
        // A model that fails while its directory is polled never enters the dependency graph: the
        // ensemble sees it as absent (core model_repository_manager.cc ConnectDependencyGraph).
        let missing = Set(
            scheduling.step.map(\.modelName).filter { context.repository[$0] == nil || failures[$0]?.atPoll == true }
        )
        .sorted()
        if !missing.isEmpty {
            return "ensemble \(name) contains models that are not available or ambiguous: \(missing.joined(separator: ", "))"
        }
        if let cycle = cycle(from: model.name, context: context) {
            return "circular dependency between ensembles: \(cycle)"
        }
        for step in scheduling.step {
            let composing = context.repository[step.modelName]!
            // CheckNode, for each upstream in turn: an upstream ensemble whose own dependencies or
            // tensors are not valid fails this one with its message (nested ensembles).
            if let inner = nestedError(composing, failure: failures[step.modelName], context, visiting: visiting) {
                return
                    "ensemble '\(name)' depends on '\(step.modelName)' which is not valid. Model '\(step.modelName)' failed with error: \(inner)"
            }
            // A model whose version policy selects no version fails in VersionsToLoad, and its
            // load status is that message as is (seen on the 2.51 server).
            if let failure = failures[step.modelName], failure.rule == VersionPolicyRule.description.identifier {
                return
                    "ensemble '\(name)' depends on '\(step.modelName)' which has no loaded version. Model '\(step.modelName)' loading failed with error: \(failure.message)"
            }
            // A model whose versions fail to load (core model_lifecycle.cc: "version V is at
            // UNAVAILABLE state: {code}: {message};", one entry per version).
            if let failure = failures[step.modelName] {
                let version = composing.servedVersions.first.map(String.init) ?? "1"
                return
                    "ensemble '\(name)' depends on '\(step.modelName)' which has no loaded version. Model '\(step.modelName)' loading failed with error: version \(version) is at UNAVAILABLE state: \(Self.withStatusCode(failure));"
            }
            if composing.servedVersions.isEmpty {
                return "ensemble '\(name)' depends on '\(step.modelName)' which has no loaded version."
            }
            if step.modelVersion != -1 && !composing.servedVersions.contains(step.modelVersion) {
                return
                    "ensemble '\(name)' depends on '\(step.modelName)' whose required version \(step.modelVersion) is not loaded."
            }
        }
        return validateTensors(model.config, scheduling, context)
    }

    /// The dependency-graph status of a step model that is itself an ensemble (nil when it is not
    /// an ensemble, fails while polled, which makes it absent instead, or is valid). An ensemble
    /// already being worked out above is left to the cycle check.
    package func nestedError(
        _ composing: ModelUnderLint, failure: Linter.ModelFailure?, _ context: LintContext, visiting: Set<String>
    ) -> String? {
        guard failure?.atPoll != true, composing.isUsable, composing.backendDetectionError == nil,
            composing.config.platform == "ensemble",
            case .ensembleScheduling(let scheduling)? = composing.config.schedulingChoice,
            !visiting.contains(composing.name)
        else { return nil }
        return firstError(composing, scheduling, context, visiting: visiting.union([composing.name]))
    }

    package static let statusCodes = [
        "Invalid argument", "Internal", "Not found", "Unavailable", "Unsupported", "Already exists", "Unknown",
    ]

    /// A version-stage failure as Triton's Status::AsString prints it: "{Code}: {message}".
    package static func withStatusCode(_ failure: Linter.ModelFailure) -> String {
        if statusCodes.contains(where: { failure.message.hasPrefix("\($0): ") }) { return failure.message }
        let code: String
        switch failure.rule {
        case LabelFileRule.description.identifier:
            code = failure.message.hasPrefix("label file path") ? "Unsupported" : "Internal"
        case ModelFileRule.description.identifier:
            code = failure.message.hasPrefix("DALI Backend error") ? "Unknown" : "Unavailable"
        case MissingConfigRule.description.identifier:
            code = "Not found"
        default:
            code = "Invalid argument"
        }
        return "\(code): \(failure.message)"
    }

    /// A path back to `start` through ensemble steps, printed as Triton does.
    package func cycle(from start: String, context: LintContext) -> String? {
        func composing(_ name: String) -> [String] {
            guard let model = context.repository[name], model.config.platform == "ensemble",
                case .ensembleScheduling(let scheduling)? = model.config.schedulingChoice
            else { return [] }
            return scheduling.step.map(\.modelName)
        }
        var visited = Set<String>()
        var stack: [(String, String)] = composing(start).map { ($0, start) }
        while let (current, parent) = stack.popLast() {
            if current == start { return "\(start) -> ... -> \(parent) -> \(start)" }
            guard visited.insert(current).inserted else { continue }
            stack.append(contentsOf: composing(current).map { ($0, current) })
        }
        return nil
    }

    package struct Inferred {
        package var dataType: Inference_DataType
        package var dims: [Int64]
        package var batching: Bool
        package var model: String

        package var fullDims: [Int64] { batching ? [-1] + dims : dims }
    }

    package func validateTensors(
        _ config: Inference_ModelConfig, _ scheduling: Inference_ModelEnsembling, _ context: LintContext
    ) -> String? {
        let name = config.name
        var tensors = inferred(config, model: name, inputs: true, useReshape: true)
            .merging(inferred(config, model: name, inputs: false, useReshape: true)) { $1 }
        func merge(_ tensor: String, _ inferred: Inferred) -> String? {
            guard let existing = tensors[tensor] else {
                tensors[tensor] = inferred
                return nil
            }
            if existing.dataType != inferred.dataType {
                return
                    "in ensemble \(name), ensemble tensor \(tensor): inconsistent data type: \(existing.dataType.configName) is inferred from model \(existing.model) while \(inferred.dataType.configName) is inferred from model \(inferred.model)"
            }
            if !compatible(existing.dims, inferred.dims) && !compatible(existing.fullDims, inferred.fullDims) {
                func show(_ dims: [Int64]) -> String { "[\(dims.map(String.init).joined(separator: ","))]" }
                return
                    "in ensemble \(name), ensemble tensor \(tensor): inconsistent shape: \(show(existing.fullDims)) is inferred from model \(existing.model) while \(show(inferred.fullDims)) is inferred from model \(inferred.model)"
            }
            return nil
        }
        for step in scheduling.step {
            let composingModel = context.repository[step.modelName]!
            let composing = composingModel.config
            if composing.maxBatchSize != 0 && composing.maxBatchSize < config.maxBatchSize {
                return
                    "ensemble \(name) allows maximum batch size \(config.maxBatchSize), but it contains model \(step.modelName) which only allows maximum batch size to be \(composing.maxBatchSize)"
            }
            // Inputs or outputs the step's backend reads from its model file (auto-complete) are not
            // known here: that side of the step is not checked (core ensemble_utils.cc checks the
            // composing model's config as completed by its backend).
            if !BackendAutoComplete.fillsSide(composingModel, inputs: true, options: context.options) {
                let inputs = inferred(composing, model: step.modelName, inputs: true, useReshape: false)
                for (key, tensor) in step.inputMap.sorted(by: { $0.key < $1.key }) {
                    guard let input = inputs[key] else {
                        return
                            "in ensemble \(name), ensemble tensor \(tensor) is mapping to non-existing input \(key) in model \(step.modelName)"
                    }
                    if let error = merge(tensor, input) { return error }
                }
                for input in composing.input where !input.optional && step.inputMap[input.name] == nil {
                    return
                        "in ensemble \(name), input \(input.name) in model \(step.modelName) is not mapped to any ensemble tensors"
                }
            }
            if !BackendAutoComplete.fillsSide(composingModel, inputs: false, options: context.options) {
                let outputs = inferred(composing, model: step.modelName, inputs: false, useReshape: false)
                for (key, tensor) in step.outputMap.sorted(by: { $0.key < $1.key }) {
                    guard let output = outputs[key] else {
                        return
                            "in ensemble \(name), ensemble tensor \(tensor) is mapped from non-existing output \(key) in model \(step.modelName)"
                    }
                    if let error = merge(tensor, output) { return error }
                }
            }
        }
        return decoupledBranching(config, scheduling, context)
    }

    /// A model's inputs (or outputs) by name as the ensemble sees them: for the ensemble's own
    /// inputs and outputs the reshape when there is one, else the dims; for a step's model always
    /// its dims (core ensemble_utils.cc ValidateTensorConsistency reads the composing model's
    /// `dims`; a step that reshapes [1] to [] still offers [1]). The first of duplicate names wins.
    package func inferred(_ config: Inference_ModelConfig, model: String, inputs: Bool, useReshape: Bool) -> [String: Inferred] {
        let tensors = IOTensor.all(config).filter { $0.isInput == inputs }.map { tensor in
            (
                tensor.name,
                Inferred(
                    dataType: tensor.dataType, dims: useReshape ? tensor.reshape ?? tensor.dims : tensor.dims,
                    batching: config.maxBatchSize > 0, model: model)
            )
        }
        return Dictionary(tensors, uniquingKeysWith: { first, _ in first })
    }

    package func compatible(_ a: [Int64], _ b: [Int64]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0 == $1 || $0 == -1 || $1 == -1 }
    }

    /// R78: a step (or the ensemble's outputs) must not join tensors from different decoupled models.
    package func decoupledBranching(
        _ config: Inference_ModelConfig, _ scheduling: Inference_ModelEnsembling, _ context: LintContext
    ) -> String? {
        var graph = EnsembleGraph(steps: scheduling.step)
        for (index, step) in scheduling.step.enumerated() {
            for tensor in step.outputMap.values { graph.tensors[tensor, default: .init()].producers.append(index) }
            for tensor in Set(step.inputMap.values) { graph.tensors[tensor, default: .init()].consumers.append(index) }
        }
        graph.propagate(from: config.input.map(\.name))
        var origin: [String: Int] = [:]
        func origins(_ tensors: some Sequence<String>) -> Set<Int> { Set(tensors.compactMap { origin[$0] }) }
        for index in graph.firingOrder {
            let step = scheduling.step[index]
            let incoming = origins(step.inputMap.values)
            if incoming.count > 1 {
                return
                    "in ensemble \(config.name), step of model '\(step.modelName)' receives inputs originated from different decoupled models"
            }
            let decoupled = context.repository[step.modelName]?.config.modelTransactionPolicy.decoupled == true
            for tensor in step.outputMap.values {
                origin[tensor] = decoupled ? index : incoming.first
            }
        }
        if origins(config.output.map(\.name)).count > 1 {
            return
                "in ensemble \(config.name), step of model '\(config.name)' receives inputs originated from different decoupled models"
        }
        return nil
    }
}
