import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// `tritonpack tune` against the project's tritonserver on models whose best settings are known:
/// a Python model with a fixed cost per call (dynamic batching wins), the same model under a tight
/// latency budget (the budget limits the batch), and OneFlow's multi-output graph through OneFlow's
/// runtime (two instances beat one on two cores).
final class TuneServerTests: XCTestCase {
    /// A copy of Tests/Fixtures/python/batch_cost with its costs in milliseconds, and its inputs and the
    /// expected answer (twice the input) or, with `wrong`, a wrong one.
    func batchCost(perCall: Int = 20, perRow: Int = 1, wrong: Bool = false) throws -> (
        repository: URL, inputs: URL, expected: URL
    ) {
        let root = try temporaryDirectory(self)
        let repository = root.appendingPathComponent("repository")
        try FileManager.default.createDirectory(at: repository, withIntermediateDirectories: true)
        let model = repository.appendingPathComponent("batch_cost")
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("Tests/Fixtures/python/batch_cost"), to: model)
        let config = model.appendingPathComponent("config.pbtxt")
        let text = try String(contentsOf: config, encoding: .utf8)
            .replacingOccurrences(of: "string_value: \"20\"", with: "string_value: \"\(perCall)\"")
            .replacingOccurrences(of: "string_value: \"1\"", with: "string_value: \"\(perRow)\"")
        try text.write(to: config, atomically: true, encoding: .utf8)
        let inputs = root.appendingPathComponent("inputs")
        let expected = root.appendingPathComponent("expected")
        for folder in [inputs, expected] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        func tensor(_ values: [Float]) -> TensorData {
            TensorData(dataType: .typeFp32, shape: [1, 4], bytes: values.withUnsafeBytes { Data($0) })
        }
        try NPY.write(tensor([1, 2, 3, 4]), to: inputs.appendingPathComponent("INPUT0.npy"))
        try NPY.write(tensor(wrong ? [1, 2, 3, 4] : [2, 4, 6, 8]), to: expected.appendingPathComponent("OUTPUT0.npy"))
        return (repository, inputs, expected)
    }

    func tune(_ arguments: [String]) throws -> (status: Int32, report: [String: Any], stderr: String) {
        let outcome = try runProcess(tritonpackExecutable, ["tune"] + arguments + ["--format", "json", "--timeout", "120"])
        try assertMatchesSchema(outcome, definition: "tune", arguments)
        let report = (try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]) ?? [:]
        return (outcome.status, report, outcome.stdout + outcome.stderr)
    }

    func trials(_ report: [String: Any]) -> [[String: Any]] { report["trials"] as? [[String: Any]] ?? [] }

    func assertEveryTrialLintedAndLoaded(_ report: [String: Any], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(trials(report).isEmpty, file: file, line: line)
        for trial in trials(report) {
            XCTAssertEqual(trial["linted"] as? Bool, true, "\(trial)", file: file, line: line)
            XCTAssertEqual(trial["loaded"] as? Bool, true, "\(trial)", file: file, line: line)
        }
    }

    func testDynamicBatchingWinsForAFixedCostPerCall() throws {
        let (repository, inputs, expected) = try batchCost()
        let html = try temporaryDirectory(self).appendingPathComponent("tune.html")
        let (status, report, output) = try tune([
            repository.path, "--model", "batch_cost", "--inputs", inputs.path, "--expected", expected.path,
            "--instance-count", "1", "--max-batch-size", "8", "--queue-delay-us", "0", "--concurrency", "8",
            "--window-ms", "500", "--report", html.path,
        ])
        XCTAssertEqual(status, 0, output)
        assertEveryTrialLintedAndLoaded(report)
        XCTAssertEqual(trials(report).count, 2, output)
        XCTAssertTrue(trials(report).allSatisfy { $0["correct"] as? Bool == true }, output)
        let best = try XCTUnwrap(report["best"] as? [String: Any], output)
        XCTAssertEqual(best["dynamic_batching"] as? Bool, true, output)
        let unbatched = try XCTUnwrap(trials(report).first { $0["dynamic_batching"] as? Bool == false })
        // 8 requests share one 28 ms call instead of taking 21 ms each.
        XCTAssertGreaterThan(best["throughput"] as? Double ?? 0, 2 * (unbatched["throughput"] as? Double ?? .infinity), output)
        let page = try String(contentsOf: html, encoding: .utf8)
        XCTAssertTrue(page.contains("<svg"), "the chart is inline SVG")
        XCTAssertFalse(page.contains("<script"), "no JavaScript")
        XCTAssertFalse(page.contains("http://") && page.contains("src=\"http"), "nothing fetched")
        XCTAssertTrue(page.contains("class=\"add\">+ dynamic_batching"), "the proposed config is a diff:\n\(page)")
        XCTAssertTrue(page.contains("# A model whose cost is mostly per call"), "the user's comments are kept")
    }

    func testATightLatencyBudgetLimitsTheBatch() throws {
        // 20 ms per call and 10 ms per row on one instance with no queue delay: the requests in
        // flight split into two alternating batches, so 2 in flight run batches of 1 (about 60 ms
        // a request) and 8 run batches of 4 (about 120 ms): more throughput, over a 90 ms budget.
        let (repository, inputs, expected) = try batchCost(perCall: 20, perRow: 10)
        let (status, report, output) = try tune([
            repository.path, "--model", "batch_cost", "--inputs", inputs.path, "--expected", expected.path,
            "--instance-count", "1", "--max-batch-size", "8", "--dynamic-batching", "on", "--queue-delay-us", "0",
            "--concurrency", "2,8", "--search", "brute", "--latency-budget-ms", "90", "--window-ms", "600",
        ])
        XCTAssertEqual(status, 0, output)
        assertEveryTrialLintedAndLoaded(report)
        let best = try XCTUnwrap(report["best"] as? [String: Any], output)
        XCTAssertLessThanOrEqual(best["p99_milliseconds"] as? Double ?? .infinity, 90, output)
        XCTAssertEqual(best["concurrency"] as? Int, 2, output)
        let eight = try XCTUnwrap(trials(report).first { $0["concurrency"] as? Int == 8 })
        XCTAssertEqual(eight["within_budget"] as? Bool, false, output)
        XCTAssertGreaterThan(
            eight["throughput"] as? Double ?? 0, best["throughput"] as? Double ?? .infinity, "the budget cost throughput")
    }

    func testWrongAnswersAreNeverProposed() throws {
        let (repository, inputs, expected) = try batchCost(wrong: true)
        let (status, report, output) = try tune([
            repository.path, "--model", "batch_cost", "--inputs", inputs.path, "--expected", expected.path,
            "--instance-count", "1", "--max-batch-size", "8", "--concurrency", "2", "--window-ms", "300", "--write",
        ])
        XCTAssertEqual(status, 1, output)
        XCTAssertNil(report["best"], output)
        XCTAssertFalse(trials(report).isEmpty, output)
        XCTAssertTrue(trials(report).allSatisfy { $0["correct"] as? Bool == false && $0["throughput"] as? Double == 0 }, output)
        let config = try String(contentsOf: repository.appendingPathComponent("batch_cost/config.pbtxt"), encoding: .utf8)
        XCTAssertFalse(config.contains("dynamic_batching"), "nothing written")
    }

    func testTwoInstancesOfOneFlowsRuntimeWinOnTwoCoresAndWriteIsOneChange() throws {
        _ = try requireOneFlowPython()
        let repository = try temporaryDirectory(self).appendingPathComponent("repository")
        let sample = packageRoot.appendingPathComponent("samples/oneflow/multi_io")
        let packed = try runProcess(
            tritonpackExecutable,
            ["pack", sample.appendingPathComponent("model").path, "--repo", repository.path, "--name", "multi_io"])
        XCTAssertEqual(packed.status, 0, packed.stdout + packed.stderr)
        let golden = sample.appendingPathComponent("golden")
        let (status, report, output) = try tune([
            repository.path, "--model", "multi_io", "--inputs", golden.path, "--expected", golden.path,
            "--instance-count", "1,2", "--dynamic-batching", "off", "--concurrency", "4", "--window-ms", "1000", "--write",
        ])
        XCTAssertEqual(status, 0, output)
        assertEveryTrialLintedAndLoaded(report)
        XCTAssertTrue(trials(report).allSatisfy { $0["correct"] as? Bool == true }, output)
        let best = try XCTUnwrap(report["best"] as? [String: Any], output)
        XCTAssertEqual(best["instance_count"] as? Int, 2, output)
        XCTAssertEqual(report["written"] as? Bool, true, output)
        let written = try Inference_ModelConfig.parse(
            String(contentsOf: repository.appendingPathComponent("multi_io/config.pbtxt"), encoding: .utf8)
        ).message
        XCTAssertEqual(written.instanceGroup.map(\.count), [2])
        let history = try String(contentsOf: repository.appendingPathComponent("tritonpack-history.jsonl"), encoding: .utf8)
        XCTAssertTrue(history.contains("\"tune\""), history)
        let lint = try runProcess(tritonpackExecutable, ["lint", repository.path])
        XCTAssertEqual(lint.status, 0, lint.stdout + lint.stderr)
    }

    func testInterruptStopsTheServerAndStillWritesTheReport() throws {
        let (repository, _, _) = try batchCost()
        let html = try temporaryDirectory(self).appendingPathComponent("tune.html")
        let process = try SpawnedProcess(
            tritonpackExecutable,
            ["tune", repository.path, "--model", "batch_cost", "--search", "brute", "--window-ms", "500", "--report", html.path],
            environment: ProcessInfo.processInfo.environment,
            output: html.deletingLastPathComponent().appendingPathComponent("out"))
        // Long enough for the server to start and a trial or two to end.
        Thread.sleep(forTimeInterval: 15)
        process.signal(SIGINT)
        XCTAssertEqual(process.waitBlocking(), 130)
        let page = try String(contentsOf: html, encoding: .utf8)
        XCTAssertTrue(page.contains("interrupted"), page)
        XCTAssertTrue(page.contains("<circle"), "the trials measured before the interrupt are on the chart")
        let servers = try runProcess(URL(fileURLWithPath: "/usr/bin/pgrep"), ["-f", repository.path])
        XCTAssertEqual(servers.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "", "no tritonserver left running")
    }

    /// A repository in a bucket: tune serves a local copy and --write publishes one config change
    /// to the bucket, the rest of the config as it was.
    func testWriteToABucketIsOneConfigChange() async throws {
        let s3 = try await S3TestServer.shared()
        let bucket = try await s3.makeBucket("tune")
        let url = s3.url(bucket: bucket, prefix: "repo")
        let (local, inputs, expected) = try batchCost()
        // A bucket serves complete versions only: with its manifest, as pack and promote write it.
        let version = local.appendingPathComponent("batch_cost/1")
        try hashedManifest(of: version, model: "batch_cost", version: 1).encoded()
            .write(to: version.appendingPathComponent(Manifest.fileName))
        let (store, _) = try s3Repository(s3, url)
        try await store.placeFolder(local.appendingPathComponent("batch_cost"), as: "batch_cost")
        let outcome = try await tritonpackS3(
            s3,
            [
                "tune", url, "--model", "batch_cost", "--inputs", inputs.path, "--expected", expected.path,
                "--instance-count", "2", "--max-batch-size", "8", "--dynamic-batching", "on", "--queue-delay-us", "0",
                "--concurrency", "8", "--window-ms", "300", "--write", "--format", "json",
            ])
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        let config =
            try await s3.client(url).get("repo/batch_cost/config.pbtxt").map { String(decoding: $0, as: UTF8.self) } ?? ""
        XCTAssertTrue(config.contains("# A model whose cost is mostly per call"), config)
        let parsed = try Inference_ModelConfig.parse(config).message
        XCTAssertEqual(parsed.instanceGroup.map(\.count), [2])
        XCTAssertTrue(parsed.usesDynamicBatching, config)
        XCTAssertEqual(parsed.parameters["per_call_ms"]?.stringValue, "20")
    }

    /// A candidate that takes the server down (its model kills the server's process group when
    /// loaded with three instances): the trial says so, tune starts the server again and goes on.
    func testAServerThatExitsDuringATrialIsStartedAgain() throws {
        let (repository, inputs, expected) = try batchCost()
        let model = repository.appendingPathComponent("batch_cost/1/model.py")
        let source = try String(contentsOf: model, encoding: .utf8)
        try source.replacingOccurrences(
            of: "        parameters = json.loads(args[\"model_config\"]).get(\"parameters\", {})",
            with: """
                        config = json.loads(args["model_config"])
                        if config["instance_group"][0]["count"] == 3:
                            import os, signal
                            os.killpg(os.getpgid(0), signal.SIGKILL)
                        parameters = config.get("parameters", {})
                """
        ).write(to: model, atomically: true, encoding: .utf8)
        let (status, report, output) = try tune([
            repository.path, "--model", "batch_cost", "--inputs", inputs.path, "--expected", expected.path,
            "--instance-count", "3,1", "--dynamic-batching", "off", "--concurrency", "2", "--search", "brute",
            "--window-ms", "300",
        ])
        XCTAssertEqual(status, 0, output)
        let three = try XCTUnwrap(trials(report).first { $0["instance_count"] as? Int == 3 }, output)
        XCTAssertTrue(((three["problems"] as? [String]) ?? []).contains { $0.contains("tritonserver exited") }, output)
        let best = try XCTUnwrap(report["best"] as? [String: Any], output)
        XCTAssertEqual(best["instance_count"] as? Int, 1, output)
        XCTAssertTrue(((report["notes"] as? [String]) ?? []).contains { $0.contains("started again") }, output)
    }

    /// `--protocol grpc`: the checked and timed requests go over KServe v2 gRPC.
    func testTuneOverGRPC() throws {
        let (repository, inputs, expected) = try batchCost()
        let (status, report, output) = try tune([
            repository.path, "--model", "batch_cost", "--inputs", inputs.path, "--expected", expected.path,
            "--protocol", "grpc", "--instance-count", "1", "--max-batch-size", "8", "--queue-delay-us", "0",
            "--concurrency", "8", "--window-ms", "400",
        ])
        XCTAssertEqual(status, 0, output)
        assertEveryTrialLintedAndLoaded(report)
        let best = try XCTUnwrap(report["best"] as? [String: Any], output)
        XCTAssertEqual(best["dynamic_batching"] as? Bool, true, output)
        XCTAssertGreaterThan(best["throughput"] as? Double ?? 0, 100, output)
    }
}
