import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// `tritonpack smoke --protocol grpc` against the real tritonserver: every sample kind (Python,
/// ONNX, OneFlow through its own runtime) with matching and wrong expectations, a decoupled
/// Python model streamed over gRPC, and a response over gRPC's message limit.
final class GRPCSmokeTests: XCTestCase {
    let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures/python")

    func smoke(_ repository: URL, _ model: String, _ extra: [String]) throws -> (ProcessOutcome, [String: Any]) {
        let outcome = try runProcess(
            tritonpackExecutable,
            ["smoke", repository.path, "--model", model, "--requests", "20", "--concurrency", "2", "--timeout", "120"] + extra)
        let json = (try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]) ?? [:]
        return (outcome, json)
    }

    func failures(_ json: [String: Any]) -> String { ((json["failures"] as? [String]) ?? []).joined(separator: "\n") }

    /// A repository holding `source` as `model`.
    func repository(_ model: String, from source: URL) throws -> URL {
        let repository = try temporaryDirectory(self).appendingPathComponent("repo")
        try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source, to: repository.appendingPathComponent(model))
        return repository
    }

    /// A folder with one FP32 [1, 4] tensor per name.
    func folder(_ name: String, _ tensors: [String: [Float]]) throws -> URL {
        let folder = try temporaryDirectory(self).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (file, values) in tensors {
            var bytes = Data()
            for value in values { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
            let tensor = TensorData(dataType: .typeFp32, shape: [1, Int64(values.count)], bytes: bytes)
            try NPY.write(tensor, to: folder.appendingPathComponent(file))
        }
        return folder
    }

    func testPythonModelOverGRPCMatchesAndIsTimed() throws {
        let repository = try repository("identity_fp32", from: packageRoot.appendingPathComponent("samples/python/identity_fp32"))
        let inputs = try folder("in", ["INPUT0.npy": [1, 2, 3, 4]])
        let expected = try folder("out", ["OUTPUT0.npy": [1, 2, 3, 4]])
        let (outcome, json) = try smoke(
            repository, "identity_fp32",
            ["--protocol", "grpc", "--inputs", inputs.path, "--expected", expected.path, "--format", "json"])
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        XCTAssertEqual(json["protocol"] as? String, "grpc")
        XCTAssertEqual((json["outputs"] as? [[String: Any]])?.first?["mismatches"] as? Int, 0)
        let latency = json["latency"] as? [String: Any]
        XCTAssertEqual(latency?["requests"] as? Int, 20)
        XCTAssertEqual(latency?["server_inference_count"] as? Int, 22)  // 1 check + 1 warm-up + 20 timed, all over gRPC

        let wrong = try folder("wrong", ["OUTPUT0.npy": [1, 2, 3, 5]])
        let (failed, report) = try smoke(
            repository, "identity_fp32",
            ["--protocol", "grpc", "--inputs", inputs.path, "--expected", wrong.path, "--format", "json"])
        XCTAssertEqual(failed.status, 1, failed.stdout + failed.stderr)
        XCTAssertTrue(
            failures(report).contains("OUTPUT0: 1 of 4 values differ from OUTPUT0.npy beyond rtol 0.001, atol 0.001"),
            failures(report))
    }

    func testONNXModelOverGRPC() throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("repository")
        let packed = try tritonpack(
            "pack", packageRoot.appendingPathComponent("samples/onnx/identity_batch.onnx").path, "--repo", repository.path)
        XCTAssertEqual(packed.status, 0, packed.stdout + packed.stderr)
        let inputs = try folder("in", ["x.npy": [1.5, -2, 3.25, 1e6]])
        let expected = try folder("out", ["y.npy": [1.5, -2, 3.25, 1e6]])
        let (outcome, json) = try smoke(
            repository, "identity_batch",
            ["--protocol", "grpc", "--inputs", inputs.path, "--expected", expected.path, "--format", "json"])
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        XCTAssertEqual((json["runtime"] as? [String: Any])?["name"] as? String, "onnxruntime-python")
        XCTAssertEqual((json["outputs"] as? [[String: Any]])?.first?["mismatches"] as? Int, 0)

        let wrong = try folder("wrong", ["y.npy": [1.5, -2, 3.25, 0]])
        let (failed, report) = try smoke(
            repository, "identity_batch",
            ["--protocol", "grpc", "--inputs", inputs.path, "--expected", wrong.path, "--format", "json"])
        XCTAssertEqual(failed.status, 1, failed.stdout + failed.stderr)
        XCTAssertTrue(failures(report).contains("y: 1 of 4 values differ from y.npy"), failures(report))
    }

    func testOneFlowModelThroughItsRuntimeOverGRPC() throws {
        try requireOneFlowPython()
        let repository = try temporaryDirectory(self).appendingPathComponent("repository")
        let packed = try tritonpack(
            "pack", TestSupport.sample("tiny_mlp").path, "--repo", repository.path, "--instance-group", "cpu:1")
        XCTAssertEqual(packed.status, 0, packed.stdout + packed.stderr)
        let golden = packageRoot.appendingPathComponent("samples/oneflow/tiny_mlp/golden")
        let (outcome, json) = try smoke(
            repository, "tiny_mlp",
            ["--protocol", "grpc", "--inputs", golden.path, "--expected", golden.path, "--format", "json"])
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        XCTAssertEqual((json["runtime"] as? [String: Any])?["name"] as? String, "oneflow-python")
        XCTAssertEqual((json["outputs"] as? [[String: Any]])?.first?["mismatches"] as? Int, 0)

        // The expected output of another input: every value off.
        let wrong = try temporaryDirectory(self).appendingPathComponent("wrong")
        try FileManager.default.createDirectory(at: wrong, withIntermediateDirectories: true)
        var tensor = try NPY.read(golden.appendingPathComponent("OUTPUT_0.npy"))
        tensor.bytes = Data(
            tensor.bytes.withUnsafeBytes { raw in
                raw.bindMemory(to: Float.self).map { $0 + 1 }.withUnsafeBytes { Array($0) }
            })
        try NPY.write(tensor, to: wrong.appendingPathComponent("OUTPUT_0.npy"))
        let (failed, report) = try smoke(
            repository, "tiny_mlp", ["--protocol", "grpc", "--inputs", golden.path, "--expected", wrong.path, "--format", "json"])
        XCTAssertEqual(failed.status, 1, failed.stdout + failed.stderr)
        XCTAssertTrue(failures(report).contains("values differ from OUTPUT_0.npy"), failures(report))
    }

    /// A decoupled model answers each request three times (the input times 1, 2, 3): over gRPC
    /// every response is streamed and checked against its own folder, and their number counts.
    func testDecoupledModelIsStreamedAndEveryResponseChecked() throws {
        let repository = try repository("decoupled_three", from: fixtures.appendingPathComponent("decoupled_three"))
        let inputs = try folder("in", ["INPUT0.npy": [1, 2, 3, 4]])
        let expected = try temporaryDirectory(self).appendingPathComponent("responses")
        for factor in 1...3 {
            let response = try folder("r\(factor)", ["OUTPUT_0.npy": [1, 2, 3, 4].map { Float(factor) * $0 }])
            try FileManager.default.createDirectory(at: expected, withIntermediateDirectories: true)
            try FileManager.default.moveItem(at: response, to: expected.appendingPathComponent("\(factor - 1)"))
        }
        let (outcome, json) = try smoke(
            repository, "decoupled_three",
            ["--protocol", "grpc", "--inputs", inputs.path, "--expected", expected.path, "--responses", "3", "--format", "json"])
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        XCTAssertEqual(json["responses"] as? Int, 3)
        let outputs = (json["outputs"] as? [[String: Any]]) ?? []
        XCTAssertEqual(outputs.compactMap { $0["response"] as? Int }, [0, 1, 2])
        XCTAssertEqual(outputs.compactMap { $0["mismatches"] as? Int }, [0, 0, 0])
        XCTAssertEqual((json["latency"] as? [String: Any])?["requests"] as? Int, 20)

        // The text report names each response.
        let text = try smoke(repository, "decoupled_three", ["--protocol", "grpc", "--responses", "3", "--requests", "2"]).0
        XCTAssertEqual(text.status, 0, text.stdout + text.stderr)
        XCTAssertTrue(text.stdout.contains("responses: 3 to the checked request"), text.stdout)
        XCTAssertTrue(text.stdout.contains("OUTPUT0 (response 2): TYPE_FP32 [1, 4]"), text.stdout)

        // Wrong expectations: a response's values, the count, the folders.
        let off = expected.appendingPathComponent("1/OUTPUT_0.npy")
        try FileManager.default.removeItem(at: off)
        try FileManager.default.copyItem(at: expected.appendingPathComponent("2/OUTPUT_0.npy"), to: off)
        let (failed, report) = try smoke(
            repository, "decoupled_three",
            ["--protocol", "grpc", "--inputs", inputs.path, "--expected", expected.path, "--responses", "4", "--format", "json"])
        XCTAssertEqual(failed.status, 1, failed.stdout + failed.stderr)
        XCTAssertTrue(failures(report).contains("OUTPUT0 (response 1): 4 of 4 values differ from OUTPUT_0.npy"), failures(report))
        XCTAssertTrue(failures(report).contains("3 response(s), but --responses 4"), failures(report))
        try FileManager.default.removeItem(at: expected.appendingPathComponent("2"))
        let (fewer, fewerReport) = try smoke(
            repository, "decoupled_three",
            ["--protocol", "grpc", "--inputs", inputs.path, "--expected", expected.path, "--format", "json"])
        XCTAssertEqual(fewer.status, 1, fewer.stdout + fewer.stderr)
        XCTAssertTrue(
            failures(fewerReport).contains("3 response(s), but \(expected.path) has 2 response folder(s) (0 to 1)"),
            failures(fewerReport))
    }

    func testDecoupledModelOverHTTPIsRefusedNamingGRPC() throws {
        let repository = try repository("decoupled_three", from: fixtures.appendingPathComponent("decoupled_three"))
        let outcome = try tritonpack("smoke", repository.path, "--model", "decoupled_three")
        XCTAssertEqual(outcome.status, 1, outcome.stdout + outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("is decoupled"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("--protocol grpc"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("decoupled_three/config.pbtxt"), outcome.stderr)
        let count = try tritonpack("smoke", repository.path, "--model", "decoupled_three", "--responses", "3")
        XCTAssertEqual(count.status, 1, count.stderr)
    }

    /// Triton refuses to send a gRPC message over 2^31 - 1 bytes (HTTP has no such limit): smoke
    /// reports it as a gRPC-only failure that names the limit.
    func testResponseOverTheGRPCMessageLimitIsAGRPCOnlyFailure() throws {
        let repository = try repository("huge_output", from: fixtures.appendingPathComponent("huge_output"))
        let (outcome, json) = try smoke(repository, "huge_output", ["--protocol", "grpc", "--format", "json"])
        XCTAssertEqual(outcome.status, 1, outcome.stdout + outcome.stderr)
        XCTAssertEqual(json["loaded"] as? Bool, true)
        let failure = failures(json)
        XCTAssertTrue(failure.contains("larger than gRPC's message limit of 2147483647 bytes"), failure)
        XCTAssertTrue(failure.contains("gRPC-only failure: HTTP has no such limit (--protocol http)"), failure)
    }
}
