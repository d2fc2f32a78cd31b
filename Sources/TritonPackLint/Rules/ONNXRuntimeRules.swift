import Foundation
import TritonPackModels

/// A tiny ONNX model for the rules' examples: x FLOAT [N, 4] -> y FLOAT [N, 4] (Identity).
package enum ONNXExample {
    package static let identityBatch = Array(
        Data(
            base64Encoded:
                "CAcSCnRyaXRvbnBhY2s6TgoQCgF4EgF5IghJZGVudGl0eRIOaWRlbnRpdHlfYmF0Y2haFAoBeBIPCg0IARIJCgMSAU4KAggEYhQKAXkSDwoNCAESCQoDEgFOCgIIBEIECgAQDQ=="
        )!)

    /// The same graph written by onnx 1.23 as IR 10, opset 21 (newer than libonnx 1.12 checks).
    package static let identityIR10 = Array(
        Data(
            base64Encoded:
                "CAoSCnRyaXRvbnBhY2s6QQoQCgF4EgF5IghJZGVudGl0eRIBZ1oUCgF4Eg8KDQgBEgkKAxIBTgoCCARiFAoBeRIPCg0IARIJCgMSAU4KAggEQgQKABAV"
        )!)
    /// IR 9, opset 19: x, y FLOAT8E4M3FN [N, 4], a type Triton has no data type for.
    package static let float8IR9 = Array(
        Data(
            base64Encoded:
                "CAkSCnRyaXRvbnBhY2s6QQoQCgF4EgF5IghJZGVudGl0eRIBZ1oUCgF4Eg8KDQgREgkKAxIBTgoCCARiFAoBeRIPCg0IERIJCgMSAU4KAggEQgQKABAT"
        )!)

    package static func model(
        _ io: String, maxBatchSize: Int = 4, bytes: [UInt8] = identityBatch, fileLevel: [String] = [],
        sourceFile: StaticString = #filePath, sourceLine: UInt = #line
    ) -> LintExample {
        LintExample(
            files: ["config.pbtxt": "platform: \"onnxruntime_onnx\"\nmax_batch_size: \(maxBatchSize)\n\(io)"],
            binaryFiles: ["1/model.onnx": bytes], fileLevel: fileLevel, sourceFile: sourceFile, sourceLine: sourceLine)
    }

    package static let validIO =
        "input [ { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 4 ] } ]"
}

/// O4-O13: the ONNX Runtime backend's checks of the config against the model, at model and
/// instance initialization, in its order: sequence controls, input count, each input (name,
/// type, shape), each output (name, type, exact shape).
package struct ONNXRuntimeModelRule: LintRule {
    public static let description = RuleDescription(
        identifier: "onnx-model", name: "Config matches the ONNX model", severity: .error,
        catalog: ["O4", "O5", "O6", "O7", "O8", "O9", "O10", "O11", "O12", "O13"],
        summary:
            "For the ONNX Runtime backend, every served model.onnx must have the config's inputs (count, names, types, shapes: the config may fix a dynamic dimension) and outputs (names, types, exactly the same shapes), with a dynamic first dimension when max_batch_size > 0. Element types with no Triton data type (float8, int4, uint4) are refused with the tensor named. For IR versions or opsets newer than libonnx 1.12 knows (IR 9, 10; opset 18+), libonnx's checker and shape inference are skipped with an info note, and the cross-check uses the graph's declared inputs and outputs.",
        tritonMessage:
            "unable to load model '{m}', configuration expects datatype {TYPE_CFG} for input '{i}', model provides TYPE_{API}",
        triggering: [
            ONNXExample.model(
                "input [ { name: \"x\" ↓data_type: TYPE_INT32 dims: [ 4 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 4 ] } ]"
            ),
            ONNXExample.model(
                "input [ { ↓name: \"z\" data_type: TYPE_FP32 dims: [ 4 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 4 ] } ]"
            ),
            ONNXExample.model(
                "input [ { name: \"x\" data_type: TYPE_FP32 ↓dims: [ 4, 1 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 4 ] } ]"
            ),
            ONNXExample.model(
                "input [ { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 4 ] }, { ↓name: \"w\" data_type: TYPE_FP32 dims: [ 4 ] } ]"
            ),
            ONNXExample.model(
                "input [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1, 4 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 ↓dims: [ 8, 4 ] } ]",
                maxBatchSize: 0),
            // IR 10: checked against the graph's declared inputs and outputs.
            ONNXExample.model(
                "input [ { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 ↓dims: [ 5 ] } ]",
                bytes: ONNXExample.identityIR10),
            // float8 has no Triton data type: auto-complete fills TYPE_INVALID, named with the tensor.
            ONNXExample.model("", bytes: ONNXExample.float8IR9, fileLevel: ["config.pbtxt"]),
        ],
        nonTriggering: [
            ONNXExample.model(ONNXExample.validIO),
            ONNXExample.model(ONNXExample.validIO, bytes: ONNXExample.identityIR10),
            ONNXExample.model(
                "input [ { name: \"x\" data_type: TYPE_FP32 dims: [ 8, 4 ] } ]\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ -1, 4 ] } ]",
                maxBatchSize: 0),
        ],
        tritonSource: [
            "onnxruntime_backend src/onnxruntime.cc AutoCompleteConfig, ValidateInputs, ValidateOutputs",
            "onnxruntime_backend src/onnxruntime_utils.cc CompareDimsSupported, OnnxDataTypeToModelConfigDataType",
        ])

    public init() {}

    /// The ONNX file of each served version, as the backend resolves it (O1), when it exists.
    package static func modelFiles(_ model: ModelUnderLint) -> [String] {
        model.servedVersions.compactMap { version in
            var file =
                "\(version)/\(model.config.defaultModelFilename.isEmpty ? "model.onnx" : model.config.defaultModelFilename)"
            if POSIXFiles.isDirectory(model.directory.appendingPathComponent(file).path) { file += "/model.onnx" }
            return POSIXFiles.exists(model.directory.appendingPathComponent(file).path) ? file : nil  // model-file reports it
        }
    }

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        guard model.config.backend == "onnxruntime" else { return }
        for file in Self.modelFiles(model) {
            let url = model.directory.appendingPathComponent(file)
            let onnx: ONNXModel
            do {
                onnx = try ONNXModel.read(at: url)
            } catch let error as TritonPackError {
                report.report("unable to load model '\(model.config.name)': \(error.message)", file: file)
                continue
            } catch {
                continue
            }
            if let checkError = onnx.checkError {
                report.report("onnx checker refuses \(file): \(checkError)", file: file, severity: .warning)
            }
            if let (message, field) = firstError(model, onnx, autoComplete: context.options.autoComplete) {
                report.report(message, at: field)
            }
        }
    }

    package func shapeString(_ dims: [Int64]) -> String { "[\(dims.map(String.init).joined(separator: ","))]" }

    package func firstError(_ model: ModelUnderLint, _ onnx: ONNXModel, autoComplete: Bool) -> (String, String)? {
        let config = model.config
        let name = config.name
        let batching = config.maxBatchSize > 0
        let fillsInputs = autoComplete && config.input.isEmpty && config.batchInput.isEmpty
        let fillsOutputs = autoComplete && config.output.isEmpty
        if (fillsInputs || fillsOutputs) && !onnx.supportsBatching && batching {
            return (
                "autofill failed for model '\(name)': model does not support batching while non-zero max_batch_size is specified",
                "max_batch_size"
            )
        }
        for value in onnx.inputs + onnx.outputs where value.kind != .tensor {
            return (
                "Unsupported ONNX Type '\(value.kind.rawValue)' for I/O '\(value.name)', expected 'ONNX_TYPE_TENSOR'.", "input"
            )
        }
        // Element types with no Triton data type (IR 9 float8, IR 10 int4/uint4, complex): the
        // backend's auto-complete writes TYPE_INVALID (onnxruntime_utils.cc
        // OnnxDataTypeToModelConfigDataType), which ValidateModelIOConfig then refuses.
        for (values, fills, prefix) in [(onnx.inputs, fillsInputs, "model input"), (onnx.outputs, fillsOutputs, "model output")]
        where fills {
            if let value = values.first(where: { $0.elementType.tritonType == nil }) {
                return (
                    "\(prefix) '\(value.name)' must specify 'data_type' for \(name) (the model's element type \(value.elementType.name) has no Triton data type)",
                    "backend"
                )
            }
        }
        let allowed = Dictionary(
            (onnx.inputs + onnx.overridableInitializers).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        if let error = sequenceControlError(config, allowed) { return (error, "sequence_batching") }
        if !fillsInputs {
            var controls = 0
            if case .sequenceBatching(let batcher)? = config.schedulingChoice {
                controls = batcher.controlInput.count + batcher.state.count
            }
            let expected = config.input.filter { !$0.optional }.count + config.batchInput.count + controls
            if expected != onnx.inputs.count {
                return (
                    "unable to load model '\(name)', configuration expects \(expected) inputs, model provides \(onnx.inputs.count)",
                    "input"
                )
            }
            for (index, input) in config.input.enumerated() {
                let field = "input[\(index)]"
                guard let value = allowed[input.name] else {
                    return (
                        "unexpected inference input '\(input.name)', allowed inputs are: \(allowed.keys.sorted().joined(separator: ", "))",
                        "\(field).name"
                    )
                }
                if input.optional && batching {
                    return (
                        "unable to load model '\(name)', optional input '\(input.name)' is not supported for models that support batching",
                        field
                    )
                }
                if value.elementType.tritonType != input.dataType {
                    return (
                        "unable to load model '\(name)', configuration expects datatype \(input.dataType.configName) for input '\(input.name)', model provides TYPE_\(value.elementType.serverTypeName)",
                        "\(field).data_type"
                    )
                }
                let configured = input.hasReshape ? input.reshape.shape : input.dims
                if input.allowRaggedBatch {
                    if value.dims != [-1] {
                        return (
                            "unable to load model '\(name)', configuration expects model provides input with shape [-1]  for ragged input '\(input.name)', model provides \(shapeString(value.dims ?? []))",
                            field
                        )
                    }
                } else if let error = shapeError(name, input.name, value.dims ?? [], configured, batching: batching, exact: false)
                {
                    return (error, "\(field).dims")
                }
            }
        }
        if !fillsOutputs {
            let outputs = Dictionary(onnx.outputs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            let scattered = Set(config.batchOutput.flatMap(\.targetName))
            for (index, output) in config.output.enumerated() {
                let field = "output[\(index)]"
                guard let value = outputs[output.name] else {
                    return (
                        "unexpected inference output '\(output.name)', allowed outputs are: \(outputs.keys.sorted().joined(separator: ", "))",
                        "\(field).name"
                    )
                }
                if value.elementType.tritonType != output.dataType {
                    return (
                        "unable to load model '\(name)', configuration expects datatype \(output.dataType.configName) for output '\(output.name)', model provides TYPE_\(value.elementType.serverTypeName)",
                        "\(field).data_type"
                    )
                }
                if scattered.contains(output.name) { continue }
                let configured = output.hasReshape ? output.reshape.shape : output.dims
                if let error = shapeError(name, output.name, value.dims ?? [], configured, batching: batching, exact: true) {
                    return (error, "\(field).dims")
                }
            }
        }
        return nil
    }

    /// CompareDimsSupported: the config's shape (with the batch dimension when batching) against the model's.
    package func shapeError(
        _ model: String, _ tensor: String, _ onnx: [Int64], _ configured: [Int64], batching: Bool, exact: Bool
    )
        -> String?
    {
        if onnx.isEmpty {
            if !batching && configured.allSatisfy({ $0 == 1 }) { return nil }
            if !batching {
                return
                    "unable to load model '\(model)', scalar tensor '\(tensor)', should only provide 1 in the model configuration when the model doesn't support batching. Model configuration provided: \(shapeString(configured))."
            }
        }
        if batching && (onnx.isEmpty || onnx[0] != -1) {
            return
                "model '\(model)', tensor '\(tensor)': for the model to support batching the shape should have at least 1 dimension and the first dimension must be -1; but shape expected by the model is \(shapeString(onnx))"
        }
        let full = batching ? [-1] + configured : configured
        let matches =
            full.count == onnx.count
            && zip(onnx, full).allSatisfy { model, config in exact ? model == config : (model == -1 || model == config) }
        if matches { return nil }
        let specified =
            batching
            ? "\(full.count) dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape \(shapeString(full)))"
            : "\(full.count) dimensions (shape \(shapeString(full)))"
        return
            "model '\(model)', tensor '\(tensor)': the model expects \(onnx.count) dimensions (shape \(shapeString(onnx))) but the model configuration specifies \(specified)"
    }

    /// O13: sequence control tensors must be model inputs of shape [1] (without batch) and the right type.
    package func sequenceControlError(_ config: Inference_ModelConfig, _ allowed: [String: ONNXModel.Value]) -> String? {
        guard case .sequenceBatching(let batcher)? = config.schedulingChoice else { return nil }
        for input in batcher.controlInput {
            guard let value = allowed[input.name] else {
                return "configuration specified sequence control '\(input.name)', but model does not provide that input"
            }
            let dims = value.dims ?? []
            let withoutBatch = config.maxBatchSize > 0 ? Array(dims.dropFirst()) : dims
            if withoutBatch != [1] {
                return
                    "unable to load model '\(config.name)', sequence control '\(input.name)' in model has dims \(shapeString(withoutBatch)) but dims [1] is expected"
            }
            for control in input.control {
                let expected: Inference_DataType
                if !control.int32FalseTrue.isEmpty {
                    expected = .typeInt32
                } else if !control.fp32FalseTrue.isEmpty {
                    expected = .typeFp32
                } else if !control.boolFalseTrue.isEmpty {
                    expected = .typeBool
                } else {
                    expected = control.dataType
                }
                if value.elementType.tritonType != expected {
                    return
                        "unable to load model '\(config.name)', sequence control '\(input.name)', the model expects data-type \(value.elementType.name) but the model configuration specifies data-type \(expected.configName)"
                }
            }
        }
        return nil
    }
}

/// Says when libonnx's checker and shape inference did not run on a served ONNX file (an IR
/// version or opset newer than libonnx 1.12 knows), so that a clean result is not mistaken for a
/// checked one. The config is still cross-checked against the graph's declared inputs and outputs.
package struct ONNXCheckerSkippedRule: LintRule {
    public static let description = RuleDescription(
        identifier: "onnx-checker-skipped", name: "ONNX checker skipped", severity: .info,
        summary:
            "libonnx 1.12 knows ONNX IR versions up to 8 and opsets up to 17; for newer files (written by onnx 1.15+ or current exporters; ONNX Runtime in Triton 24.10 loads IR 10, opset 21) its checker and shape inference are skipped, and this note says so.",
        triggering: [ONNXExample.model(ONNXExample.validIO, bytes: ONNXExample.identityIR10, fileLevel: ["1/model.onnx"])],
        nonTriggering: [ONNXExample.model(ONNXExample.validIO)],
        tritonSource: [
            "onnxruntime_backend src/onnxruntime.cc LoadModel (ONNX Runtime parses the file itself; IR 10 is accepted by ORT 1.19)"
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        guard model.config.backend == "onnxruntime" else { return }
        for file in ONNXRuntimeModelRule.modelFiles(model) {
            guard let onnx = try? ONNXModel.read(at: model.directory.appendingPathComponent(file)), let note = onnx.checkerNote
            else { continue }
            report.report(note, file: file)
        }
    }
}
