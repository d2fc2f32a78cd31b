import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// `tritonpack smoke` against the real tritonserver with Python-backend models that answer
/// right, and wrong in each way.
final class SmokeTests: XCTestCase {
    let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures/python")

    /// A repository holding one fixture model (or the identity sample), and input/expected folders.
    func setUp(model: String, source: URL) throws -> (repository: URL, inputs: URL, expected: URL) {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("repo")
        try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source, to: repository.appendingPathComponent(model))
        let inputs = root.appendingPathComponent("inputs")
        let expected = root.appendingPathComponent("expected")
        try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: expected, withIntermediateDirectories: true)
        var bytes = Data()
        for value: Float in [1, 2, 3, 4] { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
        let tensor = TensorData(dataType: .typeFp32, shape: [1, 4], bytes: bytes)
        try NPY.write(tensor, to: inputs.appendingPathComponent("INPUT0.npy"))
        try NPY.write(tensor, to: expected.appendingPathComponent("OUTPUT_0.npy"))
        return (repository, inputs, expected)
    }

    func smoke(_ model: String, source: URL? = nil, extra: [String] = []) throws -> (ProcessOutcome, [String: Any]) {
        let (repository, inputs, expected) = try setUp(model: model, source: source ?? fixtures.appendingPathComponent(model))
        let outcome = try runProcess(
            tritonpackExecutable,
            [
                "smoke", repository.path, "--model", model, "--inputs", inputs.path, "--expected", expected.path,
                "--requests", "20", "--concurrency", "2", "--timeout", "60", "--format", "json",
            ] + extra)
        let json = (try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]) ?? [:]
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/dev/shm") && leftoverRegions(), "shared memory left behind")
        return (outcome, json)
    }

    func leftoverRegions() -> Bool {
        ((try? POSIXFiles.entries(of: "/dev/shm")) ?? []).contains { region in
            region.hasPrefix("triton_python_backend_shm") && !regionsBefore.contains(region)
        }
    }

    var regionsBefore = Set<String>()

    override func setUp() {
        regionsBefore = Set(((try? POSIXFiles.entries(of: "/dev/shm")) ?? []))
    }

    func failures(_ json: [String: Any]) -> String { ((json["failures"] as? [String]) ?? []).joined(separator: "\n") }

    func testPassingModelReportsLatencyAndStatistics() throws {
        let (outcome, json) = try smoke(
            "identity_fp32", source: packageRoot.appendingPathComponent("samples/python/identity_fp32"))
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        XCTAssertEqual(json["passed"] as? Bool, true)
        let output = (json["outputs"] as? [[String: Any]])?.first
        XCTAssertEqual(output?["mismatches"] as? Int, 0)
        XCTAssertEqual(output?["shape"] as? [Int], [1, 4])
        let latency = json["latency"] as? [String: Any]
        XCTAssertEqual(latency?["requests"] as? Int, 20)
        XCTAssertEqual(latency?["server_inference_count"] as? Int, 22)  // 1 check + 1 warm-up + 20 timed
        XCTAssertGreaterThan((latency?["throughput"] as? Double) ?? 0, 0)
    }

    func testWrongShapeIsReported() throws {
        let (outcome, json) = try smoke("wrong_shape")
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(failures(json).contains("OUTPUT0: shape [1, 8], but the config says [1, 4]"), failures(json))
    }

    func testWrongTypeIsReported() throws {
        let (outcome, json) = try smoke("wrong_type")
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(failures(json).contains("OUTPUT0: type TYPE_FP64, but the config says TYPE_FP32"), failures(json))
    }

    func testNaNIsReportedUnlessAllowed() throws {
        let (outcome, json) = try smoke("nan_output")
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(failures(json).contains("OUTPUT0: 1 NaN or Inf value(s)"), failures(json))
    }

    func testValuesOffTheExpectedTensorsAreCounted() throws {
        let (outcome, json) = try smoke("off_values")
        XCTAssertEqual(outcome.status, 1)
        XCTAssertTrue(
            failures(json).contains("4 of 4 values differ from OUTPUT_0.npy beyond rtol 0.001, atol 0.001"), failures(json))
        let (loose, _) = try smoke("off_values", extra: ["--rtol", "0.02"])
        XCTAssertEqual(loose.status, 0, loose.stdout)
    }

    func testLoadFailureSurfacesTritonsReason() throws {
        let (outcome, json) = try smoke("load_failure")
        XCTAssertEqual(outcome.status, 1)
        XCTAssertEqual(json["loaded"] as? Bool, false)
        XCTAssertTrue(
            failures(json).contains(
                "model input 'INPUT0' dimension must be integer >= 1, or -1 to indicate a variable-size dimension"),
            failures(json))
    }

    func testServerDyingMidRunIsReported() throws {
        let (outcome, json) = try smoke("crash_server")
        XCTAssertEqual(outcome.status, 1, outcome.stdout + outcome.stderr)
        XCTAssertTrue(failures(json).contains("tritonserver exited during the run"), failures(json))
    }

    func testJUnitOutputAndGPURequirement() throws {
        let (repository, _, _) = try setUp(model: "m", source: packageRoot.appendingPathComponent("samples/python/identity_fp32"))
        let config = repository.appendingPathComponent("m/config.pbtxt")
        let text = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "KIND_CPU", with: "KIND_GPU")
        try text.write(to: config, atomically: true, encoding: .utf8)
        guard GPUs.names().isEmpty else { return }  // the rest is about machines without a GPU
        let refused = try tritonpack("smoke", repository.path, "--model", "m")
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("pass --cpu"), refused.stderr)
        let before = snapshot(repository)
        let ran = try tritonpack("smoke", repository.path, "--model", "m", "--cpu", "--requests", "5", "--format", "junit")
        XCTAssertEqual(ran.status, 0, ran.stdout + ran.stderr)
        XCTAssertTrue(
            ran.stdout.contains("<testsuite name=\"tritonpack smoke m\" tests=\"3\" failures=\"0\" time=\""), ran.stdout)
        let times = ran.stdout.components(separatedBy: " time=\"").dropFirst().compactMap { Double($0.prefix { $0 != "\"" }) }
        XCTAssertEqual(times.count, 4, "the suite and its three cases have a time: \(ran.stdout)")
        XCTAssertGreaterThan(times[1], 0, "loading took time: \(ran.stdout)")
        XCTAssertEqual(snapshot(repository), before)
    }
}
