import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

final class TextProtoTests: XCTestCase {
    func testParsesConfigWithFieldPositions() throws {
        let text = """
            name: "m"
            backend: "oneflow"
            max_batch_size: 1
            input [
              {
                name: "INPUT_0"
                data_type: TYPE_FP32
                dims: [ 3, 4 ]
              }
            ]
            """
        let document = try Inference_ModelConfig.parse(text)
        XCTAssertEqual(document.message.name, "m")
        XCTAssertEqual(document.message.input.first?.dims, [3, 4])
        XCTAssertEqual(document.position(of: "max_batch_size"), SourcePosition(line: 3, column: 1))
        XCTAssertEqual(document.position(of: "input[0]"), SourcePosition(line: 4, column: 1))
        XCTAssertEqual(document.position(of: "input[0].data_type"), SourcePosition(line: 7, column: 5))
        // list elements share the list's position; a missing path falls back to its nearest parent
        XCTAssertEqual(document.position(of: "input[0].dims[1]")?.line, 8)
        XCTAssertEqual(document.position(of: "input[0].reshape.shape[0]")?.line, 4)
    }

    func testUnknownFieldIsRefusedWithProtobufWording() {
        XCTAssertThrowsError(try Inference_ModelConfig.parse("name: \"x\"\nnme: \"y\"\n")) { error in
            let syntax = error as? TextProtoSyntaxError
            XCTAssertEqual(syntax?.message, "Message type \"inference.ModelConfig\" has no field named \"nme\".")
            XCTAssertEqual(syntax?.position.line, 2)
        }
    }

    func testNestedTypeNameAppearsInMessages() {
        XCTAssertThrowsError(try Inference_ModelConfig.parse("input { nme: \"y\" }")) { error in
            XCTAssertEqual(
                (error as? TextProtoSyntaxError)?.message,
                "Message type \"inference.ModelInput\" has no field named \"nme\".")
        }
    }

    func testAcceptsTheSyntaxTritonAccepts() throws {
        let text = """
            # a comment
            name: 'm' ; max_batch_size: 0, max_batch_size: 8
            input < name: "a" "b" data_type: TYPE_FP32 dims: 1 dims: 2 >
            output [] instance_group { kind: KIND_CPU count: 2 }
            parameters { key: "k" value: { string_value: "v" } }
            """
        let config = try Inference_ModelConfig.parse(text).message
        XCTAssertEqual(config.maxBatchSize, 8)
        XCTAssertEqual(config.input.first?.name, "ab")
        XCTAssertEqual(config.input.first?.dims, [1, 2])
        XCTAssertEqual(config.parameters["k"]?.stringValue, "v")
    }

    func testSyntaxErrorsCarryLineAndColumn() {
        let cases: [(String, String, SourcePosition)] = [
            ("max_batch_size: $", "Expected integer, got: $", SourcePosition(line: 1, column: 17)),
            (
                "input { data_type: TYPE_FLOAT }", "Unknown enumeration value of \"TYPE_FLOAT\" for field \"data_type\".",
                SourcePosition(line: 1, column: 31)
            ),
            (
                "version_policy { latest {} }\nversion_policy { all {} }",
                "Non-repeated field \"version_policy\" is specified multiple times.", SourcePosition(line: 2, column: 16)
            ),
            (
                "dynamic_batching {}\nsequence_batching {}",
                "Field \"sequence_batching\" is specified along with field \"dynamic_batching\", another member of oneof \"scheduling_choice\".",
                SourcePosition(line: 2, column: 19)
            ),
        ]
        for (text, message, position) in cases {
            XCTAssertThrowsError(try Inference_ModelConfig.parse(text), text) { error in
                XCTAssertEqual((error as? TextProtoSyntaxError)?.message, message, text)
                XCTAssertEqual((error as? TextProtoSyntaxError)?.position, position, text)
            }
        }
    }

    func testPrintedConfigParsesBackToTheSameMessage() throws {
        var config = Inference_ModelConfig()
        config.name = "everything"
        config.platform = "onnxruntime_onnx"
        config.maxBatchSize = 8
        var input = Inference_ModelInput()
        input.name = "in \"quoted\""
        input.dataType = .typeString
        input.dims = [-1, 3]
        input.reshape.shape = [3, -1]
        input.optional = true
        config.input = [input, input]
        var output = Inference_ModelOutput()
        output.name = "out"
        output.dataType = .typeBf16
        output.dims = [1]
        output.labelFilename = "labels.txt"
        config.output = [output]
        var group = Inference_ModelInstanceGroup()
        group.kind = .gpu
        group.count = 2
        group.gpus = [0, 1]
        group.profile = ["0", "1"]
        config.instanceGroup = [group]
        config.dynamicBatching.preferredBatchSize = [4, 8]
        config.dynamicBatching.priorityLevels = 2
        var queue = Inference_ModelQueuePolicy()
        queue.timeoutAction = .delay
        queue.defaultTimeoutMicroseconds = 100
        config.dynamicBatching.priorityQueuePolicy = [1: queue, 2: queue]
        config.versionPolicy.specific.versions = [1, 3]
        config.parameters = ["a": .with { $0.stringValue = "1" }, "b": .with { $0.stringValue = "x\ny" }]
        var warmup = Inference_ModelWarmup()
        warmup.name = "w"
        warmup.batchSize = 1
        warmup.inputs = [
            "in": .with {
                $0.dataType = .typeFp32
                $0.dims = [3]
                $0.zeroData = false
            }
        ]
        config.modelWarmup = [warmup]
        config.optimization.executionAccelerators.gpuExecutionAccelerator = [
            .with {
                $0.name = "tensorrt"
                $0.parameters = ["precision_mode": "FP16"]
            }
        ]
        config.modelMetrics.metricControl = [
            .with {
                $0.metricIdentifier.family = "f"
                $0.histogramOptions.buckets = [0.5, 1e-3, 100]
            }
        ]

        let printed = config.pbtxt
        let reparsed = try Inference_ModelConfig.parse(printed).message
        XCTAssertEqual(reparsed, config, printed)
        XCTAssertTrue(printed.contains("input [\n  {\n"), printed)
        XCTAssertTrue(printed.contains("preferred_batch_size: [ 4, 8 ]"), printed)
    }

    /// Empty text is the empty config, as Triton reads it; random bytes are a syntax error at a
    /// position inside them (unless they happen to be text the parser accepts, a lone space or a
    /// comment: then they round-trip like any config).
    func testEmptyInputIsTheEmptyConfigAndBinaryInputASyntaxErrorInside() throws {
        XCTAssertEqual(try Inference_ModelConfig.parse("").message, Inference_ModelConfig())
        XCTAssertEqual(try Inference_ModelConfig.parse(bytes: []).message, Inference_ModelConfig())
        var generator = fuzzGenerator(self, defaultSeed: 512)
        var refused = 0
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 1...512, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if assertParsesAndRoundTripsOrIsRefusedInside(bytes) != nil {
                refused += 1
            } else {
                print("accepted: \(bytes)")
            }
        }
        XCTAssertGreaterThanOrEqual(refused, 195)
    }

    func testVariableMetaParses() throws {
        let meta = try Oneflow_VariableMetaInfo.parse("shape {\n  dim: 16\n  dim: 4\n}\ndata_type: kFloat\n")
        XCTAssertEqual(meta.shape.dim, [16, 4])
        XCTAssertEqual(meta.dataType, .kFloat)
    }
}
