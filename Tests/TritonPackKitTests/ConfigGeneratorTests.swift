import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

final class ConfigGeneratorTests: XCTestCase {
    /// The config of OneFlow's deployment guide, as a message.
    static let guideConfig = """
        name: "fast_neural_style"
        backend: "oneflow"
        max_batch_size: 1
        input [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 3, 256, 256 ] } ]
        output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 3, 256, 256 ] } ]
        instance_group [ { count: 1 kind: KIND_GPU gpus: [ 0 ] } ]
        """

    func generated(_ name: String, _ options: ConfigOptions? = nil) throws -> Inference_ModelConfig {
        let graph = try OneFlowSavedGraph.read(at: sample(name))
        return try ConfigGenerator.oneflow(graph.signature, options: options ?? ConfigOptions(name: name))
    }

    func testFastNeuralStyleGivesTheGuidesConfig() throws {
        let expected = try Inference_ModelConfig.parse(Self.guideConfig).message
        XCTAssertEqual(try generated("fast_neural_style"), expected)
    }

    func testPrintedConfigReadsBackAsTheSameMessage() throws {
        for name in ["tiny_mlp", "multi_io", "fast_neural_style"] {
            let config = try generated(name)
            XCTAssertEqual(try Inference_ModelConfig.parse(config.pbtxt).message, config, name)
        }
    }

    func testSharedBatchDimensionBecomesMaxBatchSize() throws {
        let config = try generated("multi_io")
        XCTAssertEqual(config.maxBatchSize, 2)
        XCTAssertEqual(config.input.map(\.name), ["INPUT_0", "INPUT_1"])
        XCTAssertEqual(config.input.map(\.dataType), [.typeFp32, .typeInt64])
        XCTAssertEqual(config.input.map(\.dims), [[16], [4]])
        XCTAssertEqual(config.output.map(\.dims), [[8], [1]])
    }

    func testMaxBatchSizeZeroKeepsFullShapes() throws {
        let config = try generated("multi_io", ConfigOptions(name: "m", maxBatchSize: 0))
        XCTAssertEqual(config.maxBatchSize, 0)
        XCTAssertEqual(config.input.map(\.dims), [[2, 16], [2, 4]])
    }

    func testNoSharedBatchMeansFullShapes() throws {
        let signature = Signature(
            inputs: [TensorSpec(name: "INPUT_0", dataType: .typeFp32, shape: [4, 3])],
            outputs: [TensorSpec(name: "OUTPUT_0", dataType: .typeFp32, shape: [3])])
        let config = try ConfigGenerator.oneflow(signature, options: ConfigOptions(name: "m"))
        XCTAssertEqual(config.maxBatchSize, 0)
        XCTAssertEqual(config.output.first?.dims, [3])
        XCTAssertThrowsError(try ConfigGenerator.oneflow(signature, options: ConfigOptions(name: "m", maxBatchSize: 4)))
    }

    func testRankOneTensorsCannotBatch() throws {
        let signature = Signature(
            inputs: [TensorSpec(name: "INPUT_0", dataType: .typeFp32, shape: [4, 3])],
            outputs: [TensorSpec(name: "OUTPUT_0", dataType: .typeInt64, shape: [4])])
        XCTAssertEqual(try ConfigGenerator.oneflow(signature, options: ConfigOptions(name: "m")).maxBatchSize, 0)
        XCTAssertThrowsError(try ConfigGenerator.oneflow(signature, options: ConfigOptions(name: "m", maxBatchSize: 4))) {
            XCTAssertTrue(String(describing: $0).contains("OUTPUT_0"))
        }
    }

    func testOptionsShapeTheConfig() throws {
        let options = ConfigOptions(
            name: "t", maxBatchSize: 8,
            instanceGroups: [try InstanceGroupSpec(parsing: "gpu:2:0,1"), try InstanceGroupSpec(parsing: "cpu:3")],
            dynamicBatching: true, preferredBatchSizes: [4, 8], maxQueueDelayMicroseconds: 100, xrt: "tensorrt",
            versionPolicy: try VersionPolicySpec(parsing: "latest:2"))
        let config = try generated("tiny_mlp", options)
        XCTAssertEqual(config.maxBatchSize, 8)
        XCTAssertEqual(config.instanceGroup.map(\.kind), [.gpu, .cpu])
        XCTAssertEqual(config.instanceGroup.map(\.count), [2, 3])
        XCTAssertEqual(config.instanceGroup[0].gpus, [0, 1])
        XCTAssertEqual(config.dynamicBatching.preferredBatchSize, [4, 8])
        XCTAssertEqual(config.dynamicBatching.maxQueueDelayMicroseconds, 100)
        XCTAssertEqual(config.parameters["xrt"]?.stringValue, "tensorrt")
        XCTAssertEqual(config.versionPolicy.latest.numVersions, 2)
    }

    func testBadOptionsAreRefused() throws {
        for text in ["", "tpu:1", "gpu:0", "gpu:1:x", "cpu:1:0", "gpu:1:0:1", "gpu:-1"] {
            XCTAssertThrowsError(try InstanceGroupSpec(parsing: text), text)
        }
        for text in ["latest:0", "latest", "specific:", "specific:a", "none", "all:1"] {
            XCTAssertThrowsError(try VersionPolicySpec(parsing: text), text)
        }
        XCTAssertEqual(try VersionPolicySpec(parsing: "specific:1,3"), .specific([1, 3]))
        XCTAssertThrowsError(try generated("tiny_mlp", ConfigOptions(name: "t", preferredBatchSizes: [2])))
        XCTAssertThrowsError(try generated("tiny_mlp", ConfigOptions(name: "t", maxBatchSize: 0, dynamicBatching: true)))
        XCTAssertThrowsError(try generated("tiny_mlp", ConfigOptions(name: "t", xrt: "tvm")))
    }

    func testModelNames() {
        for bad in ["", ".", "..", "../x", "a/b", ".hidden", "a..b", " a", "my model", "a\tb", "a\u{7}b", "a?b", "a#b", "50%"] {
            XCTAssertThrowsError(try ModelName.validate(bad), bad)
        }
        XCTAssertNoThrow(try ModelName.validate("fast_neural_style"))
        XCTAssertNoThrow(try ModelName.validate("model.v2-b"))
        XCTAssertEqual(
            ModelNaming.defaultName(forModelAt: URL(fileURLWithPath: "/x/fast_neural_style/model")), "fast_neural_style")
        XCTAssertEqual(ModelNaming.defaultName(forModelAt: URL(fileURLWithPath: "/r/net/1/model")), "net")
        XCTAssertEqual(ModelNaming.defaultName(forModelAt: URL(fileURLWithPath: "/r/resnet50.onnx")), "resnet50")
    }
}
