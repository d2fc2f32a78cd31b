import Foundation
import TritonPackModels

/// R80-R87 after NormalizeInstanceGroup (N2), against the target's GPUs when `--gpus` gives them.
package struct InstanceGroupRule: LintRule {
    public static let description = RuleDescription(
        identifier: "instance-group", name: "Instance groups", severity: .error,
        catalog: ["N2", "R80", "R81", "R82", "R83", "R84", "R85", "R86", "R87"],
        summary:
            "KIND_MODEL and KIND_CPU groups list no GPUs; KIND_GPU groups name GPUs the target has (checked with --gpus N; --gpus 0 is a CPU-only server); `profile` is TensorRT-only and numeric.",
        tritonMessage: "instance group {g} of model {model} has kind KIND_CPU but specifies one or more GPUs",
        triggering: [
            .config("backend: \"python\"\ninstance_group [ { kind: KIND_CPU ↓gpus: [ 0 ] } ]"),
            .config("backend: \"python\"\ninstance_group [ { kind: KIND_GPU ↓gpus: [ 3 ] } ]", gpus: 1),
            .config("backend: \"python\"\ninstance_group [ { ↓kind: KIND_GPU } ]", gpus: 0),
            .config("backend: \"python\"\ninstance_group [ { kind: KIND_CPU ↓profile: [ \"0\" ] } ]"),
        ],
        nonTriggering: [
            .config("backend: \"python\"\ninstance_group [ { kind: KIND_GPU gpus: [ 0 ] } ]", gpus: 1),
            .config("backend: \"python\"\ninstance_group [ { kind: KIND_GPU gpus: [ 0 ] } ]"),
        ])

    /// Triton 2.51's default minimum compute capability (`--min-supported-compute-capability`).
    package static let minimumComputeCapability = "6.000000"

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        let config = model.config
        guard config.platform != "ensemble" else { return }
        let gpus = context.options.gpus
        for (index, group) in config.instanceGroup.enumerated() {
            let name = group.name.isEmpty ? "\(config.name)_\(index)" : group.name
            let field = "instance_group[\(index)]"
            var kind = group.kind
            if kind == .auto, let gpus {
                kind = gpus == 0 || group.gpus.contains(where: { $0 < 0 || $0 >= gpus }) ? .cpu : .gpu
            }
            switch kind {
            case .model where !group.gpus.isEmpty:
                report.report(
                    "instance group \(name) of model \(config.name) has kind KIND_MODEL but specifies one or more GPUs",
                    at: "\(field).gpus"
                )
            case .gpu:
                guard let gpus else { break }
                if group.gpus.isEmpty && gpus == 0 {
                    report.report(
                        "instance group \(name) of model \(config.name) has kind KIND_GPU but no GPUs are available",
                        at: "\(field).kind")
                } else if let bad = group.gpus.first(where: { $0 < 0 || $0 >= gpus }) {
                    let available = (0..<gpus).map(String.init).joined(separator: ", ")
                    report.report(
                        "instance group \(name) of model \(config.name) specifies invalid or unsupported gpu id \(bad). GPUs with at least the minimum required CUDA compute compatibility of \(Self.minimumComputeCapability) are: \(available)",
                        at: "\(field).gpus")
                }
            case .cpu where !group.gpus.isEmpty:
                report.report(
                    "instance group \(name) of model \(config.name) has kind KIND_CPU but specifies one or more GPUs",
                    at: "\(field).gpus")
            case .auto where !group.gpus.isEmpty:
                report.report(
                    "instance group \(name) of model \(config.name) has kind KIND_AUTO with GPUs: on a server without GPUs it becomes KIND_CPU and is refused (has kind KIND_CPU but specifies one or more GPUs)",
                    at: "\(field).gpus", severity: .warning)
            default:
                break
            }
            if !group.profile.isEmpty && config.platform != "tensorrt_plan" {
                report.report(
                    "instance group \(name) of model \(config.name) and platform \(config.platform)specifies profile field which is only supported for TensorRT models",
                    at: "\(field).profile")
            } else {
                for profile in group.profile {
                    if profile.isEmpty {
                        report.report("profile name must not be empty", at: "\(field).profile")
                    } else if Int(profile.prefix { $0.isNumber || $0 == "-" || $0 == "+" }) ?? -1 < 0 {
                        report.report(
                            "instance group \(name) of model \(config.name) and platform \(config.platform) specifies invalid profile \(profile). The field should contain the string representation of a non-negative integer.",
                            at: "\(field).profile")
                    }
                }
            }
            if group.count < 1 && !(group.count == 0 && !hasCountField(model, index)) {
                report.report(
                    "instance group \(name) has count \(group.count); Triton silently replaces counts below 1 with its default",
                    at: "\(field).count", severity: .warning)
            }
        }
    }

    private func hasCountField(_ model: ModelUnderLint, _ index: Int) -> Bool {
        model.document?.positions["instance_group[\(index)].count"] != nil
    }
}

/// R93-R99: warmup samples: their data (GenerateWarmupData, for every sample first), then each
/// sample's requests as Triton validates an inference request, then their batch size.
package struct WarmupRule: LintRule {
    package static let io = "input [ { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] } ]\n"
    package static func sample(_ inputs: String, batch: Int = 1) -> String {
        "model_warmup [ { name: \"w\" batch_size: \(batch) \(inputs) } ]"
    }
    package static let x = "inputs { key: \"x\" value: { data_type: TYPE_FP32 dims: [ 4 ] zero_data: true } }"

    public static let description = RuleDescription(
        identifier: "model-warmup", name: "Model warmup", severity: .error,
        catalog: ["R93", "R94", "R95", "R96", "R97", "R98", "R99"],
        summary:
            "Warmup samples need fully specified dims, a data source, and data files under warmup/ that are large enough; each sample is then run as batch_size inference requests, validated like any request: every required config input present (duplicates count), data types and dims (after the batch dimension Triton prepends when max_batch_size > 0) as configured, and a batch no larger than max_batch_size (at least 1).",
        tritonMessage:
            "[request id: <id_unknown>] expected {N} inputs but got {M} inputs for model '{m}'. Got input(s) [...], but missing required input(s) [...]. Please provide all required input(s).",
        triggering: [
            .config("backend: \"python\"\nmax_batch_size: 2\n\(io)model_warmup [ { name: \"w\" ↓batch_size: 4 \(x) } ]"),
            .config(
                "backend: \"python\"\n\(io)"
                    + sample("↓inputs { key: \"x\" value: { data_type: TYPE_FP32 dims: [ -1 ] zero_data: true } }")),
            .config(
                "backend: \"python\"\n\(io)"
                    + sample("↓inputs { key: \"x\" value: { data_type: TYPE_FP32 dims: [ 4 ] input_data_file: \"x.bin\" } }")),
            // R99: a required input missing, a data type or a shape that differs from the config.
            .config(
                "backend: \"python\"\nmax_batch_size: 2\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] }, { name: \"z\" data_type: TYPE_INT32 dims: [ 1 ] } ]\n"
                    + sample("↓" + x)),
            .config(
                "backend: \"python\"\nmax_batch_size: 2\n\(io)"
                    + sample("↓inputs { key: \"x\" value: { data_type: TYPE_UINT8 dims: [ 4 ] zero_data: true } }")),
            .config(
                "backend: \"python\"\nmax_batch_size: 2\n\(io)"
                    + sample("↓inputs { key: \"x\" value: { data_type: TYPE_FP32 dims: [ 1, 4 ] zero_data: true } }")),
        ],
        nonTriggering: [
            .config(
                "backend: \"python\"\nmax_batch_size: 2\n\(io)"
                    + sample("inputs { key: \"x\" value: { data_type: TYPE_FP32 dims: [ 4 ] random_data: true } }", batch: 2)),
            // Optional inputs may be left out, names that are no config input are ignored, and the
            // dims are compared with the config's dims (not its reshape).
            .config(
                "backend: \"python\"\nmax_batch_size: 2\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 4 ] }, { name: \"o\" data_type: TYPE_FP32 dims: [ 1 ] optional: true } ]\n"
                    + sample(x + " inputs { key: \"other\" value: { data_type: TYPE_INT8 dims: [ 3 ] zero_data: true } }")),
            .config(
                "backend: \"python\"\nmax_batch_size: 2\ninput [ { name: \"x\" data_type: TYPE_FP32 dims: [ 2, 2 ] reshape { shape: [ 4 ] } } ]\n"
                    + sample("inputs { key: \"x\" value: { data_type: TYPE_FP32 dims: [ 2, 2 ] zero_data: true } }")),
        ],
        tritonSource: [
            "core src/backend_model_instance.cc GenerateWarmupData, WarmUp",
            "core src/infer_request.cc ValidateRequestInputs (input count, data type, shape)",
            "the backend's batch check at execution (\"batch size {n} for '{instance}', max allowed is {mbs}\"), seen refusing in the 2.51 server, and in other runs dying while loading a warmup batch above max_batch_size",
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        let config = model.config
        guard config.platform != "ensemble" else { return }
        // GenerateWarmupData prepares every sample before any runs.
        for (index, sample) in config.modelWarmup.enumerated() where sample.batchSize > 0 {
            for (input, value) in sample.inputs.sorted(by: { $0.key < $1.key }) {
                if let message = inputError(input, value, model: model) {
                    report.report(message, at: "model_warmup[\(index)].inputs")
                    return
                }
            }
        }
        for (index, sample) in config.modelWarmup.enumerated() where sample.batchSize > 0 {
            let field = "model_warmup[\(index)]"
            if let message = Self.requestError(sample, config: config) {
                report.report("\(message)", at: "\(field).inputs")
                return
            }
            if Int64(sample.batchSize) > Int64(max(config.maxBatchSize, 1)) {
                report.report(
                    "failed to run warmup sample '\(sample.name)': batch size \(sample.batchSize) for '\(Self.firstInstance(config))', max allowed is \(config.maxBatchSize)",
                    at: "\(field).batch_size")
                return
            }
        }
    }

    /// The name of the first instance, which runs the warmup (N2: groups named after the model).
    package static func firstInstance(_ config: Inference_ModelConfig) -> String {
        guard let group = config.instanceGroup.first else { return "\(config.name)_0" }
        return (group.name.isEmpty ? "\(config.name)_0" : group.name) + "_0"
    }

    /// Triton's data type names in request errors (TRITONSERVER_DataTypeString).
    package static func requestTypeName(_ type: Inference_DataType) -> String {
        type == .typeString ? "BYTES" : String(type.configName.dropFirst("TYPE_".count))
    }

    package static func shapeString(_ dims: [Int64]) -> String { "[\(dims.map(String.init).joined(separator: ","))]" }

    /// R99: a warmup request is validated like an inference request (infer_request.cc
    /// ValidateRequestInputs). Warmup inputs that are not config inputs are override inputs.
    package static func requestError(_ sample: Inference_ModelWarmup, config: Inference_ModelConfig) -> String? {
        let prefix = "[request id: <id_unknown>] "
        var configInputs: [String: Inference_ModelInput] = [:]
        for input in config.input where configInputs[input.name] == nil { configInputs[input.name] = input }
        let given = sample.inputs.keys.filter { configInputs[$0] != nil }.sorted()
        let required = config.input.filter { !$0.optional }
        if given.count > config.input.count || given.count < required.count {
            let missing = required.filter { sample.inputs[$0.name] == nil }.map { "'\($0.name)'" }
            // Triton drops the last character of "[" + "'a'," + ... to remove the trailing comma,
            // so with nothing missing the list prints as "]".
            let missingList = missing.isEmpty ? "]" : "[\(missing.joined(separator: ","))]"
            let givenList = "[\(given.map { "'\($0)'" }.joined(separator: ","))]"
            let expected =
                config.input.count == required.count
                ? "expected \(config.input.count) inputs"
                : "expected number of inputs between \(required.count) and \(config.input.count)"
            return
                "\(prefix)\(expected) but got \(given.count) inputs for model '\(config.name)'. Got input(s) \(givenList), but missing required input(s) \(missingList). Please provide all required input(s)."
        }
        for name in given {
            let input = configInputs[name]!
            let value = sample.inputs[name]!
            if value.dataType != input.dataType {
                return
                    "\(prefix)inference input '\(name)' data-type is '\(requestTypeName(value.dataType))', but model '\(config.name)' expects '\(requestTypeName(input.dataType))'"
            }
            let batching = config.maxBatchSize > 0
            let sent = batching ? [1] + value.dims : value.dims
            let matches =
                value.dims.count == input.dims.count
                && zip(input.dims, value.dims).allSatisfy { $0 == -1 || $0 == $1 }
            if !matches {
                let expected = batching ? [-1] + input.dims : input.dims
                let note =
                    batching
                    ? "NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each input shape. If you want to specify the full shape including the batch dim in your input dims config, try setting max_batch_size to zero. See the model configuration docs for more info on max_batch_size."
                    : ""
                return
                    "\(prefix)unexpected shape for input '\(name)' for model '\(config.name)'. Expected \(shapeString(expected)), got \(shapeString(sent)). \(note)"
                    .trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    package func inputError(_ input: String, _ value: Inference_ModelWarmup.Input, model: ModelUnderLint) -> String? {
        if value.dims.contains(where: { $0 < -1 }) {
            let shape = "[\(value.dims.map(String.init).joined(separator: ","))]"
            return value.dataType == .typeString
                ? "tensor '\(input)' contains an invalid dimension in shape \(shape)"
                : "tensor '\(input)' contains an invalid dimension \(shape)"
        }
        if value.dims.contains(-1) || value.dataType == .typeInvalid {
            return "warmup setting expects all variable-size dimensions are specified for input '\(input)'"
        }
        switch value.inputDataType {
        case nil:
            return "[request id: <id_unknown>] warmup setting expects input '\(input)' to have input_data_type set"
        case .inputDataFile(let file):
            let path = model.directory.appendingPathComponent("warmup/\(file)").path
            guard POSIXFiles.isRegularFile(path), let size = POSIXFiles.fileSize(path) else {
                return "failed to open text file for read \(path): No such file or directory"
            }
            if let itemSize = value.dataType.byteSize {
                let expected = value.dims.reduce(Int64(1), *) * Int64(itemSize)
                if size < expected {
                    return
                        "[request id: <id_unknown>] warmup setting expects \(expected) bytes, but the data provided from \(file)only has \(size) bytes"
                }
            }
            return nil
        default:
            return nil
        }
    }
}

/// R53-R54: output label files, as Triton 2.51 opens them: the label_filename joined to the model
/// directory as written (an absolute name is appended too), no containment check.
package struct LabelFileRule: LintRule {
    public static let description = RuleDescription(
        identifier: "label-file", name: "Label files", severity: .error, catalog: ["R53", "R54"],
        summary:
            "An output's label_filename must name a readable file, joined to the model folder as written (2.51 appends even an absolute name, and reads '../' names outside the folder: a warning, since later Triton versions refuse them), and only one output of a name may have one.",
        tritonMessage: "failed to open text file for read {model_dir}/{label_filename}: {strerror}",
        triggering: [
            .config(
                "backend: \"python\"\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 1 ] ↓label_filename: \"labels.txt\" } ]"
            ),
            .config(
                "backend: \"python\"\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 1 ] ↓label_filename: \"/etc/hostname\" } ]"
            ),
        ],
        nonTriggering: [
            .config(
                "backend: \"python\"\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 1 ] label_filename: \"labels.txt\" } ]",
                extra: ["labels.txt": "cat\n"])
        ],
        tritonSource: [
            "core src/model.cc Model::Init: JoinPath(model_dir, label_filename), then label_provider.cc AddLabels (ReadTextFile); seen on the 2.51 server: '../labels.txt' that exists loads, '/abs/labels.txt' is looked up as <model_dir>/abs/labels.txt"
        ])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        var labelled = Set<String>()
        let root = model.directory.standardizedFileURL.path
        for (index, output) in model.config.output.enumerated() where !output.labelFilename.isEmpty {
            let field = "output[\(index)].label_filename"
            let joined = model.directory.path + "/" + output.labelFilename
            if !POSIXFiles.isRegularFile(joined) {
                report.report("failed to open text file for read \(joined): No such file or directory", at: field)
                return
            }
            if !URL(fileURLWithPath: joined).standardizedFileURL.path.hasPrefix(root + "/") {
                report.report(
                    "label file '\(output.labelFilename)' for output '\(output.name)' is outside the model directory: Triton 2.51 reads it, later versions refuse it",
                    at: field, severity: .warning)
            }
            if !labelled.insert(output.name).inserted {
                report.report("multiple label files for '\(output.name)'", at: field)
                return
            }
        }
    }
}
