import Foundation
import TritonPackLint
import TritonPackModels
import TritonPackServing

/// One input or output of a bundled model, as the bundled scripts read it from `bundle.json`.
public struct BundleTensor: Codable, Equatable, Sendable {
    public var name: String
    /// The KServe v2 datatype (`FP32`, `BYTES`, ...).
    public var datatype: String
    /// `dims` as the config gives them (without the batch dimension when the model batches).
    public var dims: [Int64]
    /// The shape of a one-item request: `[1] + dims` when the model batches, else `dims`.
    public var shape: [Int64]
    /// Set when the tensor is shaped like an image; the client then reads and writes image files.
    public var image: ImageLayout?
}

/// One bundled model: what its config says and which versions the bundle holds.
public struct BundleModel: Codable, Equatable, Sendable {
    public var name: String
    public var backend: String
    public var platform: String?
    public var maxBatchSize: Int32
    public var versions: [Int64]
    /// Whether the config's instance groups ask for a GPU (KIND_GPU).
    public var gpu: Bool
    public var inputs: [BundleTensor]
    public var outputs: [BundleTensor]
    /// The framework's own signature, from the newest bundled version's manifest (when it has one).
    public var signature: Signature?

    package enum CodingKeys: String, CodingKey {
        case name, backend, platform
        case maxBatchSize = "max_batch_size"
        case versions, gpu, inputs, outputs, signature
    }

    public init(name: String, config: Inference_ModelConfig, versions: [Int64], signature: Signature?) {
        self.name = name
        backend = config.backend.isEmpty ? Self.backend(forPlatform: config.platform) : config.backend
        platform = config.platform.isEmpty ? nil : config.platform
        maxBatchSize = config.maxBatchSize
        self.versions = versions
        gpu = config.wantsGPU
        let batched = config.maxBatchSize > 0
        inputs = config.input.map { input in
            let shape = batched ? [1] + input.dims : input.dims
            return BundleTensor(
                name: input.name, datatype: TensorData.wireName(input.dataType), dims: input.dims, shape: shape,
                image: ImageLayout.detect(dataType: input.dataType, shape: shape, format: input.format))
        }
        outputs = config.output.map { output in
            let shape = batched ? [1] + output.dims : output.dims
            return BundleTensor(
                name: output.name, datatype: TensorData.wireName(output.dataType), dims: output.dims, shape: shape,
                image: ImageLayout.detect(dataType: output.dataType, shape: shape))
        }
        self.signature = signature
    }

    /// The backend Triton picks for a `platform` (so the bundle knows which image can serve it).
    package static func backend(forPlatform platform: String) -> String {
        switch platform {
        case "onnxruntime_onnx": "onnxruntime"
        case "tensorflow_savedmodel", "tensorflow_graphdef": "tensorflow"
        case "pytorch_libtorch": "pytorch"
        case "tensorrt_plan": "tensorrt"
        case "ensemble": "ensemble"
        default: platform
        }
    }
}

/// `bundle.json`: what `run.sh`, `client/infer.py` and `server.py` read at run time.
public struct BundleDescription: Codable, Equatable, Sendable {
    public static let fileName = "bundle.json"
    public static let formatName = "tritonpack-bundle/1"

    public var format = BundleDescription.formatName
    public var defaultModel: String
    /// The container image `run.sh` starts when no local tritonserver is found.
    public var containerImage: String
    public var models: [BundleModel]

    package enum CodingKeys: String, CodingKey {
        case format
        case defaultModel = "default_model"
        case containerImage = "container_image"
        case models
    }

    /// OneFlow's serving image carries the `oneflow` backend; NVIDIA's image serves everything else.
    public static let oneflowImage = "oneflowinc/oneflow-serving:nightly"
    public static let tritonImage = "nvcr.io/nvidia/tritonserver:24.10-py3"

    public static func defaultImage(for models: [BundleModel]) -> String {
        models.contains { $0.backend == "oneflow" } ? oneflowImage : tritonImage
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }
}
