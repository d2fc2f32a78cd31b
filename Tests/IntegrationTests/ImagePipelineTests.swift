import Foundation
import XCTest

@testable import TritonPackKit

/// `pack --pipeline image` served by the project's tritonserver 2.51 as a stock server runs it: a
/// JPEG photo in, a PNG at the photo's size out, compared with the pipeline's steps and the model
/// computed directly (runtime/pipeline and OneFlow's runtime, scripts/pipeline-check.py).
final class ImagePipelineTests: XCTestCase {
    override func setUpWithError() throws { try requireOneFlowPython() }

    var oneflowPython: URL { get throws { try requireOneFlowPython().executable } }
    /// The trained style network (the demo's); the random-weight graph where it is missing.
    var styleSample: String {
        POSIXFiles.isDirectory(sample("style_transfer").path) ? "style_transfer" : "fast_neural_style"
    }

    func packPipeline(_ sample: String, name: String, into repository: URL, _ extra: [String] = []) throws -> [String: Any] {
        let outcome = try runProcess(
            tritonpackExecutable,
            [
                "pack", packageRoot.appendingPathComponent("samples/oneflow/\(sample)/model").path, "--repo", repository.path,
                "--name", name, "--runtime", "oneflow-python", "--instance-group", "cpu:1", "--pipeline", "image", "--link",
                "--no-sync", "--format", "json",
            ] + extra)
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        return (try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    func assertLintFindsNothing(_ repository: URL, backends: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let lint = try runProcess(
            tritonpackExecutable, ["lint", repository.path, "--backend-directory", backends.path, "--format", "json"])
        XCTAssertEqual(lint.status, 0, lint.stdout + lint.stderr, file: file, line: line)
        let json = (try? JSONSerialization.jsonObject(with: Data(lint.stdout.utf8)) as? [String: Any]) ?? [:]
        XCTAssertEqual(
            json["summary"] as? [String: Int], ["error": 0, "warning": 0, "info": 0], lint.stdout, file: file, line: line)
    }

    func testStylePipelineReturnsThePhotoAtItsSizeAsTheStepsComputedDirectly() throws {
        let work = try temporaryDirectory(self)
        let backends = try stockBackends(in: work)
        let repository = work.appendingPathComponent("repository")
        let json = try packPipeline(styleSample, name: "style", into: repository)
        let pipeline = json["pipeline"] as? [String: Any]
        XCTAssertEqual(pipeline?["ensemble"] as? String, "style_image")
        XCTAssertEqual(pipeline?["version"] as? Int, 1)
        XCTAssertEqual(
            (pipeline?["models"] as? [[String: Any]])?.compactMap { $0["model"] as? String },
            ["style_preprocess", "style", "style_postprocess", "style_image"])
        // The ensemble pins version 1 of each step; the environment is the model's own archive, once.
        let ensemble = try String(contentsOf: repository.appendingPathComponent("style_image/config.pbtxt"), encoding: .utf8)
        XCTAssertEqual(ensemble.components(separatedBy: "model_version: 1").count - 1, 3, ensemble)
        let preprocess = try String(
            contentsOf: repository.appendingPathComponent("style_preprocess/config.pbtxt"), encoding: .utf8)
        XCTAssertTrue(preprocess.contains("$$TRITON_MODEL_DIRECTORY/../style/oneflow-env-"), preprocess)
        XCTAssertFalse(
            try POSIXFiles.entries(of: repository.appendingPathComponent("style_preprocess").path).contains {
                $0.hasSuffix(".tar.gz")
            })
        try assertLintFindsNothing(repository, backends: backends)

        let server = try stockServer(
            repository, backends: backends, log: work.appendingPathComponent("server.log"),
            models: ["style_preprocess", "style", "style_postprocess", "style_image"])
        defer { server.stop() }
        guard let port = server.server.httpPort() else { return XCTFail("no HTTP port") }
        let photo = packageRoot.appendingPathComponent("samples/images/coffee.jpg")
        for format in ["png", "jpeg"] {
            let check = try runProcess(
                try oneflowPython,
                [
                    packageRoot.appendingPathComponent("scripts/pipeline-check.py").path, "127.0.0.1:\(port)", repository.path,
                    "style", photo.path, "--format", format, "--out", work.appendingPathComponent("answers").path,
                ])
            XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
            let report =
                (try? JSONSerialization.jsonObject(with: Data((check.stdout.split(separator: "\n").last ?? "").utf8))
                    as? [String: Any]) ?? [:]
            XCTAssertEqual(report["photo"] as? [Int], [600, 400], check.stdout)
            XCTAssertEqual(report["served"] as? [Int], [600, 400], check.stdout)
            XCTAssertEqual(report["format"] as? String, format.uppercased(), check.stdout)
            // A lossy JPEG of the same pixels differs by more than 2 levels in places: the check is the PNG's.
            if format == "png" {
                XCTAssertGreaterThanOrEqual(report["within_2_levels"] as? Double ?? 0, 0.99, check.stdout)
            }
        }
        // Bytes that are no image answer that request with what is wrong.
        let bad = try runProcess(
            try oneflowPython,
            [
                "-c",
                "import sys; sys.path.insert(0, sys.argv[1]); import triton_image_request as t\ntry:\n    t.infer_image(sys.argv[2], 'style_image', b'GIF89a not a photo')\nexcept t.PipelineRequestError as e:\n    print(e)",
                packageRoot.appendingPathComponent("runtime/pipeline").path, "127.0.0.1:\(port)",
            ])
        XCTAssertTrue(bad.stdout.contains("IMAGE is not a JPEG, PNG or WebP image"), bad.stdout + bad.stderr)
    }

    /// The Python steps' own tests, run without a server in the environment they run in on one.
    func testPipelineStepsPassTheirTestsWithoutAServer() throws {
        let outcome = try runProcess(
            try oneflowPython, [packageRoot.appendingPathComponent("runtime/pipeline/test_image_pipeline.py").path])
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("passed"), outcome.stdout)
    }
}
