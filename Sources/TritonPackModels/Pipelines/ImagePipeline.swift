import Foundation

/// What `pack --pipeline image` is asked for beyond the model: overrides of what the model's
/// shapes say, and for a classifier its labels.
public struct ImagePipelineOptions: Equatable, Sendable {
    /// CHW or HWC; nil: from the input's shape (and the config's `format`).
    public var layout: ImageLayout?
    /// The value of a white pixel in the model's tensors (255: 0..255, 1: 0..1); nil: 255.
    public var scale: Double?
    /// A text file, one label per line: the model's output is a score vector and the pipeline
    /// returns `LABELS` (the top k) instead of an image.
    public var labels: URL?
    /// k when a request does not name it (request parameter `top_k`).
    public var topK: Int

    public init(layout: ImageLayout? = nil, scale: Double? = nil, labels: URL? = nil, topK: Int = 5) {
        self.layout = layout
        self.scale = scale
        self.labels = labels
        self.topK = topK
    }
}

/// How an image sits in one of a model's tensors: the decision the bundle's client and the
/// pipeline's steps share (`ImageLayout.detect` reads the shape; flags override it).
public struct ImageTensor: Codable, Equatable, Sendable {
    public var name: String
    public var dataType: Inference_DataType
    /// The tensor's full shape in a one-image request (`[1] + dims` when the model batches).
    public var shape: [Int64]
    public var layout: ImageLayout
    public var scale: Double

    package enum CodingKeys: String, CodingKey {
        case layout, scale
    }

    public init(name: String, dataType: Inference_DataType, shape: [Int64], layout: ImageLayout, scale: Double) {
        self.name = name
        self.dataType = dataType
        self.shape = shape
        self.layout = layout
        self.scale = scale
    }

    /// The tensor's fields as `TensorSpec` writes them, then the image's.
    public init(from decoder: any Decoder) throws {
        let tensor = try TensorSpec(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: tensor.name, dataType: tensor.dataType, shape: tensor.shape,
            layout: try container.decode(ImageLayout.self, forKey: .layout),
            scale: try container.decode(Double.self, forKey: .scale))
    }

    public func encode(to encoder: any Encoder) throws {
        try TensorSpec(name: name, dataType: dataType, shape: shape).encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(layout, forKey: .layout)
        try container.encode(scale, forKey: .scale)
    }

    /// The image layout of a tensor, from its shape unless `layout` is given; nil when it holds no
    /// 1- or 3-channel image of FP32 or UINT8 pixels.
    public static func decide(
        name: String, dataType: Inference_DataType, shape: [Int64], format: Inference_ModelInput.Format = .none,
        layout: ImageLayout? = nil, scale: Double? = nil
    ) -> ImageTensor? {
        // An override must still find 1 or 3 channels where it says they are.
        let format: Inference_ModelInput.Format = layout.map { $0 == .chw ? .nchw : .nhwc } ?? format
        guard let chosen = ImageLayout.detect(dataType: dataType, shape: shape, format: format) else { return nil }
        return ImageTensor(name: name, dataType: dataType, shape: shape, layout: chosen, scale: scale ?? 255)
    }

    /// What the Python steps read (`pipeline.json` of a step's version).
    package var stepSpec: [String: Any] {
        ["layout": layout.rawValue, "scale": scale, "shape": shape]
    }
}

/// `pack --pipeline image`: three models beside a packed image model, so that a client sends an
/// encoded image and gets an encoded image (or labels) back.
/// - `<name>_preprocess` (Python backend): `IMAGE` (one JPEG, PNG or WebP) -> `TENSOR` (the model's
///   input) and `ORIGINAL_SIZE` (height, width).
/// - `<name>_postprocess` (Python backend): `TENSOR` (the model's output) and `ORIGINAL_SIZE` ->
///   `IMAGE` (PNG, or JPEG with the request parameter `format: jpeg`), or with labels `LABELS`.
/// - `<name>_image` (ensemble): `IMAGE` -> `OUTPUT_IMAGE` (or `LABELS`), its steps pinned to one version
///   of each, so that a new pipeline version is served whole by one config change.
/// The steps' settings live in each version's `pipeline.json`, so versions never share them.
public struct ImagePipeline: Sendable {
    public static let preprocessSuffix = "_preprocess"
    public static let postprocessSuffix = "_postprocess"
    public static let ensembleSuffix = "_image"
    /// The file of a step's version that holds its settings.
    public static let settingsFile = "pipeline.json"
    public static let labelsFile = "labels.txt"
    /// Step models keep two versions served, so the ensemble can switch from one to the next.
    public static let stepPolicy = VersionPolicySpec.latest(2)

    public enum Output: Equatable, Sendable {
        case image(ImageTensor)
        /// The score vector `name` of `count` classes, and the labels file.
        case labels(name: String, dataType: Inference_DataType, shape: [Int64], file: URL, count: Int, topK: Int)

        package var name: String {
            switch self {
            case .image(let tensor): tensor.name
            case .labels(let name, _, _, _, _, _): name
            }
        }
    }

    /// The packed model's name.
    public var model: String
    public var input: ImageTensor
    public var output: Output

    public var preprocessName: String { model + Self.preprocessSuffix }
    public var postprocessName: String { model + Self.postprocessSuffix }
    public var ensembleName: String { model + Self.ensembleSuffix }
    /// The four models, in the order they are written: the model first (the steps may name its
    /// environment archive, which a polling server must find when it loads them), the steps, and
    /// the ensemble last.
    public var models: [String] { [model, preprocessName, postprocessName, ensembleName] }
    /// The ensemble's output: `OUTPUT_IMAGE`, or `LABELS` for a classifier. Not `IMAGE`: an
    /// ensemble tensor that is both the ensemble's input and a step's output feeds each answer
    /// back into the first step, and the request never ends (seen on 2.51).
    public var outputName: String {
        if case .labels = output { return "LABELS" }
        return Self.imageOutput
    }

    public static let imageOutput = "OUTPUT_IMAGE"

    /// The last step's own output: `IMAGE` or `LABELS`.
    package var stepOutputName: String {
        if case .labels = output { return "LABELS" }
        return "IMAGE"
    }

    /// Decides the pipeline for a model's config, refusing a model it cannot wrap with the reason.
    public static func plan(for config: Inference_ModelConfig, options: ImagePipelineOptions) throws -> ImagePipeline {
        let name = config.name
        func full(_ dims: [Int64]) -> [Int64] { config.maxBatchSize > 0 ? [1] + dims : dims }
        guard config.input.count == 1, let input = config.input.first else {
            throw TritonPackError.refused(
                nil,
                "--pipeline image needs a model with one image input; '\(name)' has \(config.input.count) inputs (\(config.input.map(\.name).joined(separator: ", ")))"
            )
        }
        guard
            let image = ImageTensor.decide(
                name: input.name, dataType: input.dataType, shape: full(input.dims), format: input.format,
                layout: options.layout, scale: options.scale)
        else {
            throw TritonPackError.refused(
                nil,
                "--pipeline image: input \(input.name) (\(input.dataType.configName) \(full(input.dims))) is not an image tensor: it needs FP32 or UINT8 and 1 or 3 channels first (CHW) or last (HWC)\(options.layout.map { " as --image-layout \($0.rawValue) says" } ?? "")"
            )
        }
        if let scale = options.scale, !(scale > 0) || !scale.isFinite {
            throw TritonPackError.usage("--image-scale \(scale): the value of a white pixel must be a positive number")
        }
        let output: Output
        if let labels = options.labels {
            guard options.topK >= 1 else { throw TritonPackError.usage("--top-k \(options.topK): k must be at least 1") }
            guard let scores = config.output.first else {
                throw TritonPackError.refused(nil, "--labels: '\(name)' has no output")
            }
            let shape = full(scores.dims)
            let classes = shape.filter { $0 != 1 }
            guard classes.count == 1, let count = classes.first, count > 0 else {
                throw TritonPackError.refused(
                    nil,
                    "--labels: output \(scores.name) (\(scores.dataType.configName) \(shape)) is not a score vector (one dimension besides dimensions of 1)"
                )
            }
            let names = try readLabels(labels)
            guard names.count == Int(count) else {
                throw TritonPackError.refused(
                    labels.path,
                    "holds \(names.count) labels, but output \(scores.name) of '\(name)' scores \(count) classes (one label a line)"
                )
            }
            output = .labels(
                name: scores.name, dataType: scores.dataType, shape: shape, file: labels, count: Int(count), topK: options.topK)
        } else {
            let images = config.output.compactMap { tensor in
                ImageTensor.decide(
                    name: tensor.name, dataType: tensor.dataType, shape: full(tensor.dims), layout: options.layout,
                    scale: options.scale)
            }
            guard let first = images.first else {
                let shown = config.output.map { "\($0.name) \($0.dataType.configName) \(full($0.dims))" }
                throw TritonPackError.refused(
                    nil,
                    "--pipeline image: no output of '\(name)' is an image (\(shown.joined(separator: "; "))); for a score vector pass --labels FILE"
                )
            }
            output = .image(first)
        }
        return ImagePipeline(model: name, input: image, output: output)
    }

    /// The non-empty lines of a labels file; a refusal naming the file when it cannot be read.
    package static func readLabels(_ file: URL) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw TritonPackError.refused(file.path, "--labels: cannot read this file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TritonPackError.refused(file.path, "--labels: not UTF-8 text (one label a line)")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    // MARK: The generated models

    private static func parameter(_ value: String) -> Inference_ModelParameter { .with { $0.stringValue = value } }

    private static func tensor(_ name: String, _ type: Inference_DataType, _ dims: [Int64]) -> (Inference_ModelInput) {
        .with {
            $0.name = name
            $0.dataType = type
            $0.dims = dims
        }
    }

    private static func outputTensor(_ name: String, _ type: Inference_DataType, _ dims: [Int64]) -> Inference_ModelOutput {
        .with {
            $0.name = name
            $0.dataType = type
            $0.dims = dims
        }
    }

    private func stepConfig(
        name: String, inputs: [Inference_ModelInput], outputs: [Inference_ModelOutput], environment: ExecutionEnvironment?
    ) -> Inference_ModelConfig {
        var config = Inference_ModelConfig()
        config.name = name
        config.backend = "python"
        config.maxBatchSize = 0
        config.input = inputs
        config.output = outputs
        config.instanceGroup = [
            .with {
                $0.kind = .cpu
                $0.count = 1
            }
        ]
        config.versionPolicy = Self.stepPolicy.message
        if let environment {
            config.parameters[ExecutionEnvironment.parameterName] = Self.parameter(environment.parameterValue)
            config.parameters[ExecutionEnvironment.pythonVersionParameter] = Self.parameter(environment.pythonVersion)
        }
        return config
    }

    /// `<name>_preprocess`'s config.
    public func preprocessConfig(environment: ExecutionEnvironment?) -> Inference_ModelConfig {
        stepConfig(
            name: preprocessName, inputs: [Self.tensor("IMAGE", .typeString, [1])],
            outputs: [
                Self.outputTensor("TENSOR", input.dataType, input.shape), Self.outputTensor("ORIGINAL_SIZE", .typeInt32, [2]),
            ], environment: environment)
    }

    /// `<name>_postprocess`'s config.
    public func postprocessConfig(environment: ExecutionEnvironment?) -> Inference_ModelConfig {
        switch output {
        case .image(let image):
            stepConfig(
                name: postprocessName,
                inputs: [Self.tensor("TENSOR", image.dataType, image.shape), Self.tensor("ORIGINAL_SIZE", .typeInt32, [2])],
                outputs: [Self.outputTensor("IMAGE", .typeString, [1])], environment: environment)
        case .labels(_, let type, let shape, _, _, _):
            stepConfig(
                name: postprocessName, inputs: [Self.tensor("TENSOR", type, shape)],
                outputs: [Self.outputTensor("LABELS", .typeString, [-1])], environment: environment)
        }
    }

    /// `<name>_image`: the ensemble, each step pinned to `version`.
    public func ensembleConfig(version: Int64) -> Inference_ModelConfig {
        var config = Inference_ModelConfig()
        config.name = ensembleName
        config.platform = "ensemble"
        config.maxBatchSize = 0
        config.input = [Self.tensor("IMAGE", .typeString, [1])]
        config.output = [Self.outputTensor(outputName, .typeString, outputName == Self.imageOutput ? [1] : [-1])]
        func step(_ model: String, inputs: [String: String], outputs: [String: String]) -> Inference_ModelEnsembling.Step {
            .with {
                $0.modelName = model
                $0.modelVersion = version
                $0.inputMap = inputs
                $0.outputMap = outputs
            }
        }
        var post: [String: String] = ["TENSOR": "model_output"]
        if case .image = output { post["ORIGINAL_SIZE"] = "original_size" }
        config.ensembleScheduling.step = [
            step(
                preprocessName, inputs: ["IMAGE": "IMAGE"],
                outputs: ["TENSOR": "model_input", "ORIGINAL_SIZE": "original_size"]),
            step(model, inputs: [input.name: "model_input"], outputs: [output.name: "model_output"]),
            step(postprocessName, inputs: post, outputs: [stepOutputName: outputName]),
        ]
        if case .labels = output {
            // The size is not needed by a classifier's last step; an unread ensemble tensor is an error.
            config.ensembleScheduling.step[0].outputMap.removeValue(forKey: "ORIGINAL_SIZE")
        }
        return config
    }

    /// The settings file of the pre- (`true`) or postprocessing step's version.
    package func settings(preprocess: Bool) throws -> Data {
        var spec: [String: Any]
        if preprocess {
            spec = input.stepSpec
            spec["dtype"] = Self.numpyName(input.dataType)
        } else {
            switch output {
            case .image(let image): spec = image.stepSpec
            case .labels(_, _, _, _, _, let topK): spec = ["labels": Self.labelsFile, "top_k": topK]
            }
        }
        return try JSONSerialization.data(withJSONObject: spec, options: [.prettyPrinted, .sortedKeys]) + Data("\n".utf8)
    }

    package static func numpyName(_ type: Inference_DataType) -> String {
        switch type {
        case .typeUint8: "uint8"
        case .typeFp16: "float16"
        case .typeFp64: "float64"
        default: "float32"
        }
    }
}
