import Foundation
import XCTest

@testable import TritonPackBundle
@testable import TritonPackKit
@testable import TritonPackLint
@testable import TritonPackModels
@testable import TritonPackRepository
@testable import TritonPackS3
@testable import TritonPackServing

/// The real tritonserver 2.51 polling an S3 repository on the real S3 server while tritonpack
/// packs, promotes, rolls back and prunes: every request answered, no partial version ever
/// loaded, and exactly the pinned versions served after each step.
final class S3PollingServerTests: XCTestCase {
    func testPollingServerServesThroughPromotionsRollbackAndPrune() async throws {
        let s3 = try await S3TestServer.shared()
        guard FileManager.default.fileExists(atPath: packageRoot.appendingPathComponent(".venv/bin/python").path) else {
            XCTFail("the project venv with tritonserver is missing: run `make setup` (make test does)")
            return
        }
        let root = try temporaryDirectory(self)
        let staging = try makeStagingRepository(
            root.appendingPathComponent("staging"), versions: [1, 2, 3], payloadBytes: 20 << 20)
        for version in 1...3 {
            // Each version checks at load time that its data file arrived whole, so a load of a
            // partial version would fail in the server log.
            let folder = staging.appendingPathComponent("identity_fp32/\(version)")
            try Data(checkingModel(bytes: 20 << 20).utf8).write(to: folder.appendingPathComponent("model.py"))
            let manifest = try hashedManifest(of: folder, model: "identity_fp32", version: Int64(version))
            try manifest.encoded().write(to: folder.appendingPathComponent(Manifest.fileName))
        }
        let bucket = try await s3.makeBucket("poll")
        let url = s3.url(bucket: bucket, prefix: "prod")
        func tritonpack(_ arguments: String...) async throws {
            let outcome = try await tritonpackS3(s3, arguments)
            XCTAssertEqual(outcome.status, 0, "\(arguments): \(outcome.stdout)\(outcome.stderr)")
        }
        try await tritonpack("promote", "identity_fp32", "--from", staging.path, "--to", url, "--model-version", "1")

        let server = try PollingTriton(
            repository: url, environment: s3.environment, log: root.appendingPathComponent("server.log"))
        addTeardownBlock { server.stop() }
        try await server.waitForVersions([1])
        let loop = RequestLoop(port: server.httpPort)
        loop.start()
        addTeardownBlock { loop.halt() }
        var steps: [String] = []
        func step(_ name: String, expect served: [Int64], _ body: () async throws -> Void) async throws {
            try await body()
            try await server.waitForVersions(served)
            try await Task.sleep(nanoseconds: 3_000_000_000)
            let now = try await server.readyVersions()
            XCTAssertEqual(now, served, "after \(name)")
            steps.append("\(name): serving \(now)")
        }
        // A OneFlow graph packed beside the served model: its objects go up unserved, and the
        // server's one load attempt comes after the switch, of the whole version. (The 2.51 wheel
        // has only the Python backend, so that attempt can only fail for the missing `oneflow`
        // backend, which the log must say and nothing else.)
        try await step("pack tiny_mlp", expect: [1]) {
            try await tritonpack(
                "pack", packageRoot.appendingPathComponent("samples/oneflow/tiny_mlp/model").path, "--repo", url, "--name",
                "tiny_mlp")
            try await server.waitForLog("loading: tiny_mlp:1")
        }
        try await step("promote 2", expect: [2]) {
            try await tritonpack("promote", "identity_fp32", "--from", staging.path, "--to", url, "--model-version", "2")
        }
        try await step("promote 3", expect: [3]) {
            try await tritonpack("promote", "identity_fp32", "--from", staging.path, "--to", url, "--model-version", "3")
        }
        try await step("rollback", expect: [2]) { try await tritonpack("rollback", "\(url)/identity_fp32") }
        try await step("prune", expect: [2]) { try await tritonpack("version", "prune", "\(url)/identity_fp32", "--keep", "0") }
        let (requests, failures) = try await loop.stop()

        let state = try await S3RepositoryStore(url, environment: s3.environment).state(model: "identity_fp32")
        XCTAssertEqual(state.versions.keys.sorted(), [2])
        let log = server.logText()
        let errorLines = log.split(separator: "\n").filter {
            $0.hasPrefix("E") && !$0.contains("CudaDriverHelper") && !$0.contains("NVML")
                && !$0.contains("at least one version must be available under the version policy")
                && !($0.contains("tiny_mlp") && $0.contains("oneflow") && $0.contains("unable to find"))
        }
        XCTAssertEqual(errorLines, [], log)
        XCTAssertFalse(log.split(separator: "\n").contains { $0.contains("failed to load") && !$0.contains("tiny_mlp") }, log)
        XCTAssertFalse(log.contains("partial"), log)
        let loads = log.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: "\"loading: ") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != "\"" })
        }
        // The server retries the OneFlow model (it cannot load without the backend) at later polls:
        // always version 1, the one switched to, never the first config's placeholder.
        XCTAssertEqual(Set(loads.filter { $0.hasPrefix("tiny_mlp:") }), ["tiny_mlp:1"], "\(loads)")
        XCTAssertEqual(
            loads.filter { $0.hasPrefix("identity_fp32:") },
            ["identity_fp32:1", "identity_fp32:2", "identity_fp32:3", "identity_fp32:2"],
            "one load per switch, none while uploading")
        XCTAssertEqual(failures, [])
        XCTAssertGreaterThan(requests, 50)
        print("S3 polling server: \(requests) requests answered; \(steps.joined(separator: "; "))")
    }

    /// A model.py that refuses to load unless weights.bin beside it has `bytes` bytes.
    private func checkingModel(bytes: Int) -> String {
        """
        import os
        import triton_python_backend_utils as pb_utils


        class TritonPythonModel:
            def initialize(self, args):
                folder = os.path.join(args["model_repository"], args["model_version"])
                size = os.path.getsize(os.path.join(folder, "weights.bin"))
                if size != \(bytes):
                    raise pb_utils.TritonModelException(f"partial version: weights.bin has {size} bytes")

            def execute(self, requests):
                return [
                    pb_utils.InferenceResponse(
                        output_tensors=[pb_utils.Tensor("OUTPUT0", pb_utils.get_input_tensor_by_name(r, "INPUT0").as_numpy())])
                    for r in requests
                ]

        """
    }
}

/// tritonserver polling an s3:// repository every second, with the S3 server's credentials.
final class PollingTriton: @unchecked Sendable {
    let process: SpawnedProcess
    let httpPort: Int
    let log: URL

    init(repository: String, environment: [String: String], log: URL) throws {
        self.log = log
        httpPort = freePort()
        process = try SpawnedProcess(
            tritonServerLauncher,
            [
                "--model-repository", repository, "--model-control-mode=poll", "--repository-poll-secs=1",
                "--disable-auto-complete-config", "--http-port", String(httpPort), "--grpc-port", String(freePort()),
                "--metrics-port", String(freePort()),
            ], environment: environment, output: log)
    }

    func logText() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// The versions of identity_fp32 the server reports READY.
    func readyVersions() async throws -> [Int64] {
        let (_, output) = try await SpawnedProcess.run(
            URL(fileURLWithPath: "/usr/bin/curl"),
            ["-s", "-m", "10", "-X", "POST", "http://127.0.0.1:\(httpPort)/v2/repository/index"])
        guard let entries = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] else { return [] }
        return entries.filter { $0["name"] as? String == "identity_fp32" && $0["state"] as? String == "READY" }
            .compactMap { ($0["version"] as? String).flatMap { Int64($0) } }.sorted()
    }

    func waitForLog(_ text: String, timeout: TimeInterval = 60) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if logText().contains(text) { return }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
        throw TritonPackError.io(nil, "tritonserver never logged '\(text)' within \(Int(timeout)) s:\n\(logText())")
    }

    func waitForVersions(_ versions: [Int64], timeout: TimeInterval = 90) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !process.isRunning { throw TritonPackError.io(nil, "tritonserver exited:\n\(logText())") }
            if try await readyVersions() == versions { return }
            try await Task.sleep(nanoseconds: 250_000_000)
        }
        throw TritonPackError.io(nil, "tritonserver did not serve exactly \(versions) within \(Int(timeout)) s:\n\(logText())")
    }

    /// SIGTERM, then SIGKILL after 30 s (from a teardown block, not a task).
    func stop() {
        process.signal(SIGTERM)
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { usleep(100_000) }
        process.signal(SIGKILL)
        _ = process.waitBlocking()
    }
}

/// Inference requests about 5 per second on a thread of their own until stopped.
final class RequestLoop: @unchecked Sendable {
    private let port: Int
    private let lock = NSLock()
    private var running = true
    private var requests = 0
    private var failures: [String] = []
    private var thread: Thread?
    private var done = false

    init(port: Int) { self.port = port }

    func start() {
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                let output = FileManager.default.temporaryDirectory.appendingPathComponent("request-\(UUID().uuidString)")
                defer { try? FileManager.default.removeItem(at: output) }
                let child = try? SpawnedProcess(
                    URL(fileURLWithPath: "/usr/bin/curl"),
                    [
                        "-s", "-m", "30", "-w", "\n%{http_code}", "-X", "POST", "-H", "Content-Type: application/json", "-d",
                        #"{"inputs":[{"name":"INPUT0","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"#,
                        "http://127.0.0.1:\(port)/v2/models/identity_fp32/infer",
                    ], environment: ProcessInfo.processInfo.environment, output: output)
                _ = child?.waitBlocking()
                let text = child?.text ?? ""
                lock.withLock {
                    requests += 1
                    if !text.hasSuffix("\n200") || !text.contains("[1.0,2.0,3.0,4.0]") { failures.append(text) }
                }
                usleep(200_000)
            }
            lock.withLock { done = true }
        }
        self.thread = thread
        thread.start()
    }

    func halt() { lock.withLock { running = false } }

    func stop() async throws -> (Int, [String]) {
        lock.withLock { running = false }
        while !lock.withLock({ done }) { try await Task.sleep(nanoseconds: 50_000_000) }
        return lock.withLock { (requests, failures) }
    }
}
