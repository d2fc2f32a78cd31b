/// Builds a complete config.pbtxt message from a model's signature and the user's options.
public enum ConfigGenerator {
    /// The config for a model of either format, from its description alone.
    public static func config(for model: ModelDescription, options: ConfigOptions) throws -> Inference_ModelConfig {
        switch model.format {
        case .oneflow where options.runtime == .oneflowPython: try oneflowPython(model.signature, options: options)
        case .oneflow: try oneflow(model.signature, options: options)
        case .onnx: try onnx(model, options: options)
        case .pipeline:
            throw TritonPackError.usage("a pipeline's models are generated with the model they wrap (pack --pipeline image)")
        }
    }

    /// The config for a saved OneFlow graph served by the `oneflow` backend.
    public static func oneflow(_ signature: Signature, options: ConfigOptions) throws -> Inference_ModelConfig {
        var config = Inference_ModelConfig()
        config.name = options.name
        config.backend = OneFlowBackend.backendName
        let batch = try batchSize(for: signature, requested: options.maxBatchSize)
        config.maxBatchSize = batch
        config.input = signature.inputs.map { spec in
            var input = Inference_ModelInput()
            input.name = spec.name
            input.dataType = spec.dataType
            input.dims = batch > 0 ? Array(spec.shape.dropFirst()) : spec.shape
            return input
        }
        config.output = signature.outputs.map { spec in
            var output = Inference_ModelOutput()
            output.name = spec.name
            output.dataType = spec.dataType
            output.dims = batch > 0 ? Array(spec.shape.dropFirst()) : spec.shape
            return output
        }
        config.instanceGroup = (options.instanceGroups.isEmpty ? [.guideDefault] : options.instanceGroups).map(\.message)
        try applyBatching(options, maxBatchSize: batch, to: &config)
        if let xrt = options.xrt {
            guard OneFlowBackend.xrtValues.contains(xrt) else {
                throw TritonPackError.usage(
                    "--xrt '\(xrt)' is not one of \(OneFlowBackend.xrtValues.joined(separator: ", "))")
            }
            var parameter = Inference_ModelParameter()
            parameter.stringValue = xrt
            config.parameters["xrt"] = parameter
        }
        if let policy = options.versionPolicy { config.versionPolicy = policy.message }
        return config
    }

    /// The config for a saved OneFlow graph served by OneFlow's own runtime in Triton's Python
    /// backend: the oneflow config's tensors, batching and given instance groups, `backend:
    /// "python"`, and the execution environment that brings OneFlow's Python. Without
    /// `--instance-group` no group is written, so that Triton puts one instance on each GPU, or one
    /// on CPU where there is none: the guide's `gpu:1:0` would not load on a CPU-only server.
    public static func oneflowPython(_ signature: Signature, options: ConfigOptions) throws -> Inference_ModelConfig {
        if options.xrt != nil {
            throw TritonPackError.usage(
                "--xrt is a parameter of the oneflow backend; --runtime oneflow-python runs OneFlow itself")
        }
        var config = try oneflow(signature, options: options)
        config.backend = "python"
        config.instanceGroup = options.instanceGroups.map(\.message)
        if let environment = options.environment {
            config.parameters[ExecutionEnvironment.parameterName] = .with { $0.stringValue = environment.parameterValue }
            config.parameters[ExecutionEnvironment.pythonVersionParameter] = .with {
                $0.stringValue = environment.pythonVersion
            }
        }
        return config
    }

    /// The config for a saved OneFlow graph converted to ONNX: the tensors the oneflow config names
    /// (INPUT_<i>/OUTPUT_<k> in Python order, the graph's types and shapes) on the onnxruntime
    /// backend, batching as the oneflow config would (the saved batch) where the conversion verified
    /// a symbolic batch that onnxruntime also reports on every input and output (`batchable`), else
    /// `max_batch_size: 0` with the saved shapes. Instance groups only as given.
    public static func onnx(
        convertedFrom signature: Signature, report: ONNXConversionReport, batchable: Bool, options: ConfigOptions
    ) throws -> Inference_ModelConfig {
        if options.xrt != nil {
            throw TritonPackError.usage("--xrt is a parameter of the oneflow backend; this is --runtime onnx")
        }
        var options = options
        if let requested = options.maxBatchSize, requested > 0 {
            guard batchable else {
                throw TritonPackError.refused(
                    nil,
                    "--max-batch-size \(requested): the converted model keeps the saved batch \(report.batch.max) fixed (a symbolic batch did not verify against OneFlow, or onnxruntime infers a fixed first dimension for an output); use --max-batch-size 0"
                )
            }
            guard Int64(requested) <= report.batch.max else {
                throw TritonPackError.refused(
                    nil,
                    "--max-batch-size \(requested): the conversion was verified with at most \(report.batch.max) rows, the batch OneFlow traced the graph with"
                )
            }
        }
        if !batchable { options.maxBatchSize = 0 }
        var config = try oneflow(signature, options: options)
        config.backend = ""
        config.platform = "onnxruntime_onnx"
        config.instanceGroup = options.instanceGroups.map(\.message)
        return config
    }

    /// The config Triton's ONNX Runtime auto-complete would produce: batching (max_batch_size 4
    /// unless given) when every input and output has a dynamic first dimension, dims without it,
    /// `dims: [1]` (with an empty reshape when batching) for tensors left without dims.
    public static func onnx(_ model: ModelDescription, options: ConfigOptions) throws -> Inference_ModelConfig {
        if options.xrt != nil { throw TritonPackError.usage("--xrt is a OneFlow backend parameter; this is an ONNX model") }
        var config = Inference_ModelConfig()
        config.name = options.name
        config.platform = "onnxruntime_onnx"
        let batching = model.batching == .dynamicFirstDimension
        let tensors = model.signature.inputs + model.signature.outputs
        let maxBatchSize: Int32
        if let requested = options.maxBatchSize {
            guard requested >= 0 else { throw TritonPackError.usage("--max-batch-size must be >= 0") }
            if requested > 0 && !batching {
                let fixed = tensors.first { ($0.shape.first ?? 0) != -1 }
                throw TritonPackError.refused(
                    model.source.path,
                    "autofill failed for model '\(options.name)': model does not support batching while non-zero max_batch_size is specified (\(fixed.map { "'\($0.name)' has shape \($0.shape)" } ?? "")); use --max-batch-size 0"
                )
            }
            maxBatchSize = requested
        } else {
            maxBatchSize = batching ? 4 : 0
        }
        config.maxBatchSize = maxBatchSize
        /// Name, type, dims, and whether an empty reshape is needed (a batched tensor left without dims).
        func describe(_ tensor: TensorSpec) -> (String, Inference_DataType, [Int64], Bool) {
            let kept = maxBatchSize > 0 ? Array(tensor.shape.dropFirst()) : tensor.shape
            return (tensor.name, tensor.dataType, kept.isEmpty ? [1] : kept, kept.isEmpty && maxBatchSize > 0)
        }
        config.input = model.signature.inputs.map(describe).map { name, type, dims, scalar in
            var input = Inference_ModelInput()
            (input.name, input.dataType, input.dims) = (name, type, dims)
            if scalar { input.reshape = Inference_ModelTensorReshape() }
            return input
        }
        config.output = model.signature.outputs.map(describe).map { name, type, dims, scalar in
            var output = Inference_ModelOutput()
            (output.name, output.dataType, output.dims) = (name, type, dims)
            if scalar { output.reshape = Inference_ModelTensorReshape() }
            return output
        }
        config.instanceGroup = options.instanceGroups.map(\.message)
        try applyBatching(options, maxBatchSize: maxBatchSize, to: &config)
        if config.schedulingChoice == nil && maxBatchSize > 1 { config.dynamicBatching = Inference_ModelDynamicBatching() }
        if let policy = options.versionPolicy { config.versionPolicy = policy.message }
        return config
    }

    /// The saved graph's batch dimension when every input and output shares it (and keeps at least
    /// one dimension besides it); otherwise 0, meaning `dims` are the full saved shapes.
    package static func batchSize(for signature: Signature, requested: Int32?) throws -> Int32 {
        let tensors = signature.inputs + signature.outputs
        let shared = signature.sharedLeadingDimension
        guard let requested else {
            guard let saved = signature.savedBatch, let value = Int32(exactly: saved) else { return 0 }
            return value
        }
        guard requested >= 0 else { throw TritonPackError.usage("--max-batch-size must be >= 0") }
        if requested == 0 { return 0 }
        guard shared != nil else {
            let shapes = tensors.map(\.summary).joined(separator: "; ")
            throw TritonPackError.refused(
                nil,
                "--max-batch-size \(requested) needs a batch dimension shared by every input and output as their first dimension, but they do not share one: \(shapes)"
            )
        }
        if let short = tensors.first(where: { $0.shape.count < 2 }) {
            throw TritonPackError.refused(
                nil,
                "--max-batch-size \(requested) leaves \(short.name) (shape \(short.shape)) without dims: Triton requires at least one dimension besides the batch; use --max-batch-size 0"
            )
        }
        return requested
    }

    package static func applyBatching(_ options: ConfigOptions, maxBatchSize: Int32, to config: inout Inference_ModelConfig)
        throws
    {
        let wantsBatching =
            options.dynamicBatching || !options.preferredBatchSizes.isEmpty || options.maxQueueDelayMicroseconds != nil
        guard wantsBatching else { return }
        guard maxBatchSize > 0 else {
            throw TritonPackError.usage("dynamic batching needs max_batch_size > 0 (this config has max_batch_size 0)")
        }
        var batching = Inference_ModelDynamicBatching()
        for size in options.preferredBatchSizes {
            guard size > 0 else { throw TritonPackError.usage("preferred batch size \(size) must be positive") }
            guard size <= maxBatchSize else {
                throw TritonPackError.usage("preferred batch size \(size) exceeds max_batch_size \(maxBatchSize)")
            }
        }
        batching.preferredBatchSize = options.preferredBatchSizes
        if let delay = options.maxQueueDelayMicroseconds { batching.maxQueueDelayMicroseconds = delay }
        config.dynamicBatching = batching
    }

    /// The part of a config that must agree with the model: batching, and each tensor's name, type
    /// and shape. Two configs with equal interfaces serve the same clients.
    public static func interface(of config: Inference_ModelConfig) -> Inference_ModelConfig {
        var interface = Inference_ModelConfig()
        interface.maxBatchSize = config.maxBatchSize
        interface.input = config.input.map { input in
            var copy = Inference_ModelInput()
            copy.name = input.name
            copy.dataType = input.dataType
            copy.dims = input.dims
            if input.hasReshape { copy.reshape = input.reshape }
            return copy
        }
        interface.output = config.output.map { output in
            var copy = Inference_ModelOutput()
            copy.name = output.name
            copy.dataType = output.dataType
            copy.dims = output.dims
            if output.hasReshape { copy.reshape = output.reshape }
            return copy
        }
        return interface
    }
}

extension Inference_ModelConfig {
    /// Whether any instance group asks for GPUs.
    public var wantsGPU: Bool { instanceGroup.contains { $0.kind == .gpu } }

    /// The same config with every KIND_GPU instance group turned into KIND_CPU (for machines
    /// without a GPU).
    public var onCPU: Inference_ModelConfig {
        var copy = self
        for index in copy.instanceGroup.indices where copy.instanceGroup[index].kind == .gpu {
            copy.instanceGroup[index].kind = .cpu
            copy.instanceGroup[index].gpus = []
        }
        return copy
    }
}
