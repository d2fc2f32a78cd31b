import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// `tritonpack rollout` against two real tritonserver 2.51 in explicit mode on one repository, with
/// a client sending requests to both in a loop throughout (scripts/request-loop.py).
final class RolloutTests: XCTestCase {
    /// A Python model answering `INPUT_0 * factor`, the factor read from the version folder: v1 x1,
    /// v2 x2, v3 x30 while its golden data says x3 (a version whose answers fail the check).
    func makeRepository(_ root: URL) throws -> URL {
        let repository = root.appendingPathComponent("repository")
        let model = repository.appendingPathComponent("scaler")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try Data(
            """
            name: "scaler"
            backend: "python"
            max_batch_size: 8
            input [ { name: "INPUT_0" data_type: TYPE_FP32 dims: [ 4 ] } ]
            output [ { name: "OUTPUT_0" data_type: TYPE_FP32 dims: [ 4 ] } ]
            instance_group [ { count: 1 kind: KIND_CPU } ]
            version_policy { specific { versions: [ 1 ] } }

            """.utf8
        ).write(to: model.appendingPathComponent("config.pbtxt"))
        let code = """
            import os
            import numpy as np
            import triton_python_backend_utils as pb_utils


            class TritonPythonModel:
                def initialize(self, args):
                    folder = os.path.join(args["model_repository"], args["model_version"])
                    self.factor = float(open(os.path.join(folder, "factor.txt")).read())

                def execute(self, requests):
                    return [pb_utils.InferenceResponse([pb_utils.Tensor(
                        "OUTPUT_0", (pb_utils.get_input_tensor_by_name(r, "INPUT_0").as_numpy() * self.factor).astype(np.float32))])
                        for r in requests]

            """
        for (version, factor) in [(1, 1), (2, 2), (3, 30)] {
            let folder = model.appendingPathComponent("\(version)")
            try FileManager.default.createDirectory(
                at: folder.appendingPathComponent(Manifest.goldenFolder), withIntermediateDirectories: true)
            try Data(code.utf8).write(to: folder.appendingPathComponent("model.py"))
            try Data("\(factor)\n".utf8).write(to: folder.appendingPathComponent("factor.txt"))
            func tensor(_ values: [Float]) -> TensorData {
                TensorData(dataType: .typeFp32, shape: [2, 4], bytes: values.withUnsafeBufferPointer { Data(buffer: $0) })
            }
            let input = tensor((0..<8).map(Float.init))
            let output = tensor((0..<8).map { Float($0 * min(version, 3)) })
            try NPY.write(input, to: folder.appendingPathComponent("\(Manifest.goldenFolder)/INPUT_0.npy"))
            try NPY.write(output, to: folder.appendingPathComponent("\(Manifest.goldenFolder)/OUTPUT_0.npy"))
        }
        return repository
    }

    /// An explicit-mode server with its metrics endpoint on, serving the repository's config.
    func server(_ repository: URL, log: URL) throws -> (TritonProcess, String, String) {
        let metrics = freePort()
        let http = freePort()
        let process = try TritonProcess(
            launcher: tritonServerLauncher, repository: repository, log: log,
            mode: "explicit", autoComplete: true,
            extraArguments: ["--load-model", "scaler", "--allow-metrics", "true", "--metrics-port", String(metrics)],
            httpPort: http)
        try process.waitUntilReady(timeout: 120)
        try process.waitForModel("scaler", timeout: 120)
        return (process, "http://127.0.0.1:\(http)", "http://127.0.0.1:\(metrics)")
    }

    /// The request loop against `urls`, running until `stop` is called, which returns its counts.
    final class Traffic {
        let loop: SpawnedProcess
        let stopFile: URL
        let output: URL

        init(_ urls: [String], input: URL, work: URL) throws {
            stopFile = work.appendingPathComponent("stop-\(UUID().uuidString)")
            output = work.appendingPathComponent("loop-\(UUID().uuidString).json")
            loop = try SpawnedProcess(
                packageRoot.appendingPathComponent(".venv/bin/python"),
                [
                    packageRoot.appendingPathComponent("scripts/request-loop.py").path, "--model", "scaler", "--input",
                    input.path, "--stop-file", stopFile.path,
                ] + urls.flatMap { ["--url", $0] }, environment: ProcessInfo.processInfo.environment, output: output,
                errors: work.appendingPathComponent("loop-\(UUID().uuidString).log"))
            Thread.sleep(forTimeInterval: 1)
        }

        func stop() throws -> [String: Any] {
            FileManager.default.createFile(atPath: stopFile.path, contents: nil)
            _ = loop.waitBlocking()
            return (try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any]) ?? [:]
        }

        deinit {
            FileManager.default.createFile(atPath: stopFile.path, contents: nil)
            if loop.isRunning { _ = loop.waitBlocking() }
        }
    }

    /// Runs the request loop against `urls` while `body` runs; the loop's counts.
    func underTraffic(_ urls: [String], input: URL, work: URL, _ body: () throws -> Void) throws -> [String: Any] {
        let traffic = try Traffic(urls, input: input, work: work)
        try body()
        return try traffic.stop()
    }

    func rollout(_ arguments: [String]) throws -> (ProcessOutcome, [String: Any]) {
        let outcome = try runProcess(tritonpackExecutable, arguments + ["--format", "json"])
        return (outcome, (try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]) ?? [:])
    }

    func versions(_ process: TritonProcess) throws -> String {
        try process.get("/v2/models/scaler").1
    }

    func testRolloutRefusedRolloutAndRollbackAcrossTwoServersWithNoFailedRequest() throws {
        let work = try temporaryDirectory(self)
        let repository = try makeRepository(work)
        let (one, url1, metrics1) = try server(repository, log: work.appendingPathComponent("one.log"))
        defer { one.stop() }
        let (two, url2, metrics2) = try server(repository, log: work.appendingPathComponent("two.log"))
        defer { two.stop() }
        let fleet = ["--server", url1, "--metrics", metrics1, "--server", url2, "--metrics", metrics2]
        let input = repository.appendingPathComponent("scaler/1/\(Manifest.goldenFolder)/INPUT_0.npy")

        // v1 -> v2 on both.
        var report: [String: Any] = [:]
        var traffic = try underTraffic([url1, url2], input: input, work: work) {
            let (outcome, json) = try rollout(["rollout", "scaler", "--repo", repository.path, "--model-version", "2"] + fleet)
            XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
            report = json
        }
        XCTAssertEqual(traffic["failed"] as? Int, 0, "\(traffic)")
        XCTAssertGreaterThan(traffic["requests"] as? Int ?? 0, 50, "\(traffic)")
        XCTAssertEqual(report["repository_serves"] as? Bool, true)
        for process in [one, two] { XCTAssertTrue(try versions(process).contains(#""versions":["2"]"#)) }
        let index = try one.post("/v2/repository/index", json: "{}").1
        XCTAssertFalse(index.contains("candidate"), "the candidate was not removed: \(index)")
        XCTAssertFalse(POSIXFiles.exists(repository.appendingPathComponent("scaler.candidate-2").path))
        let config = try String(contentsOf: repository.appendingPathComponent("scaler/config.pbtxt"), encoding: .utf8)
        XCTAssertTrue(config.contains("versions: [ 2 ]"), config)

        // v3 answers wrong: refused on the first server, which keeps v2; the second is never touched.
        traffic = try underTraffic([url1, url2], input: input, work: work) {
            let (outcome, json) = try rollout(["rollout", "scaler", "--repo", repository.path, "--model-version", "3"] + fleet)
            XCTAssertEqual(outcome.status, 1, outcome.stdout + outcome.stderr)
            report = json
        }
        XCTAssertEqual(traffic["failed"] as? Int, 0, "\(traffic)")
        let servers = report["servers"] as? [[String: Any]] ?? []
        XCTAssertEqual(servers.map { $0["outcome"] as? String }, ["restored", "untouched"], "\(report)")
        let steps = (servers.first?["steps"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        XCTAssertEqual(steps, ["reach", "memory", "candidate"])
        let failure = (report["failure"] as? String) ?? ""
        XCTAssertTrue(failure.contains(url1) && failure.contains("candidate") && failure.contains("OUTPUT_0"), failure)
        for process in [one, two] { XCTAssertTrue(try versions(process).contains(#""versions":["2"]"#)) }
        XCTAssertTrue(
            try String(contentsOf: repository.appendingPathComponent("scaler/config.pbtxt"), encoding: .utf8).contains(
                "versions: [ 2 ]"))

        // Rollback to v1 through the same path.
        traffic = try underTraffic([url1, url2], input: input, work: work) {
            let (outcome, _) = try rollout(["rollback", repository.appendingPathComponent("scaler").path] + fleet)
            XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        }
        XCTAssertEqual(traffic["failed"] as? Int, 0, "\(traffic)")
        for process in [one, two] { XCTAssertTrue(try versions(process).contains(#""versions":["1"]"#)) }

        // A version too large for the memory the server reports is refused before any load.
        let large = repository.appendingPathComponent("scaler/4")
        try FileManager.default.copyItem(at: repository.appendingPathComponent("scaler/2"), to: large)
        let weights = large.appendingPathComponent("weights.bin")
        FileManager.default.createFile(atPath: weights.path, contents: nil)
        let handle = try FileHandle(forWritingTo: weights)
        try handle.truncate(atOffset: 1 << 40)  // sparse: 1 TiB reported, nothing written
        try handle.close()
        let (refused, json) = try rollout(["rollout", "scaler", "--repo", repository.path, "--model-version", "4"] + fleet)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(((json["failure"] as? String) ?? "").contains("free host memory"), "\(json)")
        XCTAssertFalse(try one.post("/v2/repository/index", json: "{}").1.contains(#""version":"4""#))

        // A server killed during a rollout: the rollout names it, the other keeps a consistent set.
        two.stop()
        let (killed, killedReport) = try rollout(
            ["rollout", "scaler", "--repo", repository.path, "--model-version", "2"] + fleet)
        XCTAssertNotEqual(killed.status, 0)
        XCTAssertTrue(((killedReport["failure"] as? String) ?? "").contains(url2), "\(killedReport)")
        XCTAssertTrue(try versions(one).contains(#""versions":["2"]"#))
    }

    /// `--protocol grpc`: the checked requests go to each server's gRPC endpoint (model control
    /// stays on HTTP); a version answering wrong over gRPC is refused, and a gRPC endpoint that
    /// does not answer fails the check and puts the server back.
    func testRolloutChecksOverGRPC() throws {
        let work = try temporaryDirectory(self)
        let repository = try makeRepository(work)
        let (grpcPort, unused) = (freePort(), freePort())
        let (metrics, http) = (freePort(), freePort())
        let process = try TritonProcess(
            launcher: tritonServerLauncher, repository: repository,
            log: work.appendingPathComponent("server.log"), mode: "explicit", autoComplete: true,
            extraArguments: [
                "--load-model", "scaler", "--allow-metrics", "true", "--metrics-port", String(metrics), "--allow-grpc", "true",
                "--grpc-address", "127.0.0.1", "--grpc-port", String(grpcPort),
            ],
            httpPort: http)
        defer { process.stop() }
        try process.waitUntilReady(timeout: 120)
        try process.waitForModel("scaler", timeout: 120)
        let server = ["--server", "http://127.0.0.1:\(http)", "--metrics", "http://127.0.0.1:\(metrics)", "--protocol", "grpc"]
        // The memory check reads the metrics, whose memory gauges are 0 until the server's first poll.
        for _ in 0..<60 {
            let text = try runProcess(
                URL(fileURLWithPath: "/usr/bin/env"), ["curl", "-s", "http://127.0.0.1:\(metrics)/metrics"])
            if let free = TritonControl.freeMemory(in: text.stdout).cpu, free > 0 { break }
            Thread.sleep(forTimeInterval: 0.5)
        }

        let (outcome, json) = try rollout(
            ["rollout", "scaler", "--repo", repository.path, "--model-version", "2", "--grpc-server", "127.0.0.1:\(grpcPort)"]
                + server)
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        XCTAssertEqual(json["repository_serves"] as? Bool, true)
        XCTAssertTrue(try versions(process).contains(#""versions":["2"]"#))

        let (refused, report) = try rollout(
            ["rollout", "scaler", "--repo", repository.path, "--model-version", "3", "--grpc-server", "127.0.0.1:\(grpcPort)"]
                + server)
        XCTAssertEqual(refused.status, 1, refused.stdout + refused.stderr)
        XCTAssertTrue(((report["failure"] as? String) ?? "").contains("OUTPUT_0"), "\(report)")
        XCTAssertTrue(try versions(process).contains(#""versions":["2"]"#))

        let (unreachable, unreachableReport) = try rollout(
            [
                "rollout", "scaler", "--repo", repository.path, "--model-version", "1", "--grpc-server", "127.0.0.1:\(unused)",
                "--timeout", "10",
            ] + server)
        XCTAssertEqual(unreachable.status, 3, unreachable.stdout + unreachable.stderr)
        let failure = (unreachableReport["failure"] as? String) ?? ""
        XCTAssertTrue(failure.contains("127.0.0.1:\(unused)") && failure.contains("candidate"), failure)
        XCTAssertTrue(try versions(process).contains(#""versions":["2"]"#))

        let usage = try tritonpack(
            "rollout", "scaler", "--repo", repository.path, "--model-version", "2", "--server", "http://127.0.0.1:\(http)",
            "--grpc-server", "127.0.0.1:\(grpcPort)")
        XCTAssertEqual(usage.status, 2, usage.stderr)
        XCTAssertTrue(usage.stderr.contains("--grpc-server is for --protocol grpc"), usage.stderr)
    }

    /// Servers whose repository is a bucket: the candidate is uploaded beside the model, checked,
    /// deleted; the bucket's config serves the new version last.
    func testRolloutOntoServersReadingABucket() async throws {
        let s3 = try await S3TestServer.shared()
        let bucket = try await s3.makeBucket("rollout")
        let url = s3.url(bucket: bucket, prefix: "repo")
        let work = try temporaryDirectory(self)
        let local = try makeRepository(work)
        // A bucket serves complete versions only: each with its manifest, as pack and promote write it.
        for version in 1...3 {
            let folder = local.appendingPathComponent("scaler/\(version)")
            try hashedManifest(of: folder, model: "scaler", version: Int64(version)).encoded()
                .write(to: folder.appendingPathComponent(Manifest.fileName))
        }
        let (store, _) = try s3Repository(s3, url)
        try await store.placeFolder(local.appendingPathComponent("scaler"), as: "scaler")
        // tritonserver reads the bucket with the S3 server's credentials from its environment.
        let names = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"]
        let saved = names.map { ProcessInfo.processInfo.environment[$0] }
        for name in names { setenv(name, s3.environment[name] ?? "", 1) }
        defer {
            for (name, value) in zip(names, saved) {
                if let value { setenv(name, value, 1) } else { unsetenv(name) }
            }
        }
        let empty = work.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        var servers: [(TritonProcess, String)] = []
        for name in ["one", "two"] {
            let http = freePort()
            let process = try TritonProcess(
                launcher: tritonServerLauncher, repository: empty,
                log: work.appendingPathComponent("\(name).log"), mode: "explicit", autoComplete: true,
                extraArguments: ["--model-repository", url, "--load-model", "scaler"], httpPort: http)
            try process.waitUntilReady(timeout: 120)
            try process.waitForModel("scaler", timeout: 120)
            servers.append((process, "http://127.0.0.1:\(http)"))
        }
        defer { for (process, _) in servers { process.stop() } }
        let input = local.appendingPathComponent("scaler/1/\(Manifest.goldenFolder)/INPUT_0.npy")
        let traffic = try Traffic(servers.map(\.1), input: input, work: work)
        let outcome = try await tritonpackS3(
            s3, ["rollout", "scaler", "--repo", url, "--model-version", "2"] + servers.flatMap { ["--server", $0.1] })
        let counts = try traffic.stop()
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        XCTAssertEqual(counts["failed"] as? Int, 0, "\(counts)")
        for (process, _) in servers { XCTAssertTrue(try versions(process).contains(#""versions":["2"]"#)) }
        let keys = try await allKeys(s3, bucket: bucket)
        XCTAssertFalse(keys.contains { $0.contains("candidate") }, "\(keys)")
        let config = try await s3.client(url).get("repo/scaler/config.pbtxt").map { String(decoding: $0, as: UTF8.self) } ?? ""
        XCTAssertTrue(config.contains("versions: [ 2 ]") || config.contains("versions: 2"), config)
    }
}
