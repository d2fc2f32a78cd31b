import Foundation

/// R80-R87 after NormalizeInstanceGroup (N2), against the target's GPUs when `--gpus` gives them.
public struct InstanceGroupRule: LintRule {
    public static let description = RuleDescription(
        identifier: "instance-group", name: "Instance groups", severity: .error,
        catalog: ["N2", "R80", "R81", "R82", "R83", "R84", "R85", "R86", "R87"],
        summary: "KIND_MODEL and KIND_CPU groups list no GPUs; KIND_GPU groups name GPUs the target has (checked with --gpus N; --gpus 0 is a CPU-only server); `profile` is TensorRT-only and numeric.",
        tritonMessage: "instance group {g} of model {model} has kind KIND_CPU but specifies one or more GPUs",
        triggering: [
            .config("backend: \"python\"\ninstance_group [ { kind: KIND_CPU gpus: [ 0 ] } ]"),
            .config("backend: \"python\"\ninstance_group [ { kind: KIND_GPU gpus: [ 3 ] } ]", gpus: 1),
            .config("backend: \"python\"\ninstance_group [ { kind: KIND_GPU } ]", gpus: 0),
            .config("backend: \"python\"\ninstance_group [ { kind: KIND_CPU profile: [ \"0\" ] } ]"),
        ],
        nonTriggering: [
            .config("backend: \"python\"\ninstance_group [ { kind: KIND_GPU gpus: [ 0 ] } ]", gpus: 1),
            .config("backend: \"python\"\ninstance_group [ { kind: KIND_GPU gpus: [ 0 ] } ]"),
        ])

    /// Triton 2.51's default minimum compute capability (`--min-supported-compute-capability`).
    static let minimumComputeCapability = "6.000000"

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
                report.report("instance group \(name) of model \(config.name) has kind KIND_MODEL but specifies one or more GPUs", at: field)
            case .gpu:
                guard let gpus else { break }
                if group.gpus.isEmpty && gpus == 0 {
                    report.report("instance group \(name) of model \(config.name) has kind KIND_GPU but no GPUs are available", at: field)
                } else if let bad = group.gpus.first(where: { $0 < 0 || $0 >= gpus }) {
                    let available = (0..<gpus).map(String.init).joined(separator: ", ")
                    report.report(
                        "instance group \(name) of model \(config.name) specifies invalid or unsupported gpu id \(bad). GPUs with at least the minimum required CUDA compute compatibility of \(Self.minimumComputeCapability) are: \(available)",
                        at: "\(field).gpus")
                }
            case .cpu where !group.gpus.isEmpty:
                report.report("instance group \(name) of model \(config.name) has kind KIND_CPU but specifies one or more GPUs", at: field)
            case .auto where !group.gpus.isEmpty:
                report.report(
                    "instance group \(name) of model \(config.name) has kind KIND_AUTO with GPUs: on a server without GPUs it becomes KIND_CPU and is refused (has kind KIND_CPU but specifies one or more GPUs)",
                    at: field, severity: .warning)
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

/// R93-R98: warmup samples, and the batch size that crashes Triton 2.51.
public struct WarmupRule: LintRule {
    public static let description = RuleDescription(
        identifier: "model-warmup", name: "Model warmup", severity: .error,
        catalog: ["R93", "R94", "R95", "R96", "R97", "R98"],
        summary: "Warmup samples need a batch size no larger than max_batch_size (a larger one crashes Triton 2.51), fully specified dims, a data source, and data files under warmup/ that are large enough.",
        tritonMessage: "warmup setting expects all variable-size dimensions are specified for input '{i}'",
        triggering: [
            .config("backend: \"python\"\nmax_batch_size: 2\nmodel_warmup [ { name: \"w\" batch_size: 4 inputs { key: \"x\" value: { data_type: TYPE_FP32 dims: [ 1 ] zero_data: true } } } ]"),
            .config("backend: \"python\"\nmodel_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"x\" value: { data_type: TYPE_FP32 dims: [ -1 ] zero_data: true } } } ]"),
            .config("backend: \"python\"\nmodel_warmup [ { name: \"w\" batch_size: 1 inputs { key: \"x\" value: { data_type: TYPE_FP32 dims: [ 2 ] input_data_file: \"x.bin\" } } } ]"),
        ],
        nonTriggering: [.config("backend: \"python\"\nmax_batch_size: 2\nmodel_warmup [ { name: \"w\" batch_size: 2 inputs { key: \"x\" value: { data_type: TYPE_FP32 dims: [ 1 ] random_data: true } } } ]")])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        let config = model.config
        guard config.platform != "ensemble" else { return }
        for (index, sample) in config.modelWarmup.enumerated() {
            let field = "model_warmup[\(index)]"
            if sample.batchSize == 0 { continue }
            if Int64(sample.batchSize) > Int64(max(config.maxBatchSize, 1)) {
                report.report(
                    "warmup sample '\(sample.name)' has batch_size \(sample.batchSize) above max_batch_size \(config.maxBatchSize): Triton 2.51 crashes (segmentation fault) loading this model",
                    at: "\(field).batch_size")
                continue
            }
            for (input, value) in sample.inputs.sorted(by: { $0.key < $1.key }) {
                if let message = inputError(input, value, model: model) {
                    report.report(message, at: "\(field).inputs")
                    break
                }
            }
        }
    }

    func inputError(_ input: String, _ value: Inference_ModelWarmup.Input, model: ModelUnderLint) -> String? {
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
                    return "[request id: <id_unknown>] warmup setting expects \(expected) bytes, but the data provided from \(file)only has \(size) bytes"
                }
            }
            return nil
        default:
            return nil
        }
    }
}

/// R52-R54: output label files.
public struct LabelFileRule: LintRule {
    public static let description = RuleDescription(
        identifier: "label-file", name: "Label files", severity: .error, catalog: ["R52", "R53", "R54"],
        summary: "An output's label_filename must be a readable file inside the model folder, and only one output of a name may have one.",
        tritonMessage: "label file path '{path}' for output '{o}' in model '{model}' is outside model directory",
        triggering: [
            .config("backend: \"python\"\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 1 ] label_filename: \"labels.txt\" } ]"),
            .config("backend: \"python\"\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 1 ] label_filename: \"../labels.txt\" } ]"),
        ],
        nonTriggering: [.config("backend: \"python\"\noutput [ { name: \"y\" data_type: TYPE_FP32 dims: [ 1 ] label_filename: \"labels.txt\" } ]", extra: ["labels.txt": "cat\n"])])

    public init() {}

    public func check(_ context: LintContext, _ report: inout DiagnosticSink) {
        let model = context.model
        var labelled = Set<String>()
        for (index, output) in model.config.output.enumerated() where !output.labelFilename.isEmpty {
            let field = "output[\(index)].label_filename"
            let resolved = model.directory.appendingPathComponent(output.labelFilename).standardizedFileURL.path
            let root = model.directory.standardizedFileURL.path
            if !resolved.hasPrefix(root + "/") {
                report.report(
                    "label file path '\(resolved)' for output '\(output.name)' in model '\(model.config.name)' is outside model directory",
                    at: field)
            } else if !POSIXFiles.isRegularFile(resolved) {
                report.report("failed to open text file for read \(resolved): No such file or directory", at: field)
            } else if !labelled.insert(output.name).inserted {
                report.report("multiple label files for '\(output.name)'", at: field)
            }
        }
    }
}
