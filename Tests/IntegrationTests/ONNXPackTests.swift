import Foundation
import XCTest

@testable import TritonPackKit

final class ONNXPackTests: XCTestCase {
    let identity = packageRoot.appendingPathComponent("samples/onnx/identity_batch.onnx")

    func testPackPlacesModelOnnxAndLintsClean() throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("repo")
        let packed = try tritonpack("pack", identity.path, "--repo", repository.path)
        XCTAssertEqual(packed.status, 0, packed.stderr)
        let version = repository.appendingPathComponent("identity_batch/1")
        XCTAssertEqual(try POSIXFiles.entries(of: version.path), ["model.onnx", Manifest.fileName])
        XCTAssertEqual(try Data(contentsOf: version.appendingPathComponent("model.onnx")), try Data(contentsOf: identity))
        let config = try Inference_ModelConfig.parse(
            String(contentsOf: repository.appendingPathComponent("identity_batch/config.pbtxt"), encoding: .utf8)).message
        XCTAssertEqual(config.platform, "onnxruntime_onnx")
        XCTAssertEqual(config.maxBatchSize, 4)
        XCTAssertEqual(config.input.first?.dims, [4])
        XCTAssertNotNil(config.dynamicBatching)
        let lint = try tritonpack("lint", repository.path, "--disable-auto-complete-config")
        XCTAssertEqual(lint.status, 0, lint.stdout)
    }

    func testEachKindOfMismatchIsRefusedWithTheBackendsWording() throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("repo")
        XCTAssertEqual(try tritonpack("pack", identity.path, "--repo", repository.path, "--name", "m").status, 0)
        let configURL = repository.appendingPathComponent("m/config.pbtxt")
        let original = try String(contentsOf: configURL, encoding: .utf8)
        let cases: [(String, String, String)] = [
            ("TYPE_FP32\n    dims: [ 4 ]\n  }\n]\noutput", "TYPE_FP16\n    dims: [ 4 ]\n  }\n]\noutput",
             "unable to load model 'm', configuration expects datatype TYPE_FP16 for input 'x', model provides TYPE_FP32"),
            ("name: \"x\"", "name: \"q\"", "unexpected inference input 'q', allowed inputs are: x"),
            ("name: \"y\"", "name: \"q\"", "unexpected inference output 'q', allowed outputs are: y"),
            ("dims: [ 4 ]\n  }\n]\noutput", "dims: [ 4, 1 ]\n  }\n]\noutput",
             "model 'm', tensor 'x': the model expects 2 dimensions (shape [-1,4]) but the model configuration specifies 3 dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape [-1,4,1])"),
            ("max_batch_size: 4", "max_batch_size: 0",
             "model 'm', tensor 'x': the model expects 2 dimensions (shape [-1,4]) but the model configuration specifies 1 dimensions (shape [4])"),
            ("input [", "input [\n  {\n    name: \"extra\"\n    data_type: TYPE_FP32\n    dims: [ 1 ]\n  },",
             "unable to load model 'm', configuration expects 2 inputs, model provides 1"),
        ]
        for (from, to, message) in cases {
            let changed = original.replacingOccurrences(of: from, with: to)
            XCTAssertNotEqual(changed, original, from)
            try changed.write(to: configURL, atomically: true, encoding: .utf8)
            let lint = try tritonpack("lint", repository.path)
            XCTAssertEqual(lint.status, 1, lint.stdout)
            XCTAssertTrue(lint.stdout.contains("error: \(message) [onnx-model]"), "\(message)\n\(lint.stdout)")
        }
    }

    func testExternalDataUsesTheFolderForm() throws {
        let root = try temporaryDirectory(self)
        let source = root.appendingPathComponent("src")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        let script = """
            import sys, numpy as np, onnx
            from onnx import TensorProto, helper, numpy_helper
            w = numpy_helper.from_array(np.arange(4096, dtype=np.float32).reshape(64, 64), name="W")
            g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "ext",
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 64])],
                [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 64])], initializer=[w])
            m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]); m.ir_version = 7
            onnx.save(m, sys.argv[1], save_as_external_data=True, all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
            """
        let made = try runProcess(
            packageRoot.appendingPathComponent(".venv/bin/python"), ["-c", script, source.appendingPathComponent("ext.onnx").path])
        XCTAssertEqual(made.status, 0, made.stderr)
        let repository = root.appendingPathComponent("repo")
        let packed = try tritonpack("pack", source.appendingPathComponent("ext.onnx").path, "--repo", repository.path)
        XCTAssertEqual(packed.status, 0, packed.stderr)
        XCTAssertEqual(
            try POSIXFiles.entries(of: repository.appendingPathComponent("ext/1/model.onnx").path), ["model.onnx", "weights.bin"])
        XCTAssertEqual(try tritonpack("lint", repository.path).status, 0)

        try FileManager.default.removeItem(at: source.appendingPathComponent("weights.bin"))
        let missing = try tritonpack("pack", source.appendingPathComponent("ext.onnx").path, "--repo", root.appendingPathComponent("repo2").path)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("weights.bin"), missing.stderr)
        XCTAssertFalse(POSIXFiles.exists(root.appendingPathComponent("repo2/ext").path))
    }

    func testCheckerFailuresAndNonTensorIOAreRefused() throws {
        let root = try temporaryDirectory(self)
        let checker = try tritonpack(
            "pack", packageRoot.appendingPathComponent("Tests/Fixtures/onnx/checker_fails.onnx").path, "--repo", root.appendingPathComponent("r").path)
        XCTAssertEqual(checker.status, 1)
        XCTAssertTrue(checker.stderr.contains("checker_fails.onnx: onnx checker:"), checker.stderr)
        XCTAssertTrue(checker.stderr.contains("undefined_tensor"), checker.stderr)

        let sequence = URL(fileURLWithPath: "/usr/share/libonnx-testdata/data/node/test_sequence_insert_at_back/model.onnx")
        let refused = try tritonpack("config", sequence.path, "--format", "json")
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stdout.contains("not a tensor"), refused.stdout)

        let batch = try tritonpack("config", packageRoot.appendingPathComponent("samples/onnx/add_fixed.onnx").path, "--max-batch-size", "2")
        XCTAssertEqual(batch.status, 1)
        XCTAssertTrue(batch.stderr.contains("model does not support batching while non-zero max_batch_size is specified"), batch.stderr)
    }
}
