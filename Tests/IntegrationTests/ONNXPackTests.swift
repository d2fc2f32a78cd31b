import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

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
            String(contentsOf: repository.appendingPathComponent("identity_batch/config.pbtxt"), encoding: .utf8)
        ).message
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
            (
                "TYPE_FP32\n    dims: [ 4 ]\n  }\n]\noutput", "TYPE_FP16\n    dims: [ 4 ]\n  }\n]\noutput",
                "unable to load model 'm', configuration expects datatype TYPE_FP16 for input 'x', model provides TYPE_FP32"
            ),
            ("name: \"x\"", "name: \"q\"", "unexpected inference input 'q', allowed inputs are: x"),
            ("name: \"y\"", "name: \"q\"", "unexpected inference output 'q', allowed outputs are: y"),
            (
                "dims: [ 4 ]\n  }\n]\noutput", "dims: [ 4, 1 ]\n  }\n]\noutput",
                "model 'm', tensor 'x': the model expects 2 dimensions (shape [-1,4]) but the model configuration specifies 3 dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape [-1,4,1])"
            ),
            (
                "max_batch_size: 4", "max_batch_size: 0",
                "model 'm', tensor 'x': the model expects 2 dimensions (shape [-1,4]) but the model configuration specifies 1 dimensions (shape [4])"
            ),
            (
                "input [", "input [\n  {\n    name: \"extra\"\n    data_type: TYPE_FP32\n    dims: [ 1 ]\n  },",
                "unable to load model 'm', configuration expects 2 inputs, model provides 1"
            ),
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
            packageRoot.appendingPathComponent(".venv/bin/python"),
            ["-c", script, source.appendingPathComponent("ext.onnx").path])
        XCTAssertEqual(made.status, 0, made.stderr)
        let repository = root.appendingPathComponent("repo")
        let packed = try tritonpack("pack", source.appendingPathComponent("ext.onnx").path, "--repo", repository.path)
        XCTAssertEqual(packed.status, 0, packed.stderr)
        XCTAssertEqual(
            try POSIXFiles.entries(of: repository.appendingPathComponent("ext/1/model.onnx").path), ["model.onnx", "weights.bin"])
        XCTAssertEqual(try tritonpack("lint", repository.path).status, 0)

        try FileManager.default.removeItem(at: source.appendingPathComponent("weights.bin"))
        let missing = try tritonpack(
            "pack", source.appendingPathComponent("ext.onnx").path, "--repo", root.appendingPathComponent("repo2").path)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("weights.bin"), missing.stderr)
        XCTAssertFalse(POSIXFiles.exists(root.appendingPathComponent("repo2/ext").path))
    }

    func testCheckerFailuresAndNonTensorIOAreRefused() throws {
        let root = try temporaryDirectory(self)
        let checker = try tritonpack(
            "pack", packageRoot.appendingPathComponent("Tests/Fixtures/onnx/checker_fails.onnx").path, "--repo",
            root.appendingPathComponent("r").path)
        XCTAssertEqual(checker.status, 1)
        XCTAssertTrue(checker.stderr.contains("checker_fails.onnx: onnx checker:"), checker.stderr)
        XCTAssertTrue(checker.stderr.contains("undefined_tensor"), checker.stderr)

        let sequence = URL(fileURLWithPath: "/usr/share/libonnx-testdata/data/node/test_sequence_insert_at_back/model.onnx")
        let refused = try tritonpack("config", sequence.path, "--format", "json")
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stdout.contains("not a tensor"), refused.stdout)

        let batch = try tritonpack(
            "config", packageRoot.appendingPathComponent("samples/onnx/add_fixed.onnx").path, "--max-batch-size", "2")
        XCTAssertEqual(batch.status, 1)
        XCTAssertTrue(
            batch.stderr.contains("model does not support batching while non-zero max_batch_size is specified"), batch.stderr)
    }

    /// Writes ONNX models with the `onnx` package: x -> MatMul(W 8x8) -> Relu -> y, or Identity
    /// for exotic element types; `N` symbolic batch dimension. (name, opset, IR, external data, element type)
    func writeModernModels(_ models: [(String, Int, Int, Bool, String)], into folder: URL) throws {
        let script = """
            import sys, numpy as np, onnx
            from onnx import TensorProto, helper, numpy_helper
            folder = sys.argv[1]
            for spec in sys.argv[2:]:
                name, opset, ir, ext, elem = spec.split(":")
                t = getattr(TensorProto, elem)
                if elem == "FLOAT":
                    inits = [numpy_helper.from_array(np.ones((8, 8), dtype=np.float32), name="W")]
                    nodes = [helper.make_node("MatMul", ["x", "W"], ["h"]), helper.make_node("Relu", ["h"], ["y"])]
                else:
                    inits, nodes = [], [helper.make_node("Identity", ["x"], ["y"])]
                g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", t, ["N", 8])],
                                      [helper.make_tensor_value_info("y", t, ["N", 8])], initializer=inits)
                m = helper.make_model(g, opset_imports=[helper.make_opsetid("", int(opset))])
                m.ir_version = int(ir)
                path = folder + "/" + name + "/" + name + ".onnx"
                import os; os.makedirs(os.path.dirname(path), exist_ok=True)
                if ext == "1":
                    onnx.save(m, path, save_as_external_data=True, all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
                else:
                    onnx.save(m, path)
            """
        let specs = models.map { "\($0.0):\($0.1):\($0.2):\($0.3 ? 1 : 0):\($0.4)" }
        let made = try runProcess(packageRoot.appendingPathComponent(".venv/bin/python"), ["-c", script, folder.path] + specs)
        XCTAssertEqual(made.status, 0, made.stderr)
    }

    /// IR 9 and 10 files (opsets 17-21, with and without external data): libonnx 1.12's checker
    /// and shape inference are skipped with a note in every output format; the signature comes from
    /// the ModelProto; pack writes a config matching the graph, and lint cross-checks it.
    func testModernIRVersionsPackAndLintWithANote() throws {
        let root = try temporaryDirectory(self)
        let sources = root.appendingPathComponent("src")
        let models: [(String, Int, Int, Bool, String)] = [
            ("ir9_op17", 17, 9, false, "FLOAT"), ("ir9_op19_ext", 19, 9, true, "FLOAT"), ("ir10_op20", 20, 10, false, "FLOAT"),
            ("ir10_op21_ext", 21, 10, true, "FLOAT"), ("ir10_op18_ext", 18, 10, true, "FLOAT"),
        ]
        try writeModernModels(models, into: sources)
        let repository = root.appendingPathComponent("repo")
        for (name, _, ir, external, _) in models {
            let file = sources.appendingPathComponent("\(name)/\(name).onnx")
            let config = try tritonpack("config", file.path, "--format", "json")
            XCTAssertEqual(config.status, 0, config.stdout)
            XCTAssertTrue(config.stdout.contains("IR version \(ir) is newer than the IR 8 this libonnx knows"), config.stdout)
            let packed = try tritonpack("pack", file.path, "--repo", repository.path)
            XCTAssertEqual(packed.status, 0, packed.stderr)
            XCTAssertTrue(packed.stdout.contains("note: \(name).onnx: onnx checker and shape inference skipped"), packed.stdout)
            let written = try Inference_ModelConfig.parse(
                String(contentsOf: repository.appendingPathComponent("\(name)/config.pbtxt"), encoding: .utf8)
            ).message
            XCTAssertEqual(written.platform, "onnxruntime_onnx")
            XCTAssertEqual(written.maxBatchSize, 4)
            XCTAssertEqual(written.input.map(\.name), ["x"])
            XCTAssertEqual(written.input.first?.dataType, .typeFp32)
            XCTAssertEqual(written.input.first?.dims, [8])
            XCTAssertEqual(written.output.map(\.name), ["y"])
            XCTAssertEqual(written.output.first?.dims, [8])
            let version = repository.appendingPathComponent("\(name)/1")
            if external {
                XCTAssertEqual(
                    try POSIXFiles.entries(of: version.appendingPathComponent("model.onnx").path), ["model.onnx", "weights.bin"])
            } else {
                XCTAssertTrue(POSIXFiles.isRegularFile(version.appendingPathComponent("model.onnx").path))
            }
        }
        // lint: clean, with the note in text, JSON and SARIF.
        let text = try tritonpack("lint", repository.path)
        XCTAssertEqual(text.status, 0, text.stdout)
        XCTAssertEqual(
            text.stdout.components(separatedBy: "onnx checker and shape inference skipped").count - 1, models.count, text.stdout)
        for format in ["json", "sarif"] {
            let output = try tritonpack("lint", repository.path, "--format", format)
            XCTAssertEqual(output.status, 0, output.stdout)
            XCTAssertTrue(output.stdout.contains("onnx checker and shape inference skipped"), "\(format): \(output.stdout)")
        }
        // ... and the config-versus-model cross-check still runs on the declared graph.
        for (name, _, _, _, _) in models {
            let configURL = repository.appendingPathComponent("\(name)/config.pbtxt")
            let original = try String(contentsOf: configURL, encoding: .utf8)
            try original.replacingOccurrences(
                of: "name: \"y\"\n    data_type: TYPE_FP32\n    dims: [ 8 ]",
                with: "name: \"y\"\n    data_type: TYPE_FP32\n    dims: [ 4 ]"
            )
            .write(to: configURL, atomically: true, encoding: .utf8)
            let lint = try tritonpack("lint", repository.appendingPathComponent(name).path)
            XCTAssertEqual(lint.status, 1, lint.stdout)
            XCTAssertTrue(
                lint.stdout.contains(
                    "model '\(name)', tensor 'y': the model expects 2 dimensions (shape [-1,8]) but the model configuration specifies 2 dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape [-1,4])"
                ),
                lint.stdout)
        }
    }

    /// float8 (IR 9) and int4 (IR 10) tensors have no Triton data type: refused, naming the tensor.
    func testElementTypesTritonCannotServeAreRefusedByName() throws {
        let root = try temporaryDirectory(self)
        try writeModernModels(
            [("f8", 19, 9, false, "FLOAT8E4M3FN"), ("i4", 21, 10, false, "INT4"), ("u4", 21, 10, false, "UINT4")], into: root)
        for (name, type) in [("f8", "FLOAT8E4M3FN"), ("i4", "INT4"), ("u4", "UINT4")] {
            let file = root.appendingPathComponent("\(name)/\(name).onnx")
            let packed = try tritonpack("pack", file.path, "--repo", root.appendingPathComponent("repo").path)
            XCTAssertEqual(packed.status, 1)
            XCTAssertTrue(
                packed.stderr.contains("input 'x' has ONNX element type \(type), which Triton cannot serve"), packed.stderr)
            XCTAssertFalse(POSIXFiles.exists(root.appendingPathComponent("repo/\(name)").path))
            // lint on a folder that relies on auto-complete names the tensor too.
            let model = root.appendingPathComponent("lintrepo/\(name)/1")
            try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: file, to: model.appendingPathComponent("model.onnx"))
            let lint = try tritonpack("lint", root.appendingPathComponent("lintrepo/\(name)").path)
            XCTAssertEqual(lint.status, 1, lint.stdout)
            XCTAssertTrue(
                lint.stdout.contains(
                    "model input 'x' must specify 'data_type' for \(name) (the model's element type \(type) has no Triton data type)"
                ), lint.stdout)
        }
    }
}
