import Foundation
import TritonPackModels

/// One input or output, seen through the fields ValidateIOShape reads.
package struct IOTensor {
    package var name: String
    package var dataType: Inference_DataType
    package var dims: [Int64]
    package var reshape: [Int64]?
    package var isInput: Bool
    package var field: String

    package var prefix: String { isInput ? "model input " : "model output " }

    package static func all(_ config: Inference_ModelConfig) -> [IOTensor] {
        config.input.enumerated().map { index, input in
            IOTensor(
                name: input.name, dataType: input.dataType, dims: input.dims,
                reshape: input.hasReshape ? input.reshape.shape : nil, isInput: true, field: "input[\(index)]")
        }
            + config.output.enumerated().map { index, output in
                IOTensor(
                    name: output.name, dataType: output.dataType, dims: output.dims,
                    reshape: output.hasReshape ? output.reshape.shape : nil, isInput: false, field: "output[\(index)]")
            }
    }
}

/// Triton's GetElementCount: -1 when any dimension is variable, 0 for no dimensions.
package func tritonElementCount(_ dims: [Int64]) -> Int64? {
    if dims.contains(-1) { return -1 }
    guard var count = dims.first else { return 0 }
    for dim in dims.dropFirst() {
        let (product, overflow) = count.multipliedReportingOverflow(by: dim)
        if overflow { return nil }
        count = product
    }
    return count
}

/// R30-R43: ValidateModelIOConfig for inputs and outputs, in Triton's order.
package struct IOConfigRule: LintRule {
    public static let description = RuleDescription(
        identifier: "io-config", name: "Input and output specification", severity: .error, phase: .inputOutput,
        catalog: ["R30", "R31", "R32", "R33", "R34", "R35", "R36", "R37", "R38", "R39", "R40", "R41", "R42", "R43"],
        summary:
            "Every input and output has a name, a data type and non-empty dims of values >= 1 or -1; a reshape has valid values and the same element count (segment by segment around -1); NHWC/NCHW inputs have 3 dims; shape tensors and non-linear formats are TensorRT-only. With auto-complete on (the default), a missing data_type or dims is accepted for backends that complete each tensor from the model file before Model::Init validates it: TensorRT, DALI, and Python when model.py defines auto_complete_config (not ONNX Runtime, which fills only an empty input or output list, nor OpenVINO, which does not auto-complete).",
        tritonMessage: "model input '{io}' must specify 'dims' for {model}",
        triggering: [
            .config("backend: \"python\"\n↓input [ { name: \"x\" data_type: TYPE_FP32 } ]"),
            .config(
                "backend: \"python\"\n↓input [ { name: \"x\" data_type: TYPE_FP32 } ]",
                extra: [
                    "1/model.py":
                        "class TritonPythonModel:\n    @staticmethod\n    def auto_complete_config(c):\n        return c\n"
                ],
                autoComplete: false),
            LintExample(
                files: ["config.pbtxt": "backend: \"dali\"\nmax_batch_size: 2\n↓input [ { name: \"x\" } ]", "1/model.dali": ""],
                autoComplete: false),
            .config("backend: \"python\"\n↓input [ { name: \"x\" dims: [ 1 ] } ]"),
            .config("backend: \"python\"\noutput [ { name: \"y\" data_type: TYPE_FP32 ↓dims: [ 0 ] } ]"),
            .config(
                "backend: \"python\"\nmax_batch_size: 4\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 2, 2 ] ↓reshape { shape: [ 3 ] } } ]"
            ),
            .config("backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 1 ] ↓reshape { } } ]"),
            .config("backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 ↓format: FORMAT_NCHW dims: [ 3, 4 ] } ]"),
        ],
        nonTriggering: [
            .config(
                "backend: \"python\"\nmax_batch_size: 4\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 1 ] reshape { } } ]"),
            .config(
                "backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 } ]\noutput [ { name: \"y\" } ]",
                extra: [
                    "1/model.py":
                        "class TritonPythonModel:\n    @staticmethod\n    def auto_complete_config(c):\n        c.add_input({'name': 'x', 'data_type': 'TYPE_FP32', 'dims': [4]})\n        return c\n"
                ]),
            LintExample(files: [
                "config.pbtxt": "backend: \"dali\"\nmax_batch_size: 2\ninput [ { name: \"x\" } ]\noutput [ { name: \"y\" } ]",
                "1/model.dali": "",
            ]),
            LintExample(files: [
                "config.pbtxt": "platform: \"tensorrt_plan\"\nmax_batch_size: 2\ninput [ { name: \"x\" data_type: TYPE_FP32 } ]",
                "1/model.plan": "",
            ]),
            .config(
                "backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 2, 4, -1, 6 ] reshape { shape: [ 8, -1, 1, 6 ] } } ]"
            ),
        ],
        tritonSource: [
            "core src/model_config_utils.cc ValidateModelIOConfig, ValidateIOShape",
            "auto-complete: tensorrt_backend src/model_state.cc AutoCompleteConfigHelper; dali_backend src/config_tools/config_tools.cc AutofillIOConfig; python_backend auto_complete_config; onnxruntime_backend src/onnxruntime.cc AutoCompleteConfig (empty sides only); openvino_backend src/openvino.cc AutoCompleteConfig (not supported)",
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let config = context.model.config
        // Asked only when a tensor lacks a data_type or dims (it may read model.py).
        var backendFills: Bool?
        for var tensor in IOTensor.all(config) {
            if !tensor.name.isEmpty && (tensor.dataType == .typeInvalid || tensor.dims.isEmpty) {
                if backendFills == nil {
                    backendFills = BackendAutoComplete.fillsTensors(context.model, options: context.options)
                }
                if backendFills == true {
                    // The backend completes the tensor from the model file before Model::Init
                    // validates it; the rest of the tensor is still validated.
                    if tensor.dataType == .typeInvalid { tensor.dataType = .typeFp32 }
                    if tensor.dims.isEmpty { continue }
                }
            }
            if let (message, field) = Self.firstError(tensor, config: config) {
                report.report("\(message) for \(config.name)", at: field)
            }
        }
    }

    package static func firstError(_ tensor: IOTensor, config: Inference_ModelConfig) -> (String, String)? {
        let prefix = tensor.prefix
        let name = tensor.name
        let field = tensor.field
        if name.isEmpty { return ("\(prefix)must specify 'name'", field) }
        if tensor.dataType == .typeInvalid { return ("\(prefix)'\(name)' must specify 'data_type'", "\(field).data_type") }
        if tensor.dims.isEmpty { return ("\(prefix)'\(name)' must specify 'dims'", field) }
        if let reshape = tensor.reshape, reshape.isEmpty, config.maxBatchSize == 0 {
            return (
                "\(prefix)'\(name)' cannot have empty reshape for non-batching model as scalar tensors are not supported",
                "\(field).reshape"
            )
        }
        if tensor.dims.contains(where: { $0 < 1 && $0 != -1 }) {
            return (
                "\(prefix)'\(name)' dimension must be integer >= 1, or -1 to indicate a variable-size dimension",
                "\(field).dims"
            )
        }
        if let reshape = tensor.reshape, reshape.contains(where: { $0 < 1 && $0 != -1 }) {
            return (
                "\(prefix)'\(name)' reshape dimensions must be integer >= 1, or -1 to indicate a variable-size dimension",
                "\(field).reshape"
            )
        }
        guard let dimsCount = tritonElementCount(tensor.dims) else {
            return ("element count for tensor '\(name) dims' exceeds maximum size of 9223372036854775807", "\(field).dims")
        }
        if let reshape = tensor.reshape {
            guard let reshapeCount = tritonElementCount(reshape) else {
                return (
                    "element count for tensor '\(name) reshape' exceeds maximum size of 9223372036854775807", "\(field).reshape"
                )
            }
            if dimsCount != reshapeCount && (reshapeCount != 0 || dimsCount != 1) {
                return ("\(prefix)'\(name)' has different size for dims and reshape", "\(field).reshape")
            }
            if dimsCount == -1 {
                let dimsSegments = segments(tensor.dims)
                let reshapeSegments = segments(reshape)
                if dimsSegments.count != reshapeSegments.count {
                    return (
                        "\(prefix)'\(name)' has different number of variable-size dimensions for dims and reshape",
                        "\(field).reshape"
                    )
                }
                if dimsSegments != reshapeSegments {
                    return ("\(prefix)'\(name)' has different size for dims and reshape", "\(field).reshape")
                }
            }
        }
        let platform = config.platform
        if tensor.isInput, let input = config.input.first(where: { $0.name == name }) {
            if (input.format == .nhwc || input.format == .nchw) && input.dims.count != 3 {
                return ("model input NHWC/NCHW require 3 dims", "\(field).format")
            }
            if input.isShapeTensor && platform != "tensorrt_plan" {
                return ("shape tensors are only supported for TensorRT platform", "\(field).is_shape_tensor")
            }
            if input.isNonLinearFormatIo && platform != "tensorrt_plan" {
                return ("Non-linear IO format is only supported for the TensorRT platform", "\(field).is_non_linear_format_io")
            }
            if input.isNonLinearFormatIo && input.dims.count != 3 {
                return ("Non-linear IO format input requires 3 dims", "\(field).is_non_linear_format_io")
            }
        } else if let output = config.output.first(where: { $0.name == name }) {
            if output.isShapeTensor && platform != "tensorrt_plan" {
                return ("shape tensors are only supported for TensorRT platform", "\(field).is_shape_tensor")
            }
            if output.isNonLinearFormatIo && platform != "tensorrt_plan" {
                return ("Non-linear IO format is only supported for the TensorRT platform", "\(field).is_non_linear_format_io")
            }
            if output.isNonLinearFormatIo && output.dims.count != 3 {
                return ("Non-linear IO format output requires 3 dims", "\(field).is_non_linear_format_io")
            }
        }
        return nil
    }

    /// Products of the fixed dimensions between variable ones: [2,4,-1,6] -> [8, 6].
    package static func segments(_ dims: [Int64]) -> [Int64] {
        var result: [Int64] = []
        var current: Int64 = 1
        for dim in dims {
            if dim == -1 {
                result.append(current)
                current = 1
            } else {
                current = current.multipliedReportingOverflow(by: dim).partialValue
            }
        }
        result.append(current)
        return result
    }
}

/// R44 (not checked by Triton): duplicate tensor names; Triton keeps the first silently.
package struct DuplicateIONameRule: LintRule {
    public static let description = RuleDescription(
        identifier: "duplicate-io-name", name: "Duplicate tensor names", severity: .warning, catalog: ["R44"],
        summary: "Two inputs (or two outputs) with the same name: Triton keeps the first and ignores the other.",
        triggering: [
            .config(
                "backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 1 ] }, { ↓name: \"x\" data_type: TYPE_INT32 dims: [ 2 ] } ]"
            )
        ],
        nonTriggering: [
            .config(
                "backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 1 ] } ]"
            )
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        for (kind, names) in [
            ("input", context.model.config.input.map(\.name)), ("output", context.model.config.output.map(\.name)),
        ] {
            var seen = Set<String>()
            for (index, name) in names.enumerated() where !seen.insert(name).inserted {
                report.report(
                    "\(kind) '\(name)' is specified more than once; Triton uses the first and ignores this one",
                    at: "\(kind)[\(index)].name")
            }
        }
    }
}

/// R45-R48: batch inputs.
package struct BatchInputRule: LintRule {
    public static let description = RuleDescription(
        identifier: "batch-input", name: "Batch inputs", severity: .error, phase: .inputOutput,
        catalog: ["R45", "R46", "R47", "R48"],
        summary:
            "Each batch_input kind (except none) takes exactly one source input that is a config input, and has type TYPE_INT32 or TYPE_FP32. With auto-complete on, an omitted data_type is refused first by the backend model, in its own words.",
        tritonMessage: "batch input kind '{KIND}' expects 1 source input, got {n}",
        triggering: [
            .config(
                "backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n↓batch_input [ { kind: BATCH_ELEMENT_COUNT target_name: \"B\" data_type: TYPE_FP32 } ]"
            ),
            .config(
                "backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n↓batch_input [ { kind: BATCH_ELEMENT_COUNT target_name: \"B\" source_input: \"x\" } ]"
            ),
            .config(
                "backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n↓batch_input [ { kind: BATCH_ELEMENT_COUNT target_name: \"B\" source_input: \"x\" } ]",
                autoComplete: false),
        ],
        nonTriggering: [
            .config(
                "backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1 ] } ]\nbatch_input [ { kind: BATCH_ELEMENT_COUNT target_name: \"B\" data_type: TYPE_FP32 source_input: \"x\" } ]"
            )
        ])

    package static func kindName(_ kind: Inference_BatchInput.Kind) -> String {
        switch kind {
        case .batchElementCount: "BATCH_ELEMENT_COUNT"
        case .batchAccumulatedElementCount: "BATCH_ACCUMULATED_ELEMENT_COUNT"
        case .batchAccumulatedElementCountWithZero: "BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO"
        case .batchMaxElementCountAsShape: "BATCH_MAX_ELEMENT_COUNT_AS_SHAPE"
        case .batchItemShape: "BATCH_ITEM_SHAPE"
        case .batchItemShapeFlatten: "BATCH_ITEM_SHAPE_FLATTEN"
        case .UNRECOGNIZED(let value): "\(value)"
        }
    }

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let config = context.model.config
        let inputs = Set(config.input.map(\.name))
        // With auto-complete on, the backend model (backend src/backend_model.cc BackendModel,
        // BatchInput::ParseFromModelConfig) reads the batch inputs before Model::Init validates
        // them, and an omitted data_type cannot be converted (seen on the 2.51 server).
        if context.options.autoComplete, config.platform != "ensemble",
            let index = config.batchInput.firstIndex(where: { $0.dataType == .typeInvalid })
        {
            report.report("unexpected batch input data type 'TYPE_INVALID'", at: "batch_input[\(index)]")
            return
        }
        for (index, batchInput) in config.batchInput.enumerated() {
            let field = "batch_input[\(index)]"
            let message: String?
            if case .UNRECOGNIZED = batchInput.kind {
                message = "unknown batch input kind '\(Self.kindName(batchInput.kind))'"
            } else if batchInput.sourceInput.count != 1 {
                message =
                    "batch input kind '\(Self.kindName(batchInput.kind))' expects 1 source input, got \(batchInput.sourceInput.count)"
            } else if batchInput.dataType != .typeInt32 && batchInput.dataType != .typeFp32 {
                message = "batch input data type must be TYPE_INT32 or TYPE_FP32"
            } else if let unknown = batchInput.sourceInput.first(where: { !inputs.contains($0) }) {
                message = "unknown source input name '\(unknown)'"
            } else {
                message = nil
            }
            if let message { report.report("\(message) for \(config.name)", at: field) }
        }
    }
}

/// R48-R51: batch outputs.
package struct BatchOutputRule: LintRule {
    public static let description = RuleDescription(
        identifier: "batch-output", name: "Batch outputs", severity: .error, phase: .inputOutput,
        catalog: ["R48", "R49", "R50", "R51"],
        summary:
            "A BATCH_SCATTER_WITH_INPUT_SHAPE batch output takes exactly one source input that is a config input; its targets are config outputs, each named once.",
        tritonMessage: "unknown target output name '{t}'",
        triggering: [
            .config(
                "backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n↓batch_output [ { target_name: \"z\" kind: BATCH_SCATTER_WITH_INPUT_SHAPE source_input: \"x\" } ]"
            )
        ],
        nonTriggering: [
            .config(
                "backend: \"python\"\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ -1 ] } ]\nbatch_output [ { target_name: \"y\" kind: BATCH_SCATTER_WITH_INPUT_SHAPE source_input: \"x\" } ]"
            )
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let config = context.model.config
        let inputs = Set(config.input.map(\.name))
        let outputs = Set(config.output.map(\.name))
        var targets = Set<String>()
        for (index, batchOutput) in config.batchOutput.enumerated() {
            let field = "batch_output[\(index)]"
            var message: String?
            if case .UNRECOGNIZED(let value) = batchOutput.kind {
                message = "unknown batch output kind '\(value)'"
            } else if batchOutput.sourceInput.count != 1 {
                message =
                    "batch output kind 'BATCH_SCATTER_WITH_INPUT_SHAPE' expects 1 source input, got \(batchOutput.sourceInput.count)"
            } else if let unknown = batchOutput.sourceInput.first(where: { !inputs.contains($0) }) {
                message = "unknown source input name '\(unknown)'"
            } else {
                for target in batchOutput.targetName {
                    if !outputs.contains(target) {
                        message = "unknown target output name '\(target)'"
                        break
                    }
                    if !targets.insert(target).inserted {
                        message = "target output name '\(target)' can only be specified once"
                        break
                    }
                }
            }
            if let message { report.report("\(message) for \(config.name)", at: field) }
        }
    }
}
