import ArgumentParser
import Foundation
import TritonPackKit

extension OneFlowServingRuntime: ExpressibleByArgument {}

/// The options that shape a generated config.pbtxt, shared by `config` and `pack`.
struct ConfigFlags: ParsableArguments {
    @Option(help: "Model name (default: the saved graph's folder name, skipping 'model' and version folders).")
    var name: String?

    @Option(help: "max_batch_size; default: the batch dimension all inputs and outputs share, else 0. 0 = dims are full shapes.")
    var maxBatchSize: Int32?

    @Option(
        name: .customLong("instance-group"),
        help: ArgumentHelp(
            "KIND[:COUNT[:GPU,...]] such as gpu:1:0, gpu:2:0,1 or cpu:2; repeat for several groups (default gpu:1:0).",
            valueName: "kind[:count[:gpus]]"),
        transform: parsed(InstanceGroupSpec.init(parsing:)))
    var instanceGroups: [InstanceGroupSpec] = []

    @Flag(help: "Add dynamic_batching.")
    var dynamicBatching = false

    @Option(
        name: .customLong("preferred-batch-size"), parsing: .upToNextOption,
        help: "dynamic_batching preferred sizes (implies --dynamic-batching).")
    var preferredBatchSizes: [Int32] = []

    @Option(name: .customLong("max-queue-delay-us"), help: "dynamic_batching max_queue_delay_microseconds.")
    var maxQueueDelayMicroseconds: UInt64?

    @Option(help: "The OneFlow backend's xrt parameter: oneflow, tensorrt, openvino or xla.")
    var xrt: String?

    @Option(
        help: ArgumentHelp(
            "version_policy: latest:N, all or specific:V[,V...] (Triton's default: latest:1).", valueName: "policy"),
        transform: parsed(VersionPolicySpec.init(parsing:)))
    var versionPolicy: VersionPolicySpec?

    @Option(
        help: ArgumentHelp(
            "How Triton serves a saved OneFlow graph: oneflow-backend (OneFlow Serving's backend), oneflow-python (OneFlow's own runtime in the Python backend of any current Triton) or onnx (converted and verified).",
            valueName: "runtime"))
    var runtime: OneFlowServingRuntime?

    @Option(
        help:
            "The Python with OneFlow 0.9.0 that packs the environment and converts graphs (default: $TRITONPACK_ONEFLOW_PYTHON, then make setup's).",
        completion: .file())
    var oneflowPython: String?

    @Option(
        name: .customLong("execution-env"),
        help:
            "With --runtime oneflow-python: a path on the servers (an environment archive or folder) to name as EXECUTION_ENV_PATH instead of packing this machine's OneFlow environment into the model folder."
    )
    var executionEnv: String?

    @Option(help: "With --runtime onnx: the ONNX opset to convert to.")
    var opset: Int = 13

    @Option(
        help:
            "With --runtime onnx: the ONNX IR version to write (8 loads in every Triton since 21.12; 24.09-24.11 read up to 10).")
    var irVersion: Int = 8

    @Option(
        help:
            "Golden data (INPUT_<k>.npy, OUTPUT_<k>.npy): kept with the version in tritonpack-golden/ for rollout's check, and with --runtime onnx the inputs the conversion is verified with (default: seeded inputs).",
        completion: .directory)
    var golden: String?

    /// Turns off one of the converter's corrections (named in runtime/onnx/README.md): how a test
    /// feeds a conversion known to be wrong and sees verification refuse it.
    @Option(name: .customLong("disable-converter-fix"), help: .hidden)
    var disabledConverterFixes: [String] = []

    /// Reads the model at `path` (saved OneFlow graph or ONNX file) with these options;
    /// `placeEnvironment`: pack the execution environment to place it in the model folder.
    func packable(
        at path: String, placeEnvironment: Bool = false, verbose: Bool = false, progress: (String) -> Void = { _ in }
    ) throws -> PackableModel {
        let url = URL(fileURLWithPath: path)
        var options = try options(defaultName: ModelNaming.defaultName(forModelAt: url))
        options.conversion = ONNXConversionOptions(
            opset: opset, irVersion: irVersion, golden: golden.map { URL(fileURLWithPath: $0) }, locateDivergence: verbose,
            disabledFixes: disabledConverterFixes)
        try ModelName.validate(options.name)
        return try PackableModel.read(at: url, options: options, placeEnvironment: placeEnvironment, progress: progress)
    }

    func options(defaultName: String) throws -> ConfigOptions {
        ConfigOptions(
            name: name ?? defaultName, maxBatchSize: maxBatchSize,
            instanceGroups: instanceGroups,
            dynamicBatching: dynamicBatching, preferredBatchSizes: preferredBatchSizes,
            maxQueueDelayMicroseconds: maxQueueDelayMicroseconds, xrt: xrt,
            versionPolicy: versionPolicy, runtime: runtime,
            oneflowPython: oneflowPython, executionEnvironmentPath: executionEnv)
    }
}
