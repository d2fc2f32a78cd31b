import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// `pack --runtime onnx`: every OneFlow sample converted with OneFlow's converter (and the
/// project's handlers and corrections), verified against OneFlow's runtime before anything is
/// written, then checked independently against the golden outputs OneFlow returned when the
/// graph was saved, and served by smoke.
final class OneFlowONNXTests: XCTestCase {
    static let samples = [
        "tiny_mlp", "tiny_mlp_b8", "multi_io", "three_out", "nested_outputs", "integer_outputs", "affine_fp64",
        "batchnorm_cnn", "fast_neural_style",
    ]

    override func setUpWithError() throws { try requireOneFlowPython() }

    func golden(_ sample: String) -> URL { packageRoot.appendingPathComponent("samples/oneflow/\(sample)/golden") }
    func graph(_ sample: String) -> URL { packageRoot.appendingPathComponent("samples/oneflow/\(sample)/model") }

    func pack(_ sample: String, into repository: URL, _ extra: [String] = []) throws -> ProcessOutcome {
        try runProcess(
            tritonpackExecutable,
            [
                "pack", graph(sample).path, "--repo", repository.path, "--runtime", "onnx", "--golden", golden(sample).path,
                "--no-sync",
            ]
                + extra)
    }

    func testEverySampleConvertsAndMatchesItsGoldenOutputs() throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("repository")
        for sample in Self.samples {
            let outcome = try pack(sample, into: repository)
            XCTAssertEqual(outcome.status, 0, "\(sample): \(outcome.stdout)\(outcome.stderr)")
            let version = repository.appendingPathComponent("\(sample)/1")
            let check = try runProcess(
                packageRoot.appendingPathComponent(".venv/bin/python"),
                [
                    packageRoot.appendingPathComponent("scripts/onnx-golden-check.py").path,
                    version.appendingPathComponent("model.onnx").path, golden(sample).path,
                ])
            XCTAssertEqual(check.status, 0, "\(sample): \(check.stdout)\(check.stderr)")
            let config = try String(contentsOf: repository.appendingPathComponent("\(sample)/config.pbtxt"), encoding: .utf8)
            XCTAssertTrue(config.contains("platform: \"onnxruntime_onnx\""), config)
            // Provenance: the graph's digest, the converter's versions, opset and IR, the verification.
            let manifest = try Manifest.read(from: version)
            XCTAssertEqual(manifest.source.kind, "oneflow")
            let conversion = try XCTUnwrap(manifest.conversion, sample)
            XCTAssertEqual(conversion.versions["oneflow_onnx"], "0.6.2")
            XCTAssertEqual(conversion.opset, 13)
            XCTAssertEqual(conversion.irVersion, 8)
            XCTAssertEqual(conversion.graphSha256.count, 64)
            XCTAssertTrue(conversion.inputs.allSatisfy { $0.source == "golden" }, sample)
            XCTAssertEqual(conversion.outputs.count, manifest.signature.outputs.count, sample)
            XCTAssertLessThanOrEqual(conversion.maxError, 1e-5 * 2, sample)
        }
        let lint = try tritonpack("lint", repository.path)
        XCTAssertEqual(lint.status, 0, lint.stdout + lint.stderr)
    }

    /// The converter's own opset-13 ReduceSum (its axes dropped: every axis reduced) passes the ONNX
    /// checker and answers wrong; verification refuses it, naming the output, and writes nothing.
    func testAKnownWrongConversionIsRefusedNamingTheOutput() throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("repository")
        let outcome = try pack(
            "fast_neural_style", into: repository, ["--disable-converter-fix", "reduce_sum_axes", "--format", "json"])
        XCTAssertEqual(outcome.status, 1, outcome.stdout + outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("mismatch"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("OUTPUT_0"), outcome.stdout)
        XCTAssertFalse(POSIXFiles.exists(repository.path), "a refused conversion wrote the repository")
    }

    /// An op the converter has no handler for is refused by name, pointing at --runtime oneflow-python.
    func testAnUnsupportedOpIsRefusedByName() throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("repository")
        let outcome = try pack("fast_neural_style", into: repository, ["--disable-converter-fix", "reflection_pad2d"])
        XCTAssertEqual(outcome.status, 1, outcome.stdout + outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("reflection_pad2d"), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains("--runtime oneflow-python"), outcome.stderr)
        XCTAssertFalse(POSIXFiles.exists(repository.path))
    }

    /// smoke executes the converted models on this machine: the wheel's server has no onnxruntime
    /// backend, so onnxruntime's Python package runs them in the Python backend, and they match.
    func testSmokeServesConvertedModels() throws {
        let repository = try temporaryDirectory(self).appendingPathComponent("repository")
        for sample in ["multi_io", "three_out", "integer_outputs", "batchnorm_cnn"] {
            XCTAssertEqual(try pack(sample, into: repository).status, 0, sample)
            let outcome = try runProcess(
                tritonpackExecutable,
                [
                    "smoke", repository.path, "--model", sample, "--inputs", golden(sample).path, "--expected",
                    golden(sample).path, "--requests", "20", "--format", "json",
                ])
            XCTAssertEqual(outcome.status, 0, "\(sample): \(outcome.stdout)\(outcome.stderr)")
            let json = (try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]) ?? [:]
            XCTAssertEqual((json["runtime"] as? [String: Any])?["name"] as? String, "onnxruntime-python", sample)
            for output in (json["outputs"] as? [[String: Any]]) ?? [] {
                XCTAssertEqual(output["mismatches"] as? Int, 0, "\(sample) \(output["name"] ?? "?")")
            }
        }
    }
}
