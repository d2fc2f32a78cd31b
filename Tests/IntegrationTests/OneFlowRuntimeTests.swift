import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// Packed OneFlow graphs executed for real: tritonpack smoke with the project's tritonserver and
/// OneFlow's own runtime (the `oneflow-python` runtime), compared with the golden outputs that
/// OneFlow returned when each graph was saved.
final class OneFlowRuntimeTests: XCTestCase {
    override func setUpWithError() throws { try requireOneFlowPython() }

    func golden(_ name: String) -> URL { packageRoot.appendingPathComponent("samples/oneflow/\(name)/golden") }

    /// Packs `sample` into a fresh repository (extra pack options allowed) and returns it.
    func packed(_ sample: String, _ options: [String] = ["--instance-group", "cpu:1"]) throws -> URL {
        let repository = try temporaryDirectory(self).appendingPathComponent("repository")
        let outcome = try runProcess(
            tritonpackExecutable, ["pack", TestSupport.sample(sample).path, "--repo", repository.path] + options)
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        return repository
    }

    func smoke(_ repository: URL, _ model: String, inputs: URL, expected: URL, _ extra: [String] = [])
        throws -> (ProcessOutcome, [String: Any])
    {
        let outcome = try runProcess(
            tritonpackExecutable,
            [
                "smoke", repository.path, "--model", model, "--inputs", inputs.path, "--expected", expected.path,
                "--requests", "5", "--format", "json",
            ] + extra)
        let json = (try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]) ?? [:]
        return (outcome, json)
    }

    func failures(_ json: [String: Any]) -> String { ((json["failures"] as? [String]) ?? []).joined(separator: "\n") }

    func assertPassesWithGolden(_ sample: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let repository = try packed(sample)
        let (outcome, json) = try smoke(repository, sample, inputs: golden(sample), expected: golden(sample))
        XCTAssertEqual(outcome.status, 0, "\(sample): \(outcome.stdout)\(outcome.stderr)", file: file, line: line)
        XCTAssertEqual((json["runtime"] as? [String: Any])?["name"] as? String, "oneflow-python", file: file, line: line)
        let outputs = (json["outputs"] as? [[String: Any]]) ?? []
        let signature =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: packageRoot.appendingPathComponent("samples/oneflow/\(sample)/signature.json")))
            as? [String: Any]
        XCTAssertEqual(outputs.count, (signature?["outputs"] as? [Any])?.count, sample, file: file, line: line)
        for output in outputs {
            XCTAssertEqual(output["mismatches"] as? Int, 0, "\(sample) \(output["name"] ?? "?")", file: file, line: line)
        }
    }

    func testSmallSamplesMatchTheirGoldenOutputs() throws {
        for sample in ["tiny_mlp", "multi_io", "three_out", "nested_outputs", "integer_outputs", "affine_fp64"] {
            try assertPassesWithGolden(sample)
        }
    }

    /// Every report format says which runtime executed the model, and why.
    func testJUnitReportNamesTheRuntime() throws {
        let repository = try packed("tiny_mlp")
        let outcome = try tritonpack("smoke", repository.path, "--model", "tiny_mlp", "--requests", "2", "--format", "junit")
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("<property name=\"runtime\" value=\"oneflow-python\"/>"), outcome.stdout)
        XCTAssertTrue(
            outcome.stdout.contains("<property name=\"runtime_reason\" value=\"this tritonserver has no oneflow backend"),
            outcome.stdout)
        let text = try tritonpack("smoke", repository.path, "--model", "tiny_mlp", "--requests", "2")
        XCTAssertTrue(text.stdout.contains("  runtime: oneflow-python (this tritonserver has no oneflow backend"), text.stdout)
    }

    /// A real BatchNorm save: `m.bn.num_batches_tracked` is packed (byte-identical) and noted, and
    /// the graph computes its golden outputs.
    func testBatchNormGraphPacksWithItsUnusedBufferAndRuns() throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("repository")
        let outcome = try tritonpack(
            "pack", TestSupport.sample("batchnorm_cnn").path, "--repo", repository.path, "--instance-group", "cpu:1")
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(
            outcome.stdout.contains("note: m.bn.num_batches_tracked: variable folder that model.mlir does not read"),
            outcome.stdout)
        for file in ["meta", "out"] {
            XCTAssertEqual(
                sha256(of: repository.appendingPathComponent("batchnorm_cnn/1/model/m.bn.num_batches_tracked/\(file)")),
                sha256(of: TestSupport.sample("batchnorm_cnn").appendingPathComponent("m.bn.num_batches_tracked/\(file)")))
        }
        let lint = try tritonpack("lint", repository.path)
        XCTAssertEqual(lint.status, 0, lint.stdout)
        XCTAssertTrue(lint.stdout.contains("num_batches_tracked: info:"), lint.stdout)
        let (smoked, json) = try smoke(
            repository, "batchnorm_cnn", inputs: golden("batchnorm_cnn"), expected: golden("batchnorm_cnn"))
        XCTAssertEqual(smoked.status, 0, smoked.stdout + smoked.stderr)
        XCTAssertEqual(((json["outputs"] as? [[String: Any]])?.first)?["mismatches"] as? Int, 0)
    }

    /// max_batch_size 8: requests of 1, 3 and 8 rows are padded to 8 as the backend does, and only
    /// the real rows come back, equal to the golden rows.
    func testBatchOfEightServesOneThreeAndEightRows() throws {
        let repository = try packed("tiny_mlp_b8")
        let config = try String(contentsOf: repository.appendingPathComponent("tiny_mlp_b8/config.pbtxt"), encoding: .utf8)
        XCTAssertTrue(config.contains("max_batch_size: 8"), config)
        let input = try NPY.read(golden("tiny_mlp_b8").appendingPathComponent("INPUT_0.npy"))
        let output = try NPY.read(golden("tiny_mlp_b8").appendingPathComponent("OUTPUT_0.npy"))
        for rows in [1, 3, 8] {
            let folder = try temporaryDirectory(self)
            try NPY.write(input.firstRows(rows), to: folder.appendingPathComponent("INPUT_0.npy"))
            try NPY.write(output.firstRows(rows), to: folder.appendingPathComponent("OUTPUT_0.npy"))
            let (outcome, json) = try smoke(repository, "tiny_mlp_b8", inputs: folder, expected: folder)
            XCTAssertEqual(outcome.status, 0, "\(rows) rows: \(outcome.stdout)")
            let checked = (json["outputs"] as? [[String: Any]])?.first
            XCTAssertEqual(checked?["shape"] as? [Int], [rows, 3])
            XCTAssertEqual(checked?["mismatches"] as? Int, 0)
        }
    }

    /// Expected outputs under each other's names (what the oneflow backend's hash-map numbering
    /// produces on a real server): smoke fails and says which output carries which tensor.
    func testSwappedExpectedOutputsAreNamedAsAPermutation() throws {
        let repository = try packed("three_out")
        let folder = try temporaryDirectory(self)
        let source = golden("three_out")
        for (from, to) in [("INPUT_0", "INPUT_0"), ("OUTPUT_0", "OUTPUT_2"), ("OUTPUT_1", "OUTPUT_1"), ("OUTPUT_2", "OUTPUT_0")] {
            try FileManager.default.copyItem(
                at: source.appendingPathComponent("\(from).npy"), to: folder.appendingPathComponent("\(to).npy"))
        }
        let (outcome, json) = try smoke(repository, "three_out", inputs: folder, expected: folder)
        XCTAssertEqual(outcome.status, 1, outcome.stdout)
        XCTAssertTrue(
            failures(json).contains("OUTPUT_0 carries the expected OUTPUT_2, OUTPUT_2 carries the expected OUTPUT_0"),
            failures(json))
        let outputs = (json["outputs"] as? [[String: Any]]) ?? []
        XCTAssertEqual(outputs.map { $0["carries"] as? String }, ["OUTPUT_2.npy", nil, "OUTPUT_0.npy"])
        let lint = try tritonpack("lint", repository.path, "--format", "json")
        XCTAssertTrue(lint.stdout.contains("oneflow-output-numbering"), lint.stdout)
    }

    /// A model.mlir OneFlow cannot parse (OneFlow calls exit(1) on it) is a smoke failure naming
    /// the file; no server or stub is left running.
    func testCorruptGraphFailsClearlyAndLeavesNothingRunning() throws {
        let repository = try packed("tiny_mlp")
        let graph = repository.appendingPathComponent("tiny_mlp/1/model/model.mlir")
        try Data("module { this is not MLIR".utf8).write(to: graph)
        let (outcome, json) = try smoke(repository, "tiny_mlp", inputs: golden("tiny_mlp"), expected: golden("tiny_mlp"))
        XCTAssertEqual(outcome.status, 1, outcome.stdout + outcome.stderr)
        XCTAssertEqual(json["loaded"] as? Bool, false)
        XCTAssertTrue(failures(json).contains("model.mlir: OneFlow cannot load this graph"), failures(json))
        XCTAssertEqual(processes(mentioning: "tritonpack-smoke-"), [], "a server or stub of a smoke test still runs")
    }

    /// The guide's style-transfer model, configured for KIND_GPU, smoked on this machine with
    /// --cpu: the packed graph computes OneFlow's golden output.
    func testStyleTransferConfiguredForGPUMatchesGoldenWithCPUFlag() throws {
        let repository = try packed("fast_neural_style", [])
        let config = try String(contentsOf: repository.appendingPathComponent("fast_neural_style/config.pbtxt"), encoding: .utf8)
        XCTAssertTrue(config.contains("KIND_GPU"), config)
        if GPUs.names().isEmpty {
            let (refused, _) = try smoke(
                repository, "fast_neural_style", inputs: golden("fast_neural_style"), expected: golden("fast_neural_style"))
            XCTAssertEqual(refused.status, 1, refused.stdout + refused.stderr)
            XCTAssertTrue((refused.stdout + refused.stderr).contains("pass --cpu"), refused.stdout + refused.stderr)
        }
        let (outcome, json) = try smoke(
            repository, "fast_neural_style", inputs: golden("fast_neural_style"), expected: golden("fast_neural_style"),
            ["--cpu", "--requests", "1", "--timeout", "600"])
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        let output = (json["outputs"] as? [[String: Any]])?.first
        XCTAssertEqual(output?["shape"] as? [Int], [1, 3, 256, 256])
        XCTAssertEqual(output?["mismatches"] as? Int, 0)
    }

    /// Command lines of running processes that contain `text`.
    func processes(mentioning text: String) -> [String] {
        ((try? POSIXFiles.entries(of: "/proc")) ?? []).compactMap { entry in
            guard Int32(entry) != nil, let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else {
                return nil
            }
            let line = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
            return line.contains(text) ? line : nil
        }
    }
}

extension TensorData {
    /// The first `rows` entries along dimension 0.
    func firstRows(_ rows: Int) -> TensorData {
        let rowBytes = bytes.count / Int(shape[0])
        return TensorData(dataType: dataType, shape: [Int64(rows)] + shape.dropFirst(), bytes: bytes.prefix(rows * rowBytes))
    }
}
