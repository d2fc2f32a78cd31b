import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// `pack --runtime oneflow-python` served by the project's tritonserver 2.51 run as a stock server
/// would run: `--model-repository` plus ports, nothing of tritonpack in between, a Python-backend
/// stub for Python 3.10 as the backend's own (as in an NGC 24.xx container), and a server whose
/// own Python has no OneFlow. The environment comes from the model folder (packed there) or from
/// a path named with `--execution-env`. NVIDIA's tritonclient (not tritonpack) checks every answer.
final class OneFlowPythonServingTests: XCTestCase {
    static let samples = [
        "tiny_mlp", "tiny_mlp_b8", "multi_io", "three_out", "nested_outputs", "integer_outputs", "affine_fp64",
        "batchnorm_cnn", "fast_neural_style",
    ]

    override func setUpWithError() throws { try requireOneFlowPython() }

    var venvPython: URL { packageRoot.appendingPathComponent(".venv/bin/python") }

    func signature(_ sample: String) throws -> (batch: Int, rows: Int) {
        let data = try Data(contentsOf: packageRoot.appendingPathComponent("samples/oneflow/\(sample)/signature.json"))
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let tensors = ((json?["inputs"] as? [[Any]]) ?? []) + ((json?["outputs"] as? [[Any]]) ?? [])
        // tritonpack batches (max_batch_size > 0) when every tensor shares its first dimension and has another.
        let shapes = tensors.compactMap { $0.first as? [Int] }
        let firsts = Set(shapes.compactMap(\.first))
        let batches = shapes.count == tensors.count && firsts.count == 1 && shapes.allSatisfy { $0.count >= 2 }
        return batches ? (firsts.first!, firsts.first!) : (0, 0)
    }

    func pack(_ sample: String, into repository: URL, _ extra: [String]) throws {
        var options = ["--runtime", "oneflow-python", "--instance-group", "cpu:2", "--link", "--no-sync"]
        if try signature(sample).batch > 1 { options += ["--dynamic-batching", "--max-queue-delay-us", "5000"] }
        let outcome = try runProcess(
            tritonpackExecutable,
            ["pack", packageRoot.appendingPathComponent("samples/oneflow/\(sample)/model").path, "--repo", repository.path]
                + options + extra)
        XCTAssertEqual(outcome.status, 0, "\(sample): \(outcome.stdout)\(outcome.stderr)")
    }

    /// NVIDIA's client, 8 threads, every answer compared with the golden outputs.
    func assertGoldenAnswers(
        _ server: TritonProcess, _ sample: String, requests: Int, file: StaticString = #filePath, line: UInt = #line
    )
        throws
    {
        guard let port = server.server.httpPort() else { return XCTFail("no HTTP port", file: file, line: line) }
        var arguments = [
            packageRoot.appendingPathComponent("scripts/golden-client.py").path, "127.0.0.1:\(port)", sample,
            packageRoot.appendingPathComponent("samples/oneflow/\(sample)/golden").path, "--concurrency", "8",
            "--requests", String(requests),
        ]
        if try signature(sample).batch > 1 { arguments.append("--split-rows") }
        let outcome = try runProcess(venvPython, arguments)
        XCTAssertEqual(outcome.status, 0, "\(sample): \(outcome.stdout)\(outcome.stderr)", file: file, line: line)
        let json = (try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]) ?? [:]
        XCTAssertEqual(json["requests"] as? Int, requests, sample, file: file, line: line)
        XCTAssertEqual(json["failed"] as? Int, 0, sample, file: file, line: line)
        XCTAssertEqual(json["mismatched"] as? Int, 0, sample, file: file, line: line)
    }

    func testEverySampleServesGoldenAnswersOnAStockServerAndMovesWithItsEnvironment() throws {
        let work = try temporaryDirectory(self)
        let backends = try stockBackends(in: work)
        let repository = work.appendingPathComponent("repository")
        // One model carries its environment in its folder; the others name the packed archive where
        // the servers have it (here: tritonpack's home), which the backend extracts once for all.
        let python = try OneFlowPython.locate(explicit: nil)
        let archive = try OneFlowEnvironmentArchive.identify(python)
        _ = try archive.build(with: python)
        for sample in Self.samples {
            try pack(sample, into: repository, sample == "multi_io" ? [] : ["--execution-env", archive.url.path])
        }
        let carried = repository.appendingPathComponent("multi_io")
        XCTAssertTrue(POSIXFiles.isRegularFile(carried.appendingPathComponent(archive.fileName).path))
        let config = try String(contentsOf: carried.appendingPathComponent("config.pbtxt"), encoding: .utf8)
        XCTAssertTrue(config.contains("backend: \"python\""), config)
        XCTAssertTrue(config.contains("$$TRITON_MODEL_DIRECTORY/\(archive.fileName)"), config)
        // Nothing in the self-contained model names a folder of the packing machine.
        for path in [
            "config.pbtxt", "1/model.py", "1/oneflow_runner.py", "1/\(Manifest.fileName)",
        ] {
            let text = try String(contentsOf: carried.appendingPathComponent(path), encoding: .utf8)
            for machinePath in [work.path, TritonPackHome.url.path, packageRoot.path, NSHomeDirectory()] {
                XCTAssertFalse(text.contains(machinePath), "\(path) names \(machinePath)")
            }
        }
        // The server's own Python has no OneFlow.
        let own = try runProcess(venvPython, ["-c", "import importlib.util; print(importlib.util.find_spec('oneflow'))"])
        XCTAssertEqual(own.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "None")

        let server = try stockServer(
            repository, backends: backends, log: work.appendingPathComponent("server.log"), models: Self.samples)
        for sample in Self.samples {
            try assertGoldenAnswers(server, sample, requests: sample == "fast_neural_style" ? 8 : 64)
        }
        let statistics = try server.get("/v2/models/multi_io/stats")
        server.stop()
        // Several requests executed as one batch: the dynamic batcher stacked the clients' rows.
        XCTAssertTrue(statistics.1.contains("\"batch_size\":2"), statistics.1)

        // Moved to another folder, the self-contained model still serves.
        let moved = work.appendingPathComponent("elsewhere/repository")
        try FileManager.default.createDirectory(at: moved.deletingLastPathComponent(), withIntermediateDirectories: true)
        let onlyCarried = work.appendingPathComponent("carried")
        try FileManager.default.createDirectory(at: onlyCarried, withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: carried, to: onlyCarried.appendingPathComponent("multi_io"))
        try FileManager.default.moveItem(at: onlyCarried, to: moved)
        let again = try stockServer(
            moved, backends: backends, log: work.appendingPathComponent("moved.log"), models: ["multi_io"])
        defer { again.stop() }
        try assertGoldenAnswers(again, "multi_io", requests: 16)
    }

    /// The environment is a file of the model folder: promote carries it, once, into a bucket and
    /// back out, and every store's `versions --verify` and `lint` accept the model.
    func testPromoteCarriesTheEnvironmentThroughBothStores() async throws {
        let work = try temporaryDirectory(self)
        let staging = work.appendingPathComponent("staging")
        try pack("tiny_mlp", into: staging, [])
        let python = try OneFlowPython.locate(explicit: nil)
        let archive = try OneFlowEnvironmentArchive.identify(python)
        let size = try XCTUnwrap(POSIXFiles.fileSize(archive.url.path))

        let s3 = try await S3TestServer.shared()
        let bucket = try await s3.makeBucket("oneflow-python")
        let url = s3.url(bucket: bucket, prefix: "repo")
        let up = try await tritonpackS3(s3, ["promote", "tiny_mlp", "--from", staging.path, "--to", url])
        XCTAssertEqual(up.status, 0, up.stdout + up.stderr)
        let keys = try await allKeys(s3, bucket: bucket)
        XCTAssertTrue(keys.contains("repo/tiny_mlp/\(archive.fileName)"), "\(keys)")
        let versions = try await tritonpackS3(s3, ["versions", "\(url)/tiny_mlp", "--verify"])
        XCTAssertEqual(versions.status, 0, versions.stdout + versions.stderr)
        XCTAssertTrue(versions.stdout.contains("verified"), versions.stdout)

        let production = work.appendingPathComponent("production")
        try FileManager.default.createDirectory(at: production, withIntermediateDirectories: true)
        let down = try await tritonpackS3(s3, ["promote", "tiny_mlp", "--from", url, "--to", production.path])
        XCTAssertEqual(down.status, 0, down.stdout + down.stderr)
        let carried = production.appendingPathComponent("tiny_mlp/\(archive.fileName)")
        XCTAssertEqual(POSIXFiles.fileSize(carried.path), size)
        let manifest = try Manifest.read(from: production.appendingPathComponent("tiny_mlp/1"))
        XCTAssertEqual(manifest.environment?.path, archive.fileName)
        XCTAssertEqual(manifest.environment?.size, size)
        let lint = try tritonpack("lint", production.path)
        XCTAssertEqual(lint.status, 0, lint.stdout + lint.stderr)
        XCTAssertTrue(lint.stdout.contains("oneflow-python-environment"), lint.stdout)
        let verify = try tritonpack("versions", production.appendingPathComponent("tiny_mlp").path, "--verify")
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
    }
}
